import { describe, expect, it } from 'vitest';
import { layeredLayout, DEFAULT_SIZE } from '../flow/layout';
import type { FlowDocument } from '../flow/types';
import { exampleFlows } from '../test/examples';
import { FIT_MARGIN, READABLE_ZOOM, readableViewport, type Box } from './viewport';

const view = { width: 1000, height: 700 };
const box = (x: number, y: number): Box => ({ x, y, ...DEFAULT_SIZE });
/** Where a canvas point lands on the screen. */
const onScreen = (v: { x: number; y: number; zoom: number }, x: number, y: number) => ({ x: v.x + x * v.zoom, y: v.y + y * v.zoom });

describe('readable fit', () => {
  it('shows a small flow whole, centred, at most at its real size', () => {
    const boxes = [box(0, 0), box(300, 0)];
    const v = readableViewport(boxes, boxes[0] ?? null, view);
    expect(v.zoom).toBe(1);
    const a = onScreen(v, 0, 0);
    const b = onScreen(v, 500, 110);
    expect(a.x).toBeCloseTo(view.width - b.x);
    expect(a.y).toBeCloseTo(view.height - b.y);
  });

  it('zooms out to fit a mid-sized flow', () => {
    const boxes = [box(0, 0), box(1000, 0)];
    const v = readableViewport(boxes, boxes[0] ?? null, view);
    expect(v.zoom).toBeCloseTo((view.width - 2 * FIT_MARGIN) / 1200);
    expect(v.zoom).toBeGreaterThanOrEqual(READABLE_ZOOM);
  });

  it('never zooms below the readable minimum: a large flow is shown from its trigger', () => {
    const trigger = box(0, 300);
    const boxes = [trigger, ...Array.from({ length: 12 }, (_, i) => box(250 * (i + 1), (i % 3) * 300))];
    const v = readableViewport(boxes, trigger, view);
    expect(v.zoom).toBe(READABLE_ZOOM);
    const t = onScreen(v, trigger.x, trigger.y + trigger.height / 2);
    expect(t.x).toBeCloseTo(FIT_MARGIN);
    expect(t.y).toBeGreaterThan(0);
    expect(t.y).toBeLessThan(view.height);
  });

  it('shows the demo flow from its trigger, readable', () => {
    const refund = exampleFlows().find((f) => f.file === 'refund.flow.json');
    if (!refund) throw new Error('examples/refund.flow.json is the demo flow');
    const doc = JSON.parse(refund.text) as FlowDocument;
    const positions = layeredLayout(doc);
    const boxes = doc.nodes.map((n) => ({ ...(positions.get(n.id) ?? { x: 0, y: 0 }), ...DEFAULT_SIZE }));
    const start = boxes[doc.nodes.findIndex((n) => n.type === 'trigger')] ?? null;
    const v = readableViewport(boxes, start, { width: 1100, height: 760 });
    expect(v.zoom).toBeGreaterThanOrEqual(READABLE_ZOOM);
    if (!start) throw new Error('the demo flow has a trigger');
    const s = onScreen(v, start.x, start.y);
    expect(s.x).toBeGreaterThanOrEqual(0);
    expect(s.y).toBeGreaterThanOrEqual(0);
    expect(s.y + start.height * v.zoom).toBeLessThanOrEqual(760);
  });
});
