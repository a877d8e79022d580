import { describe, expect, it } from 'vitest';
import { exampleFlows } from '../test/examples';
import { addNode, newFlowDocument } from './document';
import { DEFAULT_SIZE, layeredLayout, placed } from './layout';
import type { FlowDocument, Position } from './types';

function overlaps(doc: FlowDocument, pos: Map<string, { x: number; y: number }>): string[] {
  const out: string[] = [];
  const ids = doc.nodes.map((n) => n.id);
  for (let i = 0; i < ids.length; i++) {
    for (let j = i + 1; j < ids.length; j++) {
      const a = pos.get(ids[i] as string)!;
      const b = pos.get(ids[j] as string)!;
      if (Math.abs(a.x - b.x) < DEFAULT_SIZE.width && Math.abs(a.y - b.y) < DEFAULT_SIZE.height) out.push(`${ids[i]}/${ids[j]}`);
    }
  }
  return out;
}

/** Whether `to` leads back to `from`: the edge between them is part of a loop. */
function leadsTo(doc: FlowDocument, start: string, goal: string): boolean {
  const seen = new Set<string>([start]);
  const queue = [start];
  while (queue.length) {
    const id = queue.shift() as string;
    if (id === goal) return true;
    for (const e of doc.edges ?? []) {
      if (e.from === id && !seen.has(e.to)) {
        seen.add(e.to);
        queue.push(e.to);
      }
    }
  }
  return false;
}

/** Edges that are not part of a loop and do not run left to right. */
function backwardEdges(doc: FlowDocument, pos: Map<string, Position>): string[] {
  return (doc.edges ?? [])
    .filter((e) => !leadsTo(doc, e.to, e.from))
    .filter((e) => (pos.get(e.to)?.x ?? 0) <= (pos.get(e.from)?.x ?? 0) + DEFAULT_SIZE.width)
    .map((e) => `${e.from}.${e.port} → ${e.to}`);
}

/**
 * Edges (not part of a loop) whose curve, drawn as the canvas draws it (a Bézier from the
 * source's right side to the target's left side, horizontal at both ends), passes through a
 * card it does not connect.
 */
function edgesThroughCards(doc: FlowDocument, pos: Map<string, Position>): string[] {
  const { width, height } = DEFAULT_SIZE;
  const out: string[] = [];
  for (const e of doc.edges ?? []) {
    if (leadsTo(doc, e.to, e.from)) continue;
    const a = pos.get(e.from) as Position;
    const b = pos.get(e.to) as Position;
    const [sx, sy, tx, ty] = [a.x + width, a.y + height / 2, b.x, b.y + height / 2];
    const bend = Math.abs(tx - sx) / 2;
    for (let k = 1; k < 100; k++) {
      const t = k / 100;
      const u = 1 - t;
      const x = u * u * u * sx + 3 * u * u * t * (sx + bend) + 3 * u * t * t * (tx - bend) + t * t * t * tx;
      const y = u * u * u * sy + 3 * u * u * t * sy + 3 * u * t * t * ty + t * t * t * ty;
      const through = doc.nodes.find((n) => {
        if (n.id === e.from || n.id === e.to) return false;
        const p = pos.get(n.id) as Position;
        return x > p.x && x < p.x + width && y > p.y && y < p.y + height;
      });
      if (through) {
        out.push(`${e.from}.${e.port} → ${e.to} through ${through.id}`);
        break;
      }
    }
  }
  return out;
}

