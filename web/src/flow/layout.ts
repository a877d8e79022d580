// Auto-layout: a layered layout, left to right, so that every edge runs forward.
//
// 1. Loop-backs are the edges that lead back to a step on the way to them (walking depth first
//    from the trigger, then from nodes nobody reaches). They are the only edges that may run
//    right to left.
// 2. Layers: a node sits one layer right of the furthest node that leads to it (longest path
//    over the other edges), so every other edge runs left to right.
// 3. An edge that skips layers gets a placeholder in each layer it passes, so cards in those
//    layers leave room for it.
// 4. Order within layers: barycentres of the neighbours (port order first), swept both ways.
// 5. Heights: each card as close as it can be to the middle of its neighbours without
//    overlapping (isotonic regression per layer), swept both ways, so chains are straight lines
//    and a long edge runs through the room left for it.
// 6. Last, a card that a long edge's curve (as the canvas draws it) still runs through moves
//    past the curve to the nearer side (a bounded number of rounds; on every example flow no
//    edge then passes through a card it does not connect).

import { edgesOf } from './document';
import { portsOf } from './ports';
import type { FlowDocument, Position } from './types';

export interface LayoutOptions {
  /** Horizontal distance between layers (left edge to left edge). */
  layerGap?: number;
  /** Vertical gap between nodes of one layer. */
  nodeGap?: number;
  /** Node sizes when known (measured on the canvas). */
  sizes?: Map<string, { width: number; height: number }>;
}

export const DEFAULT_SIZE = { width: 200, height: 110 };

/** The room an edge passing through a layer takes there. */
const PASSAGE_HEIGHT = 24;
/** Rounds of ordering and of placing heights. */
const SWEEPS = 8;

interface LayoutEdge {
  from: string;
  to: string;
  /** The port's place among its node's ports. */
  rank: number;
}

/**
 * Where an edge that skips layers crosses one: its ends, and where the layer's cards begin and
 * end as fractions of the way from the source's right side to the target's left side.
 */
interface Passage {
  from: string;
  to: string;
  enter: number;
  leave: number;
}

/** An edge of the layered graph: between neighbouring layers only. */
interface Link {
  from: string;
  to: string;
  rank: number;
}

