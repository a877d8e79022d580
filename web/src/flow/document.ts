// Pure edits of a flow document (format 1). Every function returns a new document and leaves
// fields it does not touch exactly as they were, so a loaded document saves back unchanged.

import { nodeInfo } from './nodeTypes';
import { isEscapePort, portsOf } from './ports';
import type { Edge, FlowDocument, FlowNode, NodeType, Position } from './types';

export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function newFlowDocument(name: string): FlowDocument {
  return {
    format: 1,
    name,
    nodes: [{ id: 'start', type: 'trigger', position: { x: 0, y: 0 } }],
    edges: [],
  };
}

export function edgesOf(doc: FlowDocument): Edge[] {
  return Array.isArray(doc.edges) ? doc.edges : [];
}

export function nodeById(doc: FlowDocument, id: string): FlowNode | undefined {
  return doc.nodes.find((n) => n.id === id);
}

export function positionOf(node: FlowNode): Position {
  const p = node.position;
  return p && typeof p.x === 'number' && typeof p.y === 'number' ? p : { x: 0, y: 0 };
}

/** Stable key of an edge on the canvas; `index` disambiguates exact duplicates. */
export function edgeKey(e: Edge, duplicate = 0): string {
  const base = `${e.from}:${e.port}->${e.to}`;
  return duplicate ? `${base}#${duplicate}` : base;
}

/** Edges with their canvas keys, in document order. */
export function keyedEdges(doc: FlowDocument): Array<{ key: string; edge: Edge; index: number }> {
  return keyEdges(edgesOf(doc));
}

/** `keyedEdges` of a list of edges. */
export function keyEdges(edges: Edge[] | undefined): Array<{ key: string; edge: Edge; index: number }> {
  const seen = new Map<string, number>();
  return (Array.isArray(edges) ? edges : []).map((edge, index) => {
    const base = edgeKey(edge);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    return { key: edgeKey(edge, n), edge, index };
  });
}

/** A fresh node id: `<prefix>_<n>` not used in the document (or in `taken`). */
export function uniqueId(doc: FlowDocument, prefix: string, taken: Set<string> = new Set()): string {
  const used = new Set(doc.nodes.map((n) => n.id));
  for (let n = 1; ; n++) {
    const id = `${prefix}_${n}`;
    if (!used.has(id) && !taken.has(id)) return id;
  }
}

function roundPosition(p: Position): Position {
  return { x: Math.round(p.x), y: Math.round(p.y) };
}

/** Adds a node of `type` at `position`; with `from`, connects that node's port to it. */
export function addNode(
  doc: FlowDocument,
  type: NodeType,
  position: Position,
  from?: { node: string; port: string },
): { doc: FlowDocument; id: string } {
  const info = nodeInfo(type);
  const id = uniqueId(doc, info?.idPrefix ?? type);
  const node: FlowNode = { id, type, ...(info ? info.defaults() : {}), position: roundPosition(position) };
  let next: FlowDocument = { ...doc, nodes: [...doc.nodes, node] };
  if (from) next = connect(next, from.node, from.port, id);
  return { doc: next, id };
}

/** Connects `from`.`port` to `to`; a port leads to one node, so an existing edge is replaced. */
export function connect(doc: FlowDocument, from: string, port: string, to: string): FlowDocument {
  const edges = edgesOf(doc).filter((e) => !(e.from === from && e.port === port));
  return { ...doc, edges: [...edges, { from, port, to }] };
}

/** Moves the edge with `key` to a new source port and/or target. */
export function reconnect(doc: FlowDocument, key: string, next: Edge): FlowDocument {
  const keyed = keyedEdges(doc);
  const found = keyed.find((k) => k.key === key);
  if (!found) return doc;
  const edges = keyed
    .filter((k) => k.key !== key)
    .filter((k) => !(k.edge.from === next.from && k.edge.port === next.port))
    .map((k) => k.edge);
  edges.splice(Math.min(found.index, edges.length), 0, { ...next });
  return { ...doc, edges };
}

/** Removes nodes (with their edges) and edges by key. */
export function removeElements(doc: FlowDocument, nodeIds: Iterable<string>, edgeKeys: Iterable<string>): FlowDocument {
  const nodes = new Set(nodeIds);
  const keys = new Set(edgeKeys);
  if (nodes.size === 0 && keys.size === 0) return doc;
  const edges = keyedEdges(doc)
    .filter((k) => !keys.has(k.key) && !nodes.has(k.edge.from) && !nodes.has(k.edge.to))
    .map((k) => k.edge);
  const next: FlowDocument = { ...doc, nodes: doc.nodes.filter((n) => !nodes.has(n.id)) };
  if (doc.edges !== undefined || edges.length) next.edges = edges;
  return next;
}

