import { describe, expect, it } from 'vitest';
import type { FlowDocument, FlowNode } from '../flow/types';
import { changeLines, flowChanges } from './changes';

function published(): FlowDocument {
  return {
    format: 1,
    name: 'Order question',
    nodes: [
      { id: 'start', type: 'trigger', position: { x: 0, y: 0 } },
      { id: 'hello', type: 'message', text: 'Hi!', position: { x: 0, y: 100 } },
      { id: 'ask_1', type: 'collect_input', text: 'Email?', variable: 'email', error_text: 'Try again', position: { x: 0, y: 200 } },
      { id: 'handover_1', type: 'handover', team: 'support', position: { x: 0, y: 300 } },
    ],
    edges: [
      { from: 'start', port: 'next', to: 'hello' },
      { from: 'hello', port: 'next', to: 'ask_1' },
    ],
    tests: [{ name: 'greets', steps: [{ expect_reply: 'Hi!' }] }],
  };
}

const clone = (d: FlowDocument): FlowDocument => JSON.parse(JSON.stringify(d)) as FlowDocument;

function node(d: FlowDocument, i: number): FlowNode {
  const n = d.nodes[i];
  if (!n) throw new Error(`no node ${i}`);
  return n;
}

describe('flowChanges', () => {
  it('reports the first version as counts only', () => {
    const draft = published();
    const c = flowChanges(null, draft);
    expect(c.firstVersion).toBe(true);
    expect(c.isEmpty).toBe(false);
    expect(c.nodesAdded).toHaveLength(4);
    expect(c.edgesAdded).toHaveLength(2);
    expect(c.tests.added).toBe(1);
    expect(c.nameChanged).toBeNull();
    expect(changeLines(c)).toEqual([{ kind: 'info', text: 'First version: 4 nodes, 2 connections, 1 scripted test.' }]);
  });

  it('reports nothing when the draft equals the published version', () => {
    const c = flowChanges(published(), clone(published()));
    expect(c.isEmpty).toBe(true);
    expect(c.moved).toBe(0);
    expect(changeLines(c)).toEqual([]);
  });

  it('ignores the order of keys inside settings', () => {
    const draft = clone(published());
    draft.nodes[2] = { variable: 'email', error_text: 'Try again', text: 'Email?', position: { y: 200, x: 0 }, type: 'collect_input', id: 'ask_1' };
    expect(flowChanges(published(), draft).isEmpty).toBe(true);
  });

  it('lists added, removed and changed nodes', () => {
    const draft = clone(published());
    draft.nodes = draft.nodes.filter((n) => n.id !== 'hello');
    draft.nodes.push({ id: 'ask_email', type: 'collect_input', text: 'Order email?', variable: 'order_email' });
    const ask = draft.nodes.find((n) => n.id === 'ask_1')!;
    ask.text = 'Your email?';
    ask.error_text = 'That is not an email';
    const c = flowChanges(published(), draft);
    expect(c.nodesAdded).toEqual([{ id: 'ask_email', type: 'collect_input' }]);
    expect(c.nodesRemoved).toEqual([{ id: 'hello', type: 'message' }]);
    expect(c.nodesChanged).toEqual([{ id: 'ask_1', type: 'collect_input', fields: ['error_text', 'text'] }]);
    expect(c.isEmpty).toBe(false);
    const texts = changeLines(c, (t) => (t === 'collect_input' ? 'Collect Input' : t === 'message' ? 'Message' : t)).map((l) => l.text);
    expect(texts).toContain('+ Added Collect Input `ask_email`');
    expect(texts).toContain('− Removed Message `hello`');
    expect(texts).toContain('✎ Changed `ask_1`: error_text, text');
  });

  it('counts a removed setting as a changed field', () => {
    const draft = clone(published());
    delete node(draft, 3).team;
    expect(flowChanges(published(), draft).nodesChanged).toEqual([{ id: 'handover_1', type: 'handover', fields: ['team'] }]);
  });

  it('counts position-only edits as moves, not changes', () => {
    const draft = clone(published());
    node(draft, 0).position = { x: 40, y: 0 };
    node(draft, 1).position = { x: 10, y: 110 };
    delete node(draft, 3).position;
    const c = flowChanges(published(), draft);
    expect(c.nodesChanged).toEqual([]);
    expect(c.moved).toBe(3);
    expect(c.isEmpty).toBe(false);
    expect(changeLines(c).map((l) => l.text)).toEqual(['3 nodes moved']);
  });

  it('does not count a moved node whose settings also changed as moved', () => {
    const draft = clone(published());
    node(draft, 1).position = { x: 5, y: 5 };
    node(draft, 1).text = 'Hello!';
    const c = flowChanges(published(), draft);
    expect(c.moved).toBe(0);
    expect(c.nodesChanged).toEqual([{ id: 'hello', type: 'message', fields: ['text'] }]);
  });

  it('lists connected and disconnected edges', () => {
    const draft = clone(published());
    draft.edges = [{ from: 'start', port: 'next', to: 'hello' }, { from: 'ask_1', port: 'next', to: 'handover_1' }];
    const c = flowChanges(published(), draft);
    expect(c.edgesAdded).toEqual([{ from: 'ask_1', port: 'next', to: 'handover_1' }]);
    expect(c.edgesRemoved).toEqual([{ from: 'hello', port: 'next', to: 'ask_1' }]);
    const texts = changeLines(c).map((l) => l.text);
    expect(texts).toEqual(['+ Connected `ask_1.next → handover_1`', '− Disconnected `hello.next → ask_1`']);
  });

  it('treats a re-targeted edge as one removed and one added', () => {
    const draft = clone(published());
    draft.edges = [{ from: 'start', port: 'next', to: 'hello' }, { from: 'hello', port: 'next', to: 'handover_1' }];
    const c = flowChanges(published(), draft);
    expect(c.edgesAdded).toHaveLength(1);
    expect(c.edgesRemoved).toHaveLength(1);
  });

  it('notices a renamed flow and scripted test changes', () => {
    const draft = clone(published());
    draft.name = 'Order help';
    draft.tests = [
      { name: 'greets', steps: [{ expect_reply: 'Hello!' }] },
      { name: 'hands over', steps: [] },
    ];
    const c = flowChanges(published(), draft);
    expect(c.nameChanged).toEqual({ from: 'Order question', to: 'Order help' });
    expect(c.tests).toEqual({ added: 1, removed: 0, changed: 1 });
    draft.tests = [];
    expect(flowChanges(published(), draft).tests).toEqual({ added: 0, removed: 1, changed: 0 });
  });
});
