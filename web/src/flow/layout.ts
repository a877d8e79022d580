// Auto-layout: a simple layered layout, left to right. Layers are the distance from the trigger
// (breadth first, so loops back do not stretch the drawing); nodes nobody reaches follow in
// their own layers. Within a layer, nodes are ordered by the position of the ports that lead to
// them (barycentre), then stacked without overlapping.

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

export function layeredLayout(doc: FlowDocument, options: LayoutOptions = {}): Map<string, Position> {
  const sizes = options.sizes ?? new Map();
  const sizeOf = (id: string) => sizes.get(id) ?? DEFAULT_SIZE;
  const maxWidth = Math.max(DEFAULT_SIZE.width, ...doc.nodes.map((n) => sizeOf(n.id).width));
  const layerGap = options.layerGap ?? maxWidth + 60;
  const nodeGap = options.nodeGap ?? 40;

  const ids = doc.nodes.map((n) => n.id);
  const known = new Set(ids);
  const order = new Map(ids.map((id, i) => [id, i]));
  // Outgoing targets in port order, so a node's first port comes first.
  const out = new Map<string, string[]>(ids.map((id) => [id, []]));
  const incoming = new Map<string, Array<{ from: string; rank: number }>>(ids.map((id) => [id, []]));
  for (const node of doc.nodes) {
    const ports = portsOf(node);
    const edges = edgesOf(doc)
      .filter((e) => e.from === node.id && known.has(e.to))
      .sort((a, b) => rank(ports, a.port) - rank(ports, b.port));
    for (const e of edges) {
      out.get(node.id)?.push(e.to);
      incoming.get(e.to)?.push({ from: node.id, rank: rank(ports, e.port) });
    }
  }

  // Layers by breadth-first distance from the roots: the trigger(s), then any node not reached.
  const layer = new Map<string, number>();
  const visit = (roots: string[], start: number) => {
    const queue: string[] = [];
    for (const r of roots) {
      if (!layer.has(r)) {
        layer.set(r, start);
        queue.push(r);
      }
    }
    while (queue.length) {
      const id = queue.shift() as string;
      const l = layer.get(id) as number;
      for (const to of out.get(id) ?? []) {
        if (!layer.has(to)) {
          layer.set(to, l + 1);
          queue.push(to);
        }
      }
    }
  };
  visit(doc.nodes.filter((n) => n.type === 'trigger').map((n) => n.id), 0);
  for (;;) {
    const rest = ids.filter((x) => !layer.has(x));
    if (rest.length === 0) break;
    // Unreached nodes: start from one that no other unreached node leads to (else the first),
    // one layer after whatever placed node leads to it.
    const root =
      rest.find((x) => (incoming.get(x) ?? []).every((i) => layer.has(i.from))) ?? (rest[0] as string);
    const after = (incoming.get(root) ?? []).map((i) => (layer.get(i.from) ?? -1) + 1);
    visit([root], Math.max(0, ...after));
  }

  const layers: string[][] = [];
  for (const id of ids) {
    const l = layer.get(id) ?? 0;
    (layers[l] ??= []).push(id);
  }

  // Order within layers by barycentre of predecessors in earlier layers.
  const slot = new Map<string, number>();
  layers.forEach((members, l) => {
    const key = (id: string) => {
      const preds = (incoming.get(id) ?? []).filter((i) => (layer.get(i.from) ?? 0) < l);
      if (preds.length === 0) return Number.POSITIVE_INFINITY;
      return preds.reduce((s, p) => s + (slot.get(p.from) ?? 0) + p.rank / 100, 0) / preds.length;
    };
    members.sort((a, b) => key(a) - key(b) || (order.get(a) ?? 0) - (order.get(b) ?? 0));
    members.forEach((id, i) => slot.set(id, i));
  });

  const positions = new Map<string, Position>();
  layers.forEach((members, l) => {
    const total = members.reduce((s, id) => s + sizeOf(id).height, 0) + nodeGap * Math.max(0, members.length - 1);
    let y = -total / 2;
    for (const id of members) {
      positions.set(id, { x: Math.round(l * layerGap), y: Math.round(y) });
      y += sizeOf(id).height + nodeGap;
    }
  });
  return positions;
}

function rank(ports: string[], port: string): number {
  const i = ports.indexOf(port);
  return i < 0 ? ports.length : i;
}