describe('layered layout', () => {
  it('puts the trigger first and every node right of the node that leads to it (a chain)', () => {
    let doc = newFlowDocument('Chain');
    doc = addNode(doc, 'message', { x: 0, y: 0 }, { node: 'start', port: 'next' }).doc;
    doc = addNode(doc, 'collect_input', { x: 0, y: 0 }, { node: 'message_1', port: 'next' }).doc;
    doc = addNode(doc, 'handover', { x: 0, y: 0 }, { node: 'ask_1', port: 'next' }).doc;
    const pos = layeredLayout(doc);
    const xs = ['start', 'message_1', 'ask_1', 'handover_1'].map((id) => pos.get(id)!.x);
    expect(xs).toEqual([...xs].sort((a, b) => a - b));
    expect(new Set(xs).size).toBe(4);
    // A chain is a straight line.
    expect(new Set(['start', 'message_1', 'ask_1', 'handover_1'].map((id) => pos.get(id)!.y)).size).toBe(1);
  });

  it('stacks the targets of one node in port order without overlapping', () => {
    let doc = newFlowDocument('Fan out');
    doc = addNode(doc, 'handover', { x: 0, y: 0 }, { node: 'start', port: 'next' }).doc;
    for (const port of ['handed_back', 'resolved', 'off_hours', 'no_agent']) {
      doc = addNode(doc, 'end', { x: 0, y: 0 }, { node: 'handover_1', port }).doc;
    }
    const pos = layeredLayout(doc);
    const ys = ['end_1', 'end_2', 'end_3', 'end_4'].map((id) => pos.get(id)!.y);
    expect(ys).toEqual([...ys].sort((a, b) => a - b));
    expect(overlaps(doc, pos)).toEqual([]);
  });

  it('places unreachable nodes and loops, and never overlaps on the example flows', () => {
    let doc = newFlowDocument('Odd');
    doc = addNode(doc, 'message', { x: 0, y: 0 }).doc; // unreachable
    doc = addNode(doc, 'options', { x: 0, y: 0 }, { node: 'start', port: 'next' }).doc;
    doc = { ...doc, edges: [...(doc.edges ?? []), { from: 'options_1', port: 'no_match', to: 'options_1' }] };
    const pos = layeredLayout(doc);
    expect(pos.size).toBe(3);
    expect(overlaps(doc, pos)).toEqual([]);
    for (const { file, text } of exampleFlows()) {
      const flow = JSON.parse(text) as FlowDocument;
      const p = layeredLayout(flow);
      expect(p.size, file).toBe(flow.nodes.length);
      expect(overlaps(flow, p), file).toEqual([]);
      const trigger = flow.nodes.find((n) => n.type === 'trigger')!;
      const minX = Math.min(...[...p.values()].map((q) => q.x));
      expect(p.get(trigger.id)!.x, file).toBe(minX);
    }
  });

  it('runs every edge that is not a loop-back forward, through no card, on the example flows', () => {
    for (const { file, text } of exampleFlows()) {
      const flow = JSON.parse(text) as FlowDocument;
      const p = layeredLayout(flow);
      expect(backwardEdges(flow, p), file).toEqual([]);
      expect(edgesThroughCards(flow, p), file).toEqual([]);
    }
  });

  it('keeps a loop-back as the only edge running backwards', () => {
    let doc = newFlowDocument('Loop');
    doc = addNode(doc, 'options', { x: 0, y: 0 }, { node: 'start', port: 'next' }).doc;
    doc = addNode(doc, 'message', { x: 0, y: 0 }, { node: 'options_1', port: 'no_match' }).doc;
    doc = { ...doc, edges: [...(doc.edges ?? []), { from: 'message_1', port: 'next', to: 'options_1' }] };
    const pos = layeredLayout(doc);
    expect(pos.get('options_1')!.x).toBeGreaterThan(pos.get('start')!.x);
    expect(pos.get('message_1')!.x).toBeGreaterThan(pos.get('options_1')!.x);
  });

  it('moves a node that is reached both directly and through a sibling after the sibling', () => {
    // ask_account.invalid → ask_name, and id_method → ask_name: ask_name goes right of
    // ask_account instead of under it with an edge running up across cards.
    const doc: FlowDocument = {
      format: 1,
      name: 'Alternatives',
      nodes: [
        { id: 'start', type: 'trigger' },
        { id: 'id_method', type: 'options', options: [{ id: 'name', label: 'Name' }, { id: 'account', label: 'Account' }] },
        { id: 'ask_name', type: 'collect_input', variable: 'name' },
        { id: 'ask_account', type: 'collect_input', variable: 'account' },
        { id: 'done', type: 'end' },
      ],
      edges: [
        { from: 'start', port: 'next', to: 'id_method' },
        { from: 'id_method', port: 'name', to: 'ask_name' },
        { from: 'id_method', port: 'account', to: 'ask_account' },
        { from: 'ask_account', port: 'invalid', to: 'ask_name' },
        { from: 'ask_account', port: 'next', to: 'done' },
        { from: 'ask_name', port: 'next', to: 'done' },
      ],
    };
    const pos = layeredLayout(doc);
    expect(pos.get('ask_name')!.x).toBeGreaterThan(pos.get('ask_account')!.x);
    expect(backwardEdges(doc, pos)).toEqual([]);
    expect(edgesThroughCards(doc, pos)).toEqual([]);
  });

  it('places cards in order, apart, as near as they can be to where they are wanted', () => {
    expect(placed([0, 0, 0], [0, 10, 10])).toEqual([-10, 0, 10]);
    expect(placed([0, 100], [0, 10])).toEqual([0, 100]);
    expect(placed([50, 0], [0, 10])).toEqual([20, 30]);
  });

  it('lays out a large flow quickly', () => {
    // 300 questions in a row, each with a way round the next two (edges that skip layers).
    let doc = newFlowDocument('Large');
    let previous = 'start';
    for (let i = 0; i < 300; i++) {
      const added = addNode(doc, 'collect_input', { x: 0, y: 0 }, { node: previous, port: 'next' });
      doc = added.doc;
      previous = added.id;
    }
    const asks = doc.nodes.filter((n) => n.type === 'collect_input').map((n) => n.id);
    const edges = [...(doc.edges ?? [])];
    asks.forEach((id, i) => {
      const later = asks[i + 3];
      if (later) edges.push({ from: id, port: 'invalid', to: later });
    });
    doc = { ...doc, edges };
    const started = performance.now();
    const pos = layeredLayout(doc);
    expect(performance.now() - started).toBeLessThan(3000);
    expect(backwardEdges(doc, pos)).toEqual([]);
    expect(overlaps(doc, pos)).toEqual([]);
    expect(edgesThroughCards(doc, pos)).toEqual([]);
  });

  it('uses measured sizes', () => {
    let doc = newFlowDocument('Sizes');
    doc = addNode(doc, 'end', { x: 0, y: 0 }, { node: 'start', port: 'next' }).doc;
    const pos = layeredLayout(doc, { sizes: new Map([['start', { width: 500, height: 100 }]]) });
    expect(pos.get('end_1')!.x).toBeGreaterThanOrEqual(500);
  });
});
