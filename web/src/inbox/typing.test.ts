import { describe, expect, it } from 'vitest';
import { throttle, TYPING_EVERY_MS } from './typing';

describe('typing throttle', () => {
  it('lets one call through every 2 s per conversation', () => {
    const ready = throttle(TYPING_EVERY_MS);
    expect(ready('a', 0)).toBe(true);
    expect(ready('a', 1_999)).toBe(false);
    expect(ready('b', 1_999)).toBe(true);
    expect(ready('a', 2_000)).toBe(true);
    expect(ready('a', 3_000)).toBe(false);
  });
  it('starts over when the clock goes back', () => {
    const ready = throttle(TYPING_EVERY_MS);
    expect(ready('a', 10_000)).toBe(true);
    expect(ready('a', 5_000)).toBe(true);
  });
});
