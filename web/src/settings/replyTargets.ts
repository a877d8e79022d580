// Reply targets (agent SLAs): minutes as a lead types them, seconds as the API stores them.

import type { ReplyTargets, WhenMissed } from '../api';

export const NO_TARGETS: ReplyTargets = { first_reply_seconds: 0, next_reply_seconds: 0, when_missed: 'requeue' };

export const WHEN_MISSED: [WhenMissed, string][] = [
  ['requeue', 'Put it back in the queue'],
  ['next_agent', 'Give it to the next online agent of the team'],
  ['flow', "Continue the flow from the Handover node's timeout path"],
];

/** Seconds shown as minutes ("" for no target). */
export function toMinutes(seconds: number): string {
  if (!seconds) return '';
  const m = seconds / 60;
  return Number.isInteger(m) ? String(m) : m.toFixed(1);
}

/** Minutes typed (blank or 0: no target) as whole seconds; null when it is not a number of minutes from 0 to a week. */
export function fromMinutes(text: string): number | null {
  const t = text.trim();
  if (!t) return 0;
  const m = Number(t);
  if (!Number.isFinite(m) || m < 0 || m > 7 * 24 * 60) return null;
  return Math.round(m * 60);
}

/** "first reply 5 min · next reply 15 min · then requeue", or "no targets". */
export function describeTargets(t: ReplyTargets | null | undefined): string {
  if (!t || (!t.first_reply_seconds && !t.next_reply_seconds)) return 'no targets';
  const parts: string[] = [];
  if (t.first_reply_seconds) parts.push(`first reply ${toMinutes(t.first_reply_seconds)} min`);
  if (t.next_reply_seconds) parts.push(`next reply ${toMinutes(t.next_reply_seconds)} min`);
  const then = { requeue: 'back to the queue', next_agent: 'to the next agent', flow: 'on with the flow' }[t.when_missed] ?? t.when_missed;
  return `${parts.join(' · ')} · then ${then}`;
}
