import { describe, expect, it } from 'vitest';
import { describeTargets, fromMinutes, toMinutes } from './replyTargets';

describe('reply targets', () => {
  it('shows seconds as minutes and reads minutes back', () => {
    expect(toMinutes(0)).toBe('');
    expect(toMinutes(300)).toBe('5');
    expect(toMinutes(90)).toBe('1.5');
    expect(fromMinutes('')).toBe(0);
    expect(fromMinutes(' 5 ')).toBe(300);
    expect(fromMinutes('1.5')).toBe(90);
    expect(fromMinutes('-1')).toBeNull();
    expect(fromMinutes('ten')).toBeNull();
    expect(fromMinutes(String(7 * 24 * 60 + 1))).toBeNull();
  });
  it('describes targets in words', () => {
    expect(describeTargets(null)).toBe('no targets');
    expect(describeTargets({ first_reply_seconds: 0, next_reply_seconds: 0, when_missed: 'flow' })).toBe('no targets');
    expect(describeTargets({ first_reply_seconds: 300, next_reply_seconds: 900, when_missed: 'next_agent' })).toBe('first reply 5 min · next reply 15 min · then to the next agent');
    expect(describeTargets({ first_reply_seconds: 0, next_reply_seconds: 60, when_missed: 'requeue' })).toBe('next reply 1 min · then back to the queue');
  });
});