/** Sets node positions (rounded to whole pixels). */
export function moveNodes(doc: FlowDocument, positions: Map<string, Position>): FlowDocument {
  if (positions.size === 0) return doc;
  return {
    ...doc,
    nodes: doc.nodes.map((n) => {
      const p = positions.get(n.id);
      return p ? { ...n, position: roundPosition(p) } : n;
    }),
  };
}

/**
 * Replaces a node's settings. `renamedPorts` says which ports were renamed (old → new) so their
 * edges follow; edges of ports the node no longer has are removed. A changed `id` renames the
 * node, and its edges follow.
 */
export function replaceNode(
  doc: FlowDocument,
  id: string,
  updated: FlowNode,
  renamedPorts: Record<string, string> = {},
): FlowDocument {
  const old = nodeById(doc, id);
  if (!old) return doc;
  const before = new Set(portsOf(old));
  const after = new Set(portsOf(updated));
  const newId = updated.id;
  let edges: Edge[] | undefined = doc.edges;
  if (edges) {
    edges = edges
      .map((e) => {
        let next = e;
        if (e.from === id && renamedPorts[e.port] !== undefined) next = { ...next, port: renamedPorts[e.port] as string };
        if (newId !== id) {
          if (next.from === id) next = { ...next, from: newId };
          if (next.to === id) next = { ...next, to: newId };
        }
        return next;
      })
      .filter((e) => !(e.from === newId && before.has(e.port) && !after.has(e.port) && !Object.values(renamedPorts).includes(e.port)));
  }
  const next: FlowDocument = { ...doc, nodes: doc.nodes.map((n) => (n.id === id ? updated : n)) };
  if (edges !== undefined) next.edges = edges;
  return next;
}

export interface Clipboard {
  nodes: FlowNode[];
  edges: Edge[];
}

/** The selected nodes and the edges between them. */
export function copyNodes(doc: FlowDocument, ids: Iterable<string>): Clipboard | null {
  const set = new Set(ids);
  const nodes = doc.nodes.filter((n) => set.has(n.id));
  if (nodes.length === 0) return null;
  const edges = edgesOf(doc).filter((e) => set.has(e.from) && set.has(e.to));
  return structuredClone({ nodes, edges });
}

/** Pastes a clipboard with fresh ids, moved by `offset`; returns the new ids. */
export function pasteNodes(doc: FlowDocument, clip: Clipboard, offset: Position): { doc: FlowDocument; ids: string[] } {
  const taken = new Set<string>();
  const rename = new Map<string, string>();
  const nodes: FlowNode[] = [];
  for (const n of clip.nodes) {
    // A pasted trigger would make a second trigger: keep it, validation says so.
    const base = n.id.replace(/_\d+$/, '').replace(/_copy$/, '') || 'node';
    const id = uniqueId(doc, base, taken);
    taken.add(id);
    rename.set(n.id, id);
    const p = positionOf(n);
    nodes.push({ ...structuredClone(n), id, position: roundPosition({ x: p.x + offset.x, y: p.y + offset.y }) });
  }
  const edges = clip.edges
    .filter((e) => rename.has(e.from) && rename.has(e.to))
    .map((e) => ({ from: rename.get(e.from) as string, port: e.port, to: rename.get(e.to) as string }));
  return {
    doc: { ...doc, nodes: [...doc.nodes, ...nodes], edges: [...edgesOf(doc), ...edges] },
    ids: nodes.map((n) => n.id),
  };
}

/** Ports of `node` that no edge leaves through (escape ports only when asked: a new node goes
 * after a question's answers, not after its escapes). */
export function freePorts(doc: FlowDocument, node: FlowNode, withEscapes = false): string[] {
  const wired = new Set(edgesOf(doc).filter((e) => e.from === node.id).map((e) => e.port));
  return portsOf(node).filter((p) => !wired.has(p) && (withEscapes || !isEscapePort(p)));
}

/**
 * Reads a document from JSON text as the builder needs it (an object with format 1 and a list of
 * nodes); anything else is refused with a sentence.
 */
export function readDocument(value: unknown): FlowDocument {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('a flow document is a JSON object');
  const doc = value as Record<string, unknown>;
  if (doc.format !== 1) throw new Error('this is not a format 1 flow document ("format": 1)');
  if (!Array.isArray(doc.nodes)) throw new Error('the document has no list of nodes');
  return value as FlowDocument;
}
