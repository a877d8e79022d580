import { describe, expect, it } from 'vitest';
import { exampleFlows } from '../test/examples';
import { addNode, newFlowDocument } from './document';
import { DEFAULT_SIZE, layeredLayout } from './layout';
import type { FlowDocument } from './types';

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

  it('uses measured sizes', () => {
    let doc = newFlowDocument('Sizes');
    doc = addNode(doc, 'end', { x: 0, y: 0 }, { node: 'start', port: 'next' }).doc;
    const pos = layeredLayout(doc, { sizes: new Map([['start', { width: 500, height: 100 }]]) });
    expect(pos.get('end_1')!.x).toBeGreaterThanOrEqual(500);
  });
});
