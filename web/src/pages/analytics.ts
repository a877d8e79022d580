// Numbers for the analytics page: percentages, durations, bar widths.

import type { HandoverNodeStats } from '../api';

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
