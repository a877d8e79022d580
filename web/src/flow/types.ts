// The flow document, format 1 (docs/flow-format.md). The builder edits this JSON directly: no
// other model sits between the canvas and the document, so what is saved is exactly what was
// loaded plus the edits (positions in `position`, nothing added).

export type NodeType =
  | 'trigger'
  | 'message'
  | 'options'
  | 'collect_input'
  | 'branch'
  | 'ai_action'
  | 'ai_answer'
  | 'webhook'
  | 'handover'
  | 'end';

export const NODE_TYPES: readonly NodeType[] = [
  'trigger',
  'message',
  'options',
  'collect_input',
  'branch',
  'ai_action',
  'ai_answer',
  'webhook',
  'handover',
  'end',
];

export interface Position {
  x: number;
  y: number;
}

export interface Choice {
  id: string;
  label: string;
  synonyms?: string[];
}

export interface Condition {
  variable?: string;
  op: string;
  value?: unknown;
  team?: string;
}

export interface BranchCase {
  id: string;
  label?: string;
  match?: 'all' | 'any';
  conditions: Condition[];
}

export interface Category {
  id: string;
  description?: string;
  examples?: string[];
}

export interface ExtractField {
  variable: string;
  kind: string;
  pattern?: string;
  description?: string;
}

/**
 * One node: `id`, `type`, `position` and the type's settings. Settings are kept as loose JSON
 * so that a document round-trips unchanged; typed accessors live next to the property panels.
 */
export interface FlowNode {
  id: string;
  type: string;
  position?: Position;
  [setting: string]: unknown;
}

export interface Edge {
  from: string;
  port: string;
  to: string;
}

export interface VariableDecl {
  name: string;
  type?: string;
  description?: string;
}

export interface FlowDocument {
  format: 1;
  name: string;
  description?: string;
  variables?: VariableDecl[];
  nodes: FlowNode[];
  edges?: Edge[];
  tests?: unknown[];
  /** Warnings marked as intended (docs/validation.md#accepted-warnings). */
  accepted?: AcceptedWarning[];
}

/** A warning marked as intended: every warning with this code at this node (and port). */
export interface AcceptedWarning {
  code: string;
  node?: string;
  port?: string;
  note?: string;
}

/** A validation finding, as the server returns it (crates/flow/src/diagnostic.rs). */
export interface Diagnostic {
  code: string;
  severity: 'error' | 'warning';
  node?: string;
  port?: string;
  location?: string;
  message: string;
  hint?: string;
  /** A warning the document's `accepted` list marks as intended. */
  accepted?: boolean;
}
