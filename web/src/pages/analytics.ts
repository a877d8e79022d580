// Numbers for the analytics page: percentages, durations, bar widths; drop-off per node for the
// page and the builder's canvas.

import type { FlowAnalytics, HandoverNodeStats } from '../api';
import { nodeInfo } from '../flow/nodeTypes';
import type { FlowDocument } from '../flow/types';

export const OUTCOMES = ['handed_back', 'resolved', 'cancelled', 'timeout', 'off_hours', 'no_agent', 'ended'] as const;

export function percent(rate: number | null | undefined): string {
  if (rate === null || rate === undefined || !Number.isFinite(rate)) return '—';
  return `${Math.round(rate * 1000) / 10}%`;
}

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** Segments of a stacked bar: each outcome's share of the node's hand-overs, in a fixed order. */
export function outcomeSegments(n: HandoverNodeStats): { outcome: string; count: number; share: number }[] {
  const total = OUTCOMES.reduce((s, o) => s + (n.outcomes[o] ?? 0), 0) + Object.entries(n.outcomes).filter(([k]) => !(OUTCOMES as readonly string[]).includes(k)).reduce((s, [, v]) => s + v, 0);
  if (!total) return [];
  const keys = [...OUTCOMES, ...Object.keys(n.outcomes).filter((k) => !(OUTCOMES as readonly string[]).includes(k))];
  return keys.filter((k) => (n.outcomes[k] ?? 0) > 0).map((k) => ({ outcome: k, count: n.outcomes[k] ?? 0, share: (n.outcomes[k] ?? 0) / total }));
}

/** Hand-over rate of a node: its hand-overs per conversation. */
export function handoverRate(n: HandoverNodeStats, conversations: number): number | null {
  return conversations > 0 ? n.handovers / conversations : null;
}

// ---- drop-off ----------------------------------------------------------------------------------

/** One node's drop-off, as the server reports it. */
export type DropOffStats = NonNullable<FlowAnalytics['drop_off']>[number];

/** What the flow document tells about a node, to name it for people. */
export interface NodeName {
  type: string;
  /** The node type's name (e.g. "Collect Input"), or the raw type when unknown. */
  label: string;
  /** What the node asks or says, clipped; null when it has no text. */
  text: string | null;
}

const TEXT_MAX = 80;

