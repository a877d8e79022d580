import { describe, expect, it } from 'vitest';
import { exampleFlows } from '../test/examples';
import {
  addNode,
  connect,
  copyNodes,
  edgeKey,
  freePorts,
  keyedEdges,
  moveNodes,
  newFlowDocument,
  pasteNodes,
  readDocument,
  reconnect,
  removeElements,
  replaceNode,
} from './document';
import { layeredLayout } from './layout';
import type { FlowDocument, FlowNode } from './types';

const TOP_LEVEL = new Set(['format', 'name', 'description', 'variables', 'nodes', 'edges', 'tests']);

/** What format 1 allows: only known top-level fields, nodes with id/type, edges with from/port/to. */
function expectFormat1(doc: FlowDocument) {
  expect(doc.format).toBe(1);
  for (const k of Object.keys(doc)) expect(TOP_LEVEL.has(k), `top-level field ${k}`).toBe(true);
  for (const n of doc.nodes) {
    expect(typeof n.id).toBe('string');
    expect(typeof n.type).toBe('string');
    if (n.position) expect(Object.keys(n.position).sort()).toEqual(['x', 'y']);
  }
  for (const e of doc.edges ?? []) expect(Object.keys(e).sort()).toEqual(['from', 'port', 'to']);
}

describe('document round trip', () => {
  it('every example flow saves back exactly as it was read', () => {
    const flows = exampleFlows();
    expect(flows.length).toBeGreaterThanOrEqual(5);
    for (const { file, text } of flows) {
      const original = JSON.parse(text);
      const doc = readDocument(JSON.parse(text));
      expect(JSON.parse(JSON.stringify(doc)), file).toEqual(original);
      expectFormat1(doc);
    }
  });

  it('edits keep format 1, leave untouched fields alone and save positions in `position`', () => {
    for (const { file, text } of exampleFlows()) {
      const original = JSON.parse(text) as FlowDocument;
      let doc = readDocument(JSON.parse(text));
      const first = doc.nodes[0] as FlowNode;
      doc = moveNodes(doc, new Map([[first.id, { x: 12.4, y: -7.6 }]]));
      expect(doc.nodes[0]?.position, file).toEqual({ x: 12, y: -8 });
      doc = layeredLayout(doc).size ? moveNodes(doc, layeredLayout(doc)) : doc;
      expectFormat1(doc);
      // Only positions changed.
      const strip = (d: FlowDocument) => ({ ...d, nodes: d.nodes.map(({ position: _p, ...rest }) => rest) });
      expect(strip(doc), file).toEqual(strip(original));
      expect(doc.tests).toEqual(original.tests);
    }
  });

  it('refuses what is not a format 1 document', () => {
    expect(() => readDocument([])).toThrow();
    expect(() => readDocument({ format: 2, name: 'x', nodes: [] })).toThrow(/format 1/);
    expect(() => readDocument({ format: 1, name: 'x' })).toThrow(/nodes/);
  });

  it('a new flow has just a trigger', () => {
    const doc = newFlowDocument('Refunds');
    expect(doc).toEqual({ format: 1, name: 'Refunds', nodes: [{ id: 'start', type: 'trigger', position: { x: 0, y: 0 } }], edges: [] });
  });
});

