// Business hours editing helpers.

import type { BusinessHours } from '../api';

export const DAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;

/** One row per weekday: open or closed, with times. */
export interface DayRow {
  day: string;
  open: boolean;
  from: string;
  to: string;
  /** Further intervals of the same day (e.g. after a lunch break), kept as they are. */
  extra: { open: string; close: string }[];
}

export function toRows(bh: BusinessHours | null): DayRow[] {
  return DAYS.map((day) => {
    const all = (bh?.weekly ?? []).filter((x) => x.day === day);
    const w = all[0];
    return { day, open: Boolean(w), from: w?.open ?? '09:00', to: w?.close ?? '17:00', extra: all.slice(1).map((x) => ({ open: x.open, close: x.close })) };
  });
}

export function fromRows(timezone: string, rows: DayRow[], holidays: { date: string; name: string }[]): BusinessHours {
  return {
    timezone: timezone.trim() || 'UTC',
    weekly: rows.filter((r) => r.open).flatMap((r) => [{ day: r.day, open: r.from, close: r.to }, ...r.extra.map((x) => ({ day: r.day, ...x }))]),
    holidays: holidays.filter((h) => /^\d{4}-\d{2}-\d{2}$/.test(h.date)),
  };
}

/** A problem with the rows, or null: closing must come after opening. */
export function rowsProblem(rows: DayRow[]): string | null {
  const hhmm = /^([01]\d|2[0-3]):[0-5]\d$|^24:00$/;
  for (const r of rows) {
    if (!r.open) continue;
    if (!hhmm.test(r.from) || !hhmm.test(r.to)) return `${r.day}: times are HH:MM, e.g. 09:00 or 17:30`;
    if (r.to <= r.from) return `${r.day}: closing time must be after opening time`;
  }
  return null;
}