function clip(text: string, max: number): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1).trimEnd()}…` : t;
}

/** Names of the nodes of a flow document, by node id. */
export function nodeNames(doc: FlowDocument | null | undefined): Map<string, NodeName> {
  const out = new Map<string, NodeName>();
  for (const n of doc?.nodes ?? []) {
    const raw = [n.text, n.intro, n.message].find((v): v is string => typeof v === 'string' && v.trim() !== '');
    out.set(n.id, { type: n.type, label: nodeInfo(n.type)?.label ?? n.type, text: raw ? clip(raw, TEXT_MAX) : null });
  }
  return out;
}

function count(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0;
}

/**
 * The drop-off list of an analytics answer: missing or malformed entries are skipped, nodes with
 * neither waiting nor dropped-off conversations left out; most drop-offs first, then most waiting.
 */
export function dropOffStats(a: FlowAnalytics | null | undefined): DropOffStats[] {
  const list: unknown[] = Array.isArray(a?.drop_off) ? a.drop_off : [];
  const out: DropOffStats[] = [];
  for (const item of list) {
    if (typeof item !== 'object' || item === null) continue;
    const r = item as Record<string, unknown>;
    if (typeof r.node !== 'string' || r.node === '') continue;
    const s = { node: r.node, waiting: count(r.waiting), dropped_off: count(r.dropped_off) };
    if (s.waiting > 0 || s.dropped_off > 0) out.push(s);
  }
  return out.sort((x, y) => y.dropped_off - x.dropped_off || y.waiting - x.waiting || (x.node < y.node ? -1 : x.node > y.node ? 1 : 0));
}

/** Share of all the flow's conversations that dropped off at a node; null without conversations. */
export function dropOffShare(droppedOff: number, conversations: number): number | null {
  return conversations > 0 ? droppedOff / conversations : null;
}

/** A row of the drop-off chart. */
export interface DropOffRow extends DropOffStats {
  /** The node as the flow document names it; null when the node is not in it (any more). */
  name: NodeName | null;
  /** dropped_off / conversations. */
  share: number | null;
  /** Bar length, 0..1: dropped_off relative to the node with the most drop-offs. */
  width: number;
}

/** The drop-off chart: one row per node with drop-off or waiting conversations. */
export function dropOffRows(a: FlowAnalytics | null | undefined, names: Map<string, NodeName>): DropOffRow[] {
  const stats = dropOffStats(a);
  const max = Math.max(0, ...stats.map((s) => s.dropped_off));
  const conversations = count(a?.conversations);
  return stats.map((s) => ({
    ...s,
    name: names.get(s.node) ?? null,
    share: dropOffShare(s.dropped_off, conversations),
    width: max > 0 ? s.dropped_off / max : 0,
  }));
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** A span of time for a sentence: "30 minutes", "1 hour", "1 h 30 min", "45 seconds". */
export function span(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return plural(s, 'second');
  if (s % 60 !== 0) return duration(ms);
  const m = s / 60;
  if (m < 60) return plural(m, 'minute');
  if (m % 60 === 0) return plural(m / 60, 'hour');
  return duration(ms);
}

/** The rule behind the numbers, for the page. */
export function dropOffExplanation(afterMs: number | null | undefined): string {
  const after = typeof afterMs === 'number' && Number.isFinite(afterMs) && afterMs > 0 ? ` for ${span(afterMs)}` : ' for too long';
  return `A conversation counts as dropped off at a node when the customer has been silent there${after}.`;
}

/** The drop-off badge of a node card. */
export interface DropOffBadge {
  dropped_off: number;
  waiting: number;
  text: string;
  title: string;
}

/** Badges for the canvas, by node id: only nodes where conversations dropped off. */
export function dropOffBadges(a: FlowAnalytics | null | undefined): Map<string, DropOffBadge> {
  const out = new Map<string, DropOffBadge>();
  const after = typeof a?.drop_off_after_ms === 'number' && a.drop_off_after_ms > 0 ? ` (customer silent ${span(a.drop_off_after_ms)} or more)` : '';
  for (const s of dropOffStats(a)) {
    if (s.dropped_off === 0) continue;
    out.set(s.node, {
      dropped_off: s.dropped_off,
      waiting: s.waiting,
      text: `↘ ${s.dropped_off} dropped off`,
      title: `${plural(s.dropped_off, 'conversation')} dropped off here${after}; ${s.waiting} waiting for the customer now (analytics)`,
    });
  }
  return out;
}

// ---- people: CSAT and reply targets per agent ---------------------------------------------------

/** One agent's row: CSAT of the conversations they had last, and the reply targets they missed. */
export interface AgentRow {
  id: string | null;
  name: string;
  ratings: number;
  csat: number | null;
  averageOf5: number | null;
  missedFirst: number;
  missedNext: number;
}

/** Agents with ratings or missed reply targets, by name (ratings without an agent last). */
export function agentRows(data: FlowAnalytics | null, memberName: (id: string) => string | undefined): AgentRow[] {
  const rows = new Map<string | null, AgentRow>();
  const row = (id: string | null, name?: string): AgentRow => {
    let r = rows.get(id);
    if (!r) {
      r = { id, name: id === null ? 'no agent (the bot only)' : name ?? memberName(id) ?? id, ratings: 0, csat: null, averageOf5: null, missedFirst: 0, missedNext: 0 };
      rows.set(id, r);
    }
    return r;
  };
  for (const a of data?.csat?.by_agent ?? []) {
    const r = row(a.agent_id);
    r.ratings = a.ratings;
    r.csat = a.csat;
    r.averageOf5 = a.average_of_5;
  }
  for (const m of data?.reply_missed?.by_agent ?? []) {
    const r = row(m.agent.id, m.agent.name);
    r.missedFirst = m.first_reply;
    r.missedNext = m.next_reply;
  }
  return [...rows.values()].sort((a, b) => (a.id === null ? 1 : b.id === null ? -1 : a.name.localeCompare(b.name)));
}