describe('edits', () => {
  const base = () => newFlowDocument('Test');

  it('adds nodes with fresh ids and connects them from a port', () => {
    let doc = base();
    const a = addNode(doc, 'message', { x: 300.7, y: 0 }, { node: 'start', port: 'next' });
    doc = a.doc;
    expect(a.id).toBe('message_1');
    expect(doc.nodes[1]).toEqual({ id: 'message_1', type: 'message', text: '', position: { x: 301, y: 0 } });
    expect(doc.edges).toEqual([{ from: 'start', port: 'next', to: 'message_1' }]);
    const b = addNode(doc, 'message', { x: 600, y: 0 });
    expect(b.id).toBe('message_2');
    expect(b.doc.edges).toHaveLength(1);
    const c = addNode(b.doc, 'collect_input', { x: 0, y: 0 });
    expect(c.id).toBe('ask_1');
    expectFormat1(c.doc);
  });

  it('a port leads to one node: connecting it again replaces the edge', () => {
    let doc = addNode(base(), 'message', { x: 0, y: 0 }).doc;
    doc = addNode(doc, 'end', { x: 0, y: 0 }).doc;
    doc = connect(doc, 'start', 'next', 'message_1');
    doc = connect(doc, 'start', 'next', 'end_1');
    expect(doc.edges).toEqual([{ from: 'start', port: 'next', to: 'end_1' }]);
  });

  it('free ports are the unwired ones', () => {
    let doc = addNode(base(), 'handover', { x: 0, y: 0 }, { node: 'start', port: 'next' }).doc;
    doc = addNode(doc, 'message', { x: 0, y: 0 }, { node: 'handover_1', port: 'handed_back' }).doc;
    expect(freePorts(doc, doc.nodes[1] as FlowNode)).toEqual(['resolved', 'off_hours', 'no_agent', 'timeout', 'cancelled']);
  });

  it('a question\'s escape ports are free only when asked for, so a new node follows its answers', () => {
    let doc = addNode(base(), 'collect_input', { x: 0, y: 0 }, { node: 'start', port: 'next' }).doc;
    doc = addNode(doc, 'end', { x: 0, y: 0 }, { node: 'ask_1', port: 'next' }).doc;
    doc = addNode(doc, 'end', { x: 0, y: 0 }, { node: 'ask_1', port: 'invalid' }).doc;
    const ask = doc.nodes.find((n) => n.id === 'ask_1') as FlowNode;
    expect(freePorts(doc, ask)).toEqual([]);
    expect(freePorts(doc, ask, true)).toEqual(['escape_human', 'escape_start_over', 'escape_cancel']);
  });

  it('reconnects an edge to another target or port', () => {
    let doc = addNode(base(), 'collect_input', { x: 0, y: 0 }, { node: 'start', port: 'next' }).doc;
    doc = addNode(doc, 'end', { x: 0, y: 0 }, { node: 'ask_1', port: 'next' }).doc;
    doc = addNode(doc, 'message', { x: 0, y: 0 }).doc;
    const key = edgeKey({ from: 'ask_1', port: 'next', to: 'end_1' });
    doc = reconnect(doc, key, { from: 'ask_1', port: 'invalid', to: 'message_1' });
    expect(doc.edges).toEqual([
      { from: 'start', port: 'next', to: 'ask_1' },
      { from: 'ask_1', port: 'invalid', to: 'message_1' },
    ]);
  });

  it('removes nodes with their edges, and edges by key', () => {
    let doc = addNode(base(), 'message', { x: 0, y: 0 }, { node: 'start', port: 'next' }).doc;
    doc = addNode(doc, 'end', { x: 0, y: 0 }, { node: 'message_1', port: 'next' }).doc;
    const withoutEdge = removeElements(doc, [], [edgeKey({ from: 'start', port: 'next', to: 'message_1' })]);
    expect(withoutEdge.nodes).toHaveLength(3);
    expect(withoutEdge.edges).toEqual([{ from: 'message_1', port: 'next', to: 'end_1' }]);
    const withoutNode = removeElements(doc, ['message_1'], []);
    expect(withoutNode.nodes.map((n) => n.id)).toEqual(['start', 'end_1']);
    expect(withoutNode.edges).toEqual([]);
  });

  it('renaming a node or a port moves its edges; removing a port removes its edge', () => {
    let doc = addNode(base(), 'options', { x: 0, y: 0 }, { node: 'start', port: 'next' }).doc;
    doc = addNode(doc, 'end', { x: 0, y: 0 }, { node: 'options_1', port: 'option_1' }).doc;
    doc = addNode(doc, 'end', { x: 0, y: 0 }, { node: 'options_1', port: 'no_match' }).doc;
    const node = doc.nodes[1] as FlowNode;
    // Rename the option's id (its port).
    doc = replaceNode(doc, 'options_1', { ...node, options: [{ id: 'card', label: 'Card' }] }, { option_1: 'card' });
    expect(doc.edges).toContainEqual({ from: 'options_1', port: 'card', to: 'end_1' });
    // Rename the node.
    doc = replaceNode(doc, 'options_1', { ...(doc.nodes[1] as FlowNode), id: 'refund_method' });
    expect(doc.edges).toEqual([
      { from: 'start', port: 'next', to: 'refund_method' },
      { from: 'refund_method', port: 'card', to: 'end_1' },
      { from: 'refund_method', port: 'no_match', to: 'end_2' },
    ]);
    // Remove the option: its edge goes, the others stay.
    doc = replaceNode(doc, 'refund_method', { ...(doc.nodes[1] as FlowNode), options: [] });
    expect(doc.edges).toEqual([
      { from: 'start', port: 'next', to: 'refund_method' },
      { from: 'refund_method', port: 'no_match', to: 'end_2' },
    ]);
  });

  it('copy and paste: fresh ids, edges between the copied nodes, moved by the offset', () => {
    let doc = addNode(base(), 'message', { x: 100, y: 0 }, { node: 'start', port: 'next' }).doc;
    doc = addNode(doc, 'end', { x: 400, y: 0 }, { node: 'message_1', port: 'next' }).doc;
    const clip = copyNodes(doc, ['message_1', 'end_1']);
    expect(clip?.edges).toEqual([{ from: 'message_1', port: 'next', to: 'end_1' }]);
    const pasted = pasteNodes(doc, clip!, { x: 40, y: 40 });
    expect(pasted.ids).toEqual(['message_2', 'end_2']);
    expect(pasted.doc.nodes.slice(3).map((n) => n.position)).toEqual([{ x: 140, y: 40 }, { x: 440, y: 40 }]);
    expect(pasted.doc.edges).toContainEqual({ from: 'message_2', port: 'next', to: 'end_2' });
    expect(copyNodes(doc, [])).toBeNull();
    expectFormat1(pasted.doc);
  });

  it('keys exact duplicate edges apart', () => {
    const doc: FlowDocument = { ...base(), edges: [{ from: 'a', port: 'p', to: 'b' }, { from: 'a', port: 'p', to: 'b' }] };
    const keys = keyedEdges(doc).map((k) => k.key);
    expect(new Set(keys).size).toBe(2);
  });
});