export function layeredLayout(doc: FlowDocument, options: LayoutOptions = {}): Map<string, Position> {
  const sizes = options.sizes ?? new Map();
  const sizeOf = (id: string) => sizes.get(id) ?? DEFAULT_SIZE;
  const maxWidth = Math.max(DEFAULT_SIZE.width, ...doc.nodes.map((n) => sizeOf(n.id).width));
  const layerGap = options.layerGap ?? maxWidth + 60;
  const nodeGap = options.nodeGap ?? 40;

  const ids = [...new Set(doc.nodes.map((n) => n.id))];
  const known = new Set(ids);
  const out = new Map<string, LayoutEdge[]>(ids.map((id) => [id, []]));
  for (const node of doc.nodes) {
    const ports = portsOf(node);
    const edges = edgesOf(doc)
      .filter((e) => e.from === node.id && known.has(e.to))
      .map((e) => ({ from: e.from, to: e.to, rank: rank(ports, e.port) }))
      .sort((a, b) => a.rank - b.rank);
    out.get(node.id)?.push(...edges);
  }

  const forward = forwardEdges(doc, ids, out);
  const layer = longestPathLayers(ids, forward);

  // Layers with placeholders for the edges that skip layers.
  const height = new Map<string, number>(ids.map((id) => [id, sizeOf(id).height]));
  const layers: string[][] = [];
  for (const id of ids) (layers[layer.get(id) ?? 0] ??= []).push(id);
  const links: Link[] = [];
  const passages = new Map<string, Passage>();
  // Edges between the same two nodes (from different ports) pass through the same room.
  const joined = new Set<string>();
  forward.forEach((e, i) => {
    const from = layer.get(e.from) ?? 0;
    const to = layer.get(e.to) ?? 0;
    const pair = `${e.from}\u0000${e.to}`;
    if (to - from > 1 && joined.has(pair)) return;
    joined.add(pair);
    let previous = e.from;
    for (let l = from + 1; l < to; l++) {
      const passage = `\u0000passage:${i}:${l}`;
      height.set(passage, PASSAGE_HEIGHT);
      // The curve's span across the layer's cards, from the source's right side to the
      // target's left side.
      const start = from * layerGap + sizeOf(e.from).width;
      const span = to * layerGap - start;
      passages.set(passage, { from: e.from, to: e.to, enter: (l * layerGap - start) / span, leave: (l * layerGap + maxWidth - start) / span });
      (layers[l] ??= []).push(passage);
      links.push({ from: previous, to: passage, rank: previous === e.from ? e.rank : 0 });
      previous = passage;
    }
    links.push({ from: previous, to: e.to, rank: previous === e.from ? e.rank : 0 });
  });
  for (let l = 0; l < layers.length; l++) layers[l] ??= [];

  const preds = new Map<string, Link[]>();
  const succs = new Map<string, Link[]>();
  for (const link of links) {
    (preds.get(link.to) ?? preds.set(link.to, []).get(link.to))?.push(link);
    (succs.get(link.from) ?? succs.set(link.from, []).get(link.from))?.push(link);
  }

  orderLayers(layers, preds, succs);
  const centre = placeHeights(layers, height, nodeGap, preds, succs, passages);

  const positions = new Map<string, Position>();
  layers.forEach((members, l) => {
    for (const id of members) {
      if (!known.has(id)) continue;
      positions.set(id, { x: Math.round(l * layerGap), y: Math.round((centre.get(id) ?? 0) - sizeOf(id).height / 2) });
    }
  });
  return positions;
}

/**
 * Every edge but the loop-backs (and edges from a node to itself): walking depth first from the
 * triggers, then from nodes not reached yet in document order, an edge to a node on the current
 * path leads back.
 */
function forwardEdges(doc: FlowDocument, ids: string[], out: Map<string, LayoutEdge[]>): LayoutEdge[] {
  const state = new Map<string, 'open' | 'done'>();
  const forward: LayoutEdge[] = [];
  const walk = (root: string) => {
    if (state.has(root)) return;
    // An explicit stack of (node, next edge to look at), so long flows cannot overflow.
    const stack: Array<{ id: string; next: number }> = [{ id: root, next: 0 }];
    state.set(root, 'open');
    while (stack.length) {
      const top = stack[stack.length - 1] as { id: string; next: number };
      const edges = out.get(top.id) ?? [];
      const edge = edges[top.next];
      if (!edge) {
        state.set(top.id, 'done');
        stack.pop();
        continue;
      }
      top.next += 1;
      const seen = state.get(edge.to);
      if (seen === 'open') continue; // a loop-back
      forward.push(edge);
      if (seen === undefined) {
        state.set(edge.to, 'open');
        stack.push({ id: edge.to, next: 0 });
      }
    }
  };
  for (const n of doc.nodes) if (n.type === 'trigger') walk(n.id);
  for (const id of ids) walk(id);
  return forward;
}

/** Each node one layer right of the furthest node leading to it; the edges form no cycle. */
function longestPathLayers(ids: string[], forward: LayoutEdge[]): Map<string, number> {
  const waiting = new Map<string, number>(ids.map((id) => [id, 0]));
  const next = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const e of forward) {
    waiting.set(e.to, (waiting.get(e.to) ?? 0) + 1);
    next.get(e.from)?.push(e.to);
  }
  const layer = new Map<string, number>();
  const ready = ids.filter((id) => waiting.get(id) === 0);
  for (const id of ready) layer.set(id, 0);
  while (ready.length) {
    const id = ready.shift() as string;
    const l = layer.get(id) ?? 0;
    for (const to of next.get(id) ?? []) {
      layer.set(to, Math.max(layer.get(to) ?? 0, l + 1));
      const left = (waiting.get(to) ?? 0) - 1;
      waiting.set(to, left);
      if (left === 0) ready.push(to);
    }
  }
  return layer;
}

