import { describe, expect, it } from 'vitest';
import { moveItem } from './routing';

describe('moveItem', () => {
  it('swaps a live flow with its live neighbour, leaving flows that are off in place', () => {
    const all = ['a', 'off1', 'b', 'c'];
    expect(moveItem(all, ['a', 'b', 'c'], 'b', -1)).toEqual(['b', 'off1', 'a', 'c']);
    expect(moveItem(all, ['a', 'b', 'c'], 'b', 1)).toEqual(['a', 'off1', 'c', 'b']);
  });
  it('does nothing at the ends or for an unknown flow', () => {
    const all = ['a', 'b'];
    expect(moveItem(all, all, 'a', -1)).toEqual(all);
    expect(moveItem(all, all, 'b', 1)).toEqual(all);
    expect(moveItem(all, all, 'x', 1)).toEqual(all);
  });
});
