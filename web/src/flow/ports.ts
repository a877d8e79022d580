// The ports an edge may leave a node through, in display order. Mirrors NodeKind::ports() in
// crates/flow/src/document.rs.

import type { FlowNode } from './types';

export const HANDOVER_PORTS = [
  'handed_back',
  'resolved',
  'off_hours',
  'no_agent',
  'timeout',
  'cancelled',
] as const;

/** Optional ways out of a question when the customer asks for a person, to start over or to
 * cancel (unwired, the escape does its default). */
export const ESCAPE_PORTS = ['escape_human', 'escape_start_over', 'escape_cancel'] as const;

const ESCAPE_LABELS: Record<string, string> = {
  escape_human: 'asks for a person',
  escape_start_over: 'starts over',
  escape_cancel: 'cancels',
};

export function isEscapePort(port: string): boolean {
  return (ESCAPE_PORTS as readonly string[]).includes(port);
}

/** The `no_reply` port, present when the node says what to do about a silent customer. */
function noReply(node: Record<string, unknown>): string[] {
  return node.no_reply && typeof node.no_reply === 'object' ? ['no_reply'] : [];
}

function ids(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return list.map((item) =>
    item && typeof item === 'object' && typeof (item as { id?: unknown }).id === 'string'
      ? (item as { id: string }).id
      : '',
  );
}

/** Ports of a node, computed from its settings. Unknown types have none. */
export function portsOf(node: Pick<FlowNode, 'type'> & Record<string, unknown>): string[] {
  switch (node.type) {
    case 'trigger':
    case 'message':
      return ['next'];
    case 'options':
      return [...ids(node.options), 'no_match', ...ESCAPE_PORTS, ...noReply(node)];
    case 'collect_input':
      return ['next', 'invalid', ...ESCAPE_PORTS, ...noReply(node)];
    case 'branch':
      return [...ids(node.branches), 'else'];
    case 'ai_action':
      return node.task === 'classify'
        ? [...ids(node.categories), 'unknown', 'error']
        : ['next', 'error'];
    case 'ai_answer':
      return ['resolved', 'unanswered', 'human', ...noReply(node)];
    case 'webhook':
      return ['success', 'failure'];
    case 'handover':
      return [...HANDOVER_PORTS];
    case 'end':
    default:
      return [];
  }
}

/** Ports whose names come from the node's settings (options, branches, categories). */
export function isNamedPort(node: FlowNode, port: string): boolean {
  switch (node.type) {
    case 'options':
      return ids(node.options).includes(port);
    case 'branch':
      return ids(node.branches).includes(port);
    case 'ai_action':
      return node.task === 'classify' && ids(node.categories).includes(port);
    default:
      return false;
  }
}

/** Words for the fixed ports, as findings name their paths (crates/flow `NodeKind::port_label`). */
const PORT_WORDS: Record<string, string> = {
  ...ESCAPE_LABELS,
  invalid: 'no valid answer',
  no_match: 'no match',
  else: 'otherwise',
  human: 'asks for a person',
  no_reply: 'no reply',
  handed_back: 'handed back',
  off_hours: 'off hours',
  no_agent: 'no agent online',
  timeout: 'wait timed out',
  cancelled: 'wait cancelled',
};

/**
 * A label for a port on the canvas, in the words validation uses for its path: the option or
 * branch label when there is one, else words for the fixed ports (`handed_back` is "handed
 * back"); other ids (next, success, a category) as they are.
 */
export function portLabel(node: FlowNode, port: string): string {
  const find = (list: unknown, key: string): string | undefined => {
    if (!Array.isArray(list)) return undefined;
    const item = list.find(
      (c) => c && typeof c === 'object' && (c as { id?: unknown }).id === port,
    ) as Record<string, unknown> | undefined;
    const v = item?.[key];
    return typeof v === 'string' && v.trim() !== '' ? v : undefined;
  };
  const named = node.type === 'options' ? find(node.options, 'label') : node.type === 'branch' ? find(node.branches, 'label') : undefined;
  return named ?? PORT_WORDS[port] ?? port;
}
