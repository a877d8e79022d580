import { describe, expect, it } from 'vitest';
import { duration, handoverRate, outcomeSegments, percent } from './analytics';

describe('analytics helpers', () => {
  it('formats rates and durations', () => {
    expect(percent(0.5)).toBe('50%');
    expect(percent(null)).toBe('—');
    expect(percent(1 / 3)).toBe('33.3%');
    expect(duration(5_000)).toBe('5 s');
    expect(duration(125_000)).toBe('2 min 5 s');
    expect(duration(null)).toBe('—');
  });
  it('splits outcomes into bar segments', () => {
    const n = { node: 'h', handovers: 4, outcomes: { resolved: 1, handed_back: 3 }, picked_up: 4, pickup_ms_avg: 1, pickup_ms_max: 2 };
    expect(outcomeSegments(n)).toEqual([
      { outcome: 'handed_back', count: 3, share: 0.75 },
      { outcome: 'resolved', count: 1, share: 0.25 },
    ]);
    expect(handoverRate(n, 8)).toBe(0.5);
    expect(handoverRate(n, 0)).toBeNull();
  });
});
