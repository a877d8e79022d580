import { describe, expect, it } from 'vitest';
import { buildScriptedTest, clockLabel, currentButtons, durationMs, parseVariables, routeKeys, stepLabel, uniqueName, visitedNodes } from './session';

describe('test conversation helpers', () => {
  it('parses durations and labels the clock', () => {
    expect(durationMs('10m')).toBe(600_000);
    expect(durationMs('1h')).toBe(3_600_000);
    expect(durationMs('bad')).toBe(0);
    expect(clockLabel(0)).toBe('+0s');
    expect(clockLabel(3_660_000)).toBe('+1h 1m 0s');
  });

  it('offers the buttons of the last bot line only while unanswered', () => {
    const b = [{ id: 'yes', label: 'Yes' }];
    expect(currentButtons([{ at_ms: 0, speaker: 'bot', text: 'q', buttons: b }])).toEqual(b);
    expect(currentButtons([{ at_ms: 0, speaker: 'bot', text: 'q', buttons: b }, { at_ms: 0, speaker: 'customer', text: 'x' }])).toEqual([]);
    expect(currentButtons([{ at_ms: 0, speaker: 'bot', text: 'q', buttons: b }, { at_ms: 0, speaker: 'event', text: 'e' }])).toEqual(b);
  });

  it('turns routes into edge keys and visited nodes', () => {
    const r = { routes: [{ from: 'a', port: 'next', to: 'b' }], state: { status: 'bot', at: 'c' } };
    expect([...routeKeys(r)]).toEqual(['a:next->b']);
    expect([...visitedNodes(r)].sort()).toEqual(['a', 'b', 'c']);
  });

  it('builds a scripted test with expect_reply after the step that produced each bot line', () => {
    const t = buildScriptedTest(
      'my test',
      { open: true, agents_online: false, handoff_enabled: true },
      [{ say: 'hi' }, { take_over: 'Ann' }, 'resolve'],
      ['Hello', 'What is your email?', 'Bye'],
      [2, 2, 2, 3],
    );
    expect(t).toEqual({
      name: 'my test',
      setup: { agents_online: false },
      steps: [
        { expect_reply: 'Hello' },
        { expect_reply: 'What is your email?' },
        { say: 'hi' },
        { take_over: 'Ann' },
        'resolve',
        { expect_reply: 'Bye' },
      ],
    });
  });

  it('labels steps, names tests uniquely, parses hand-back variables', () => {
    expect(stepLabel({ say: 'hi' })).toBe('say: hi');
    expect(stepLabel({ hand_back: { variables: { a: 1 }, resume_at: 'n' } })).toBe('hand back to n with a');
    expect(uniqueName('t', ['t', 't (2)'])).toBe('t (3)');
    expect(parseVariables('amount=94\nok=true\nname = Jane Doe\nbad')).toEqual({ amount: 94, ok: true, name: 'Jane Doe' });
  });
});
