// What changed between the last published version and the draft, for the Publish dialog.
// Pure: compares two documents, knows nothing about the API.

import type { Edge, FlowDocument, FlowNode } from '../flow/types';

export interface NodeRef {
  id: string;
  type: string;
}

export interface NodeChange extends NodeRef {
  /** Top-level settings that differ (never `position`), sorted. */
  fields: string[];
}

export interface FlowChanges {
  /** Nothing was published yet: everything is new, only counts are meaningful. */
  firstVersion: boolean;
  nodesAdded: NodeRef[];
  nodesRemoved: NodeRef[];
  nodesChanged: NodeChange[];
  /** Nodes whose only difference is their position on the canvas. */
  moved: number;
  edgesAdded: Edge[];
  edgesRemoved: Edge[];
  nameChanged: { from: string; to: string } | null;
  /** Other flow-level fields that differ: `description`, `variables`. */
  flowFieldsChanged: string[];
  tests: { added: number; removed: number; changed: number };
  isEmpty: boolean;
}

/** Structural equality of JSON values; object key order does not matter. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((v, i) => sameJson(v, b[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
  for (const k of keys) if (!sameJson(ao[k], bo[k])) return false;
  return true;
}

/** `from.port → to`, as the dialog shows an edge. */
export function edgeLabel(e: Edge): string {
  return `${e.from}.${e.port} → ${e.to}`;
}

function edgeId(e: Edge): string {
  return JSON.stringify([e.from, e.port, e.to]);
}

function changedFields(a: FlowNode, b: FlowNode): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  keys.delete('id');
  keys.delete('position');
  return [...keys].filter((k) => !sameJson(a[k], b[k])).sort();
}

function testName(t: unknown, i: number): string {
  if (t && typeof t === 'object' && typeof (t as { name?: unknown }).name === 'string') return `name:${(t as { name: string }).name}`;
  return `index:${i}`;
}

function compareTests(before: unknown[], after: unknown[]) {
  const old = new Map(before.map((t, i) => [testName(t, i), t] as const));
  const now = new Map(after.map((t, i) => [testName(t, i), t] as const));
  let added = 0;
  let removed = 0;
  let changed = 0;
  for (const [k, t] of now) {
    if (!old.has(k)) added++;
    else if (!sameJson(old.get(k), t)) changed++;
  }
  for (const k of old.keys()) if (!now.has(k)) removed++;
  return { added, removed, changed };
}

/** The changes from `published` (null when never published) to `draft`. */
export function flowChanges(published: FlowDocument | null, draft: FlowDocument): FlowChanges {
  const base: FlowDocument = published ?? { format: 1, name: draft.name, nodes: [], edges: [], tests: [] };

  const oldNodes = new Map(base.nodes.map((n) => [n.id, n]));
  const newNodes = new Map(draft.nodes.map((n) => [n.id, n]));
  const nodesAdded: NodeRef[] = [];
  const nodesChanged: NodeChange[] = [];
  let moved = 0;
  for (const n of draft.nodes) {
    const o = oldNodes.get(n.id);
    if (!o) {
      nodesAdded.push({ id: n.id, type: n.type });
      continue;
    }
    const fields = changedFields(o, n);
    if (fields.length > 0) nodesChanged.push({ id: n.id, type: n.type, fields });
    else if (!sameJson(o.position, n.position)) moved++;
  }
  const nodesRemoved: NodeRef[] = base.nodes.filter((n) => !newNodes.has(n.id)).map((n) => ({ id: n.id, type: n.type }));

  const oldEdges = base.edges ?? [];
  const newEdges = draft.edges ?? [];
  const oldEdgeIds = new Set(oldEdges.map(edgeId));
  const newEdgeIds = new Set(newEdges.map(edgeId));
  const edgesAdded = newEdges.filter((e) => !oldEdgeIds.has(edgeId(e)));
  const edgesRemoved = oldEdges.filter((e) => !newEdgeIds.has(edgeId(e)));

  const nameChanged = published && published.name !== draft.name ? { from: published.name, to: draft.name } : null;
  const flowFieldsChanged = published
    ? (['description', 'variables'] as const).filter((k) => !sameJson(published[k], draft[k]))
    : [];
  const tests = compareTests(base.tests ?? [], draft.tests ?? []);

  const isEmpty =
    !!published &&
    nodesAdded.length === 0 &&
    nodesRemoved.length === 0 &&
    nodesChanged.length === 0 &&
    moved === 0 &&
    edgesAdded.length === 0 &&
    edgesRemoved.length === 0 &&
    nameChanged === null &&
    flowFieldsChanged.length === 0 &&
    tests.added + tests.removed + tests.changed === 0;

  return {
    firstVersion: published === null,
    nodesAdded,
    nodesRemoved,
    nodesChanged,
    moved,
    edgesAdded,
    edgesRemoved,
    nameChanged,
    flowFieldsChanged: [...flowFieldsChanged],
    tests,
    isEmpty,
  };
}

export interface ChangeLine {
  kind: 'added' | 'removed' | 'changed' | 'info';
  text: string;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * The changes as short lines of plain text for the dialog. `typeLabel` names a node type for
 * people (e.g. `Collect Input`). The first version is summarised as counts only.
 */
export function changeLines(c: FlowChanges, typeLabel: (type: string) => string = (t) => t): ChangeLine[] {
  if (c.firstVersion) {
    const parts = [plural(c.nodesAdded.length, 'node', 'nodes'), plural(c.edgesAdded.length, 'connection', 'connections')];
    if (c.tests.added > 0) parts.push(plural(c.tests.added, 'scripted test', 'scripted tests'));
    return [{ kind: 'info', text: `First version: ${parts.join(', ')}.` }];
  }
  const out: ChangeLine[] = [];
  if (c.nameChanged) out.push({ kind: 'changed', text: `✎ Renamed the flow to “${c.nameChanged.to}”` });
  for (const f of c.flowFieldsChanged) out.push({ kind: 'changed', text: `✎ Changed the flow’s ${f}` });
  for (const n of c.nodesAdded) out.push({ kind: 'added', text: `+ Added ${typeLabel(n.type)} \`${n.id}\`` });
  for (const n of c.nodesRemoved) out.push({ kind: 'removed', text: `− Removed ${typeLabel(n.type)} \`${n.id}\`` });
  for (const n of c.nodesChanged) out.push({ kind: 'changed', text: `✎ Changed \`${n.id}\`: ${n.fields.join(', ')}` });
  for (const e of c.edgesAdded) out.push({ kind: 'added', text: `+ Connected \`${edgeLabel(e)}\`` });
  for (const e of c.edgesRemoved) out.push({ kind: 'removed', text: `− Disconnected \`${edgeLabel(e)}\`` });
  const t = c.tests;
  if (t.added > 0) out.push({ kind: 'added', text: `+ ${plural(t.added, 'scripted test', 'scripted tests')} added` });
  if (t.removed > 0) out.push({ kind: 'removed', text: `− ${plural(t.removed, 'scripted test', 'scripted tests')} removed` });
  if (t.changed > 0) out.push({ kind: 'changed', text: `✎ ${plural(t.changed, 'scripted test', 'scripted tests')} changed` });
  if (c.moved > 0) out.push({ kind: 'info', text: `${plural(c.moved, 'node', 'nodes')} moved` });
  return out;
}