/** Orders each layer by the barycentre of its neighbours in the layer before, then after. */
function orderLayers(layers: string[][], preds: Map<string, Link[]>, succs: Map<string, Link[]>) {
  const slot = new Map<string, number>();
  const number = (members: string[]) => members.forEach((id, i) => slot.set(id, i));
  layers.forEach(number);
  const sortBy = (members: string[], neighbours: (id: string) => Link[], end: (link: Link) => string, withRank: boolean) => {
    const key = new Map<string, number>();
    for (const id of members) {
      const links = neighbours(id);
      if (links.length === 0) key.set(id, slot.get(id) ?? 0);
      else key.set(id, links.reduce((s, link) => s + (slot.get(end(link)) ?? 0) + (withRank ? link.rank / 100 : 0), 0) / links.length);
    }
    const before = new Map(members.map((id, i) => [id, i]));
    members.sort((a, b) => (key.get(a) ?? 0) - (key.get(b) ?? 0) || (before.get(a) ?? 0) - (before.get(b) ?? 0));
    number(members);
  };
  for (let sweep = 0; sweep < SWEEPS; sweep++) {
    for (let l = 1; l < layers.length; l++) sortBy(layers[l] as string[], (id) => preds.get(id) ?? [], (link) => link.from, true);
    for (let l = layers.length - 2; l >= 0; l--) sortBy(layers[l] as string[], (id) => succs.get(id) ?? [], (link) => link.to, false);
  }
  // A last pass from the left, so a node's targets follow its port order.
  for (let l = 1; l < layers.length; l++) sortBy(layers[l] as string[], (id) => preds.get(id) ?? [], (link) => link.from, true);
}

/**
 * The vertical centre of each card: as near as possible to the mean of its neighbours' centres,
 * in the layer's order, never overlapping.
 */
