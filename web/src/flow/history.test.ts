import { describe, expect, it } from 'vitest';
import { canRedo, canUndo, HISTORY_LIMIT, historyReducer, initHistory, type History } from './history';

type H = History<string>;
const edit = (h: H, value: string, group?: string) => historyReducer(h, { type: 'edit', value, group });

describe('undo/redo reducer', () => {
  it('undoes and redoes edits in order', () => {
    let h = initHistory('a');
    h = edit(h, 'b');
    h = edit(h, 'c');
    expect(h.present).toBe('c');
    expect(canUndo(h)).toBe(true);
    h = historyReducer(h, { type: 'undo' });
    expect(h.present).toBe('b');
    h = historyReducer(h, { type: 'undo' });
    expect(h.present).toBe('a');
    expect(canUndo(h)).toBe(false);
    h = historyReducer(h, { type: 'undo' });
    expect(h.present).toBe('a');
    h = historyReducer(h, { type: 'redo' });
    expect(h.present).toBe('b');
    h = historyReducer(h, { type: 'redo' });
    expect(h.present).toBe('c');
    expect(canRedo(h)).toBe(false);
  });

  it('a new edit drops the redo steps', () => {
    let h = edit(edit(initHistory('a'), 'b'), 'c');
    h = historyReducer(h, { type: 'undo' });
    h = edit(h, 'x');
    expect(canRedo(h)).toBe(false);
    expect(h.past).toEqual(['a', 'b']);
  });

  it('merges edits of one group in a row (typing into a field) into one step', () => {
    let h = initHistory('');
    h = edit(h, 'H', 'text');
    h = edit(h, 'He', 'text');
    h = edit(h, 'Hey', 'text');
    h = edit(h, 'Hey!', 'other');
    expect(h.past).toEqual(['', 'Hey']);
    h = historyReducer(h, { type: 'undo' });
    expect(h.present).toBe('Hey');
    h = historyReducer(h, { type: 'undo' });
    expect(h.present).toBe('');
    // After an undo, the same group starts a new step.
    h = edit(h, 'A', 'text');
    h = edit(h, 'AB', 'text');
    expect(h.past).toEqual(['']);
  });

  it('replace (a drag in progress) adds no step; checkpoint records the state before it', () => {
    let h = initHistory('start');
    const before = h.present;
    h = historyReducer(h, { type: 'replace', value: 'moving 1' });
    h = historyReducer(h, { type: 'replace', value: 'moving 2' });
    expect(h.past).toEqual([]);
    h = historyReducer(h, { type: 'checkpoint', before });
    expect(h.present).toBe('moving 2');
    h = historyReducer(h, { type: 'undo' });
    expect(h.present).toBe('start');
  });

  it('an edit that changes nothing is no step', () => {
    const h = initHistory('same');
    expect(edit(h, 'same')).toBe(h);
  });

  it('reset forgets the history', () => {
    let h = edit(initHistory('a'), 'b');
    h = historyReducer(h, { type: 'reset', value: 'loaded' });
    expect(h.present).toBe('loaded');
    expect(canUndo(h) || canRedo(h)).toBe(false);
  });

  it('keeps at most HISTORY_LIMIT steps', () => {
    let h = initHistory('0');
    for (let i = 1; i <= HISTORY_LIMIT + 50; i++) h = edit(h, String(i));
    expect(h.past.length).toBe(HISTORY_LIMIT);
    expect(h.past[h.past.length - 1]).toBe(String(HISTORY_LIMIT + 49));
  });
});
