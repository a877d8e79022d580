import { describe, expect, it } from 'vitest';
import { fromRows, rowsProblem, toRows } from './hours';

describe('business hours rows', () => {
  it('round-trips weekly hours and drops bad holidays', () => {
    const bh = {
      timezone: 'Europe/Paris',
      weekly: [
        { day: 'monday', open: '09:00', close: '12:00' },
        { day: 'monday', open: '13:00', close: '18:00' },
      ],
      holidays: [],
    };
    const rows = toRows(bh);
    expect(rows).toHaveLength(7);
    expect(rows[0]).toEqual({ day: 'monday', open: true, from: '09:00', to: '12:00', extra: [{ open: '13:00', close: '18:00' }] });
    expect(rows[1]?.open).toBe(false);
    expect(fromRows('Europe/Paris', rows, [{ date: '2026-12-25', name: 'Xmas' }, { date: 'bad', name: 'x' }])).toEqual({
      timezone: 'Europe/Paris',
      weekly: [
        { day: 'monday', open: '09:00', close: '12:00' },
        { day: 'monday', open: '13:00', close: '18:00' },
      ],
      holidays: [{ date: '2026-12-25', name: 'Xmas' }],
    });
  });
  it('flags closing before opening', () => {
    expect(rowsProblem([{ day: 'monday', open: true, from: '18:00', to: '09:00', extra: [] }])).toMatch(/monday/);
    expect(rowsProblem([{ day: 'monday', open: true, from: '9am', to: '17:00', extra: [] }])).toMatch(/HH:MM/);
    expect(rowsProblem([{ day: 'monday', open: true, from: '09:00', to: '24:00', extra: [] }])).toBeNull();
    expect(rowsProblem([{ day: 'monday', open: false, from: '18:00', to: '09:00', extra: [] }])).toBeNull();
  });
});