function placeHeights(
  layers: string[][],
  height: Map<string, number>,
  gap: number,
  preds: Map<string, Link[]>,
  succs: Map<string, Link[]>,
  passages: Map<string, Passage>,
): Map<string, number> {
  const centre = new Map<string, number>();
  for (const members of layers) {
    const total = members.reduce((s, id) => s + (height.get(id) ?? 0), 0) + gap * Math.max(0, members.length - 1);
    let y = -total / 2;
    for (const id of members) {
      const h = height.get(id) ?? 0;
      centre.set(id, y + h / 2);
      y += h + gap;
    }
  }
  /** The room an edge's curve takes where it crosses a layer, as it runs now: top and bottom. */
  const band = (id: string): [number, number] => {
    const passage = passages.get(id);
    if (!passage) return [0, 0];
    const from = centre.get(passage.from) ?? 0;
    const to = centre.get(passage.to) ?? 0;
    const enter = curveHeight(from, to, passage.enter);
    const leave = curveHeight(from, to, passage.leave);
    return [Math.min(enter, leave) - PASSAGE_HEIGHT / 2, Math.max(enter, leave) + PASSAGE_HEIGHT / 2];
  };
  const place = (members: string[], neighbours: (id: string) => string[]) => {
    const wanted = members.map((id) => {
      if (passages.has(id)) {
        const [top, bottom] = band(id);
        height.set(id, bottom - top);
        return (top + bottom) / 2;
      }
      const ns = neighbours(id);
      return ns.length ? ns.reduce((s, n) => s + (centre.get(n) ?? 0), 0) / ns.length : (centre.get(id) ?? 0);
    });
    const separation = members.map((id, i) => (i === 0 ? 0 : ((height.get(members[i - 1] as string) ?? 0) + (height.get(id) ?? 0)) / 2 + gap));
    placed(wanted, separation).forEach((y, i) => centre.set(members[i] as string, y));
  };
  for (let sweep = 0; sweep < SWEEPS; sweep++) {
    for (let l = 1; l < layers.length; l++) place(layers[l] as string[], (id) => (preds.get(id) ?? []).map((link) => link.from));
    for (let l = layers.length - 2; l >= 0; l--) place(layers[l] as string[], (id) => (succs.get(id) ?? []).map((link) => link.to));
  }
  // Then cards only make room for the curves as they now run: a card a curve runs through
  // moves past it, to the nearer side, and the layer is placed again.
  for (let sweep = 0; sweep < 4 * SWEEPS; sweep++) {
    for (const members of layers) {
      // The curves' ends are in other layers, so their bands hold while this layer moves.
      const bands = new Map(members.filter((id) => passages.has(id)).map((id) => [id, band(id)] as const));
      for (const card of members.filter((id) => !passages.has(id))) {
        const c = centre.get(card) ?? 0;
        const h = (height.get(card) ?? 0) / 2;
        // The curves it is in the way of, and those overlapping them: it goes past them all.
        let [top, bottom] = [c - h, c + h];
        let through: string[] = [];
        for (let grown = true; grown; ) {
          grown = false;
          for (const [id, [t, b]] of bands) {
            if (through.includes(id)) continue;
            if (t < bottom && b > top) {
              through = [...through, id];
              [top, bottom] = [Math.min(top, t), Math.max(bottom, b)];
              grown = true;
            }
          }
        }
        if (through.length === 0) continue;
        members.splice(members.indexOf(card), 1);
        const places = through.map((id) => members.indexOf(id));
        members.splice(c - top < bottom - c ? Math.min(...places) : Math.max(...places) + 1, 0, card);
      }
      place(members, () => []);
    }
  }
  return centre;
}

/**
 * The height of an edge's curve a `fraction` of the way across, as the canvas draws it: a cubic
 * Bézier leaving and entering horizontally, its control points half way across.
 */
function curveHeight(from: number, to: number, fraction: number): number {
  const f = Math.min(1, Math.max(0, fraction));
  // x(t) rises from 0 to 1; find the t where it is f.
  let low = 0;
  let high = 1;
  for (let k = 0; k < 30; k++) {
    const t = (low + high) / 2;
    const u = 1 - t;
    const x = 3 * u * u * t * 0.5 + 3 * u * t * t * 0.5 + t * t * t;
    if (x < f) low = t;
    else high = t;
  }
  const t = (low + high) / 2;
  const u = 1 - t;
  return (u * u * u + 3 * u * u * t) * from + (3 * u * t * t + t * t * t) * to;
}

/**
 * Positions nearest (least squares) to `wanted`, in order, each at least `separation[i]` below
 * the one before: isotonic regression (pool adjacent violators) on the positions less their
 * cumulative separation.
 */
export function placed(wanted: number[], separation: number[]): number[] {
  const offset: number[] = [];
  let sum = 0;
  for (let i = 0; i < wanted.length; i++) {
    sum += separation[i] ?? 0;
    offset.push(sum);
  }
  const blocks: Array<{ total: number; count: number }> = [];
  wanted.forEach((w, i) => {
    blocks.push({ total: w - (offset[i] ?? 0), count: 1 });
    for (;;) {
      const last = blocks[blocks.length - 1] as { total: number; count: number };
      const before = blocks[blocks.length - 2];
      if (!before || before.total / before.count <= last.total / last.count) break;
      blocks.pop();
      before.total += last.total;
      before.count += last.count;
    }
  });
  const out: number[] = [];
  for (const b of blocks) for (let k = 0; k < b.count; k++) out.push(b.total / b.count + (offset[out.length] ?? 0));
  return out;
}

function rank(ports: string[], port: string): number {
  const i = ports.indexOf(port);
  return i < 0 ? ports.length : i;
}
