import { describe, expect, it } from 'vitest';
import { historyReducer, initHistory, type History } from '../flow/history';
import { saveLabel, saveStateFor, type SaveState } from './autosave';

interface Doc {
  name: string;
}

/** The Editor's autosave as it reacts to documents: the indicator, and what was last sent. */
class Autosave {
  state: SaveState = { state: 'saved' };
  lastError: string | null = null;
  constructor(public lastSent: Doc) {}
  sees(doc: Doc) {
    this.state = saveStateFor(this.state, doc, this.lastSent, this.lastError);
  }
  saves(doc: Doc, error: string | null = null) {
    this.lastSent = doc;
    this.lastError = error;
    this.state = error === null ? { state: 'saved' } : { state: 'error', message: error };
  }
}

describe('save indicator', () => {
  it('says saved after Undo then Redo within the autosave delay', () => {
    let h: History<Doc> = initHistory({ name: 'Refund' });
    const save = new Autosave(h.present);
    h = historyReducer(h, { type: 'edit', value: { name: 'Refunds' } });
    save.sees(h.present);
    expect(saveLabel(save.state)).toBe('Unsaved changes');
    save.saves(h.present);
    h = historyReducer(h, { type: 'undo' });
    save.sees(h.present);
    expect(saveLabel(save.state)).toBe('Unsaved changes');
    // Redo before the autosave timer fires: back at the saved document, no save is made.
    h = historyReducer(h, { type: 'redo' });
    save.sees(h.present);
    expect(save.state).toEqual({ state: 'saved' });
    expect(saveLabel(save.state)).toBe('All changes saved');
  });

  it('says saved after an edit is undone before it was saved', () => {
    let h: History<Doc> = initHistory({ name: 'Refund' });
    const save = new Autosave(h.present);
    h = historyReducer(h, { type: 'edit', value: { name: 'Refunds' } });
    save.sees(h.present);
    h = historyReducer(h, { type: 'undo' });
    save.sees(h.present);
    expect(save.state).toEqual({ state: 'saved' });
  });

  it('keeps saying a failed save failed when the document goes back to it', () => {
    let h: History<Doc> = initHistory({ name: 'Refund' });
    const save = new Autosave(h.present);
    h = historyReducer(h, { type: 'edit', value: { name: 'Refunds' } });
    save.sees(h.present);
    save.saves(h.present, 'the server could not be reached');
    h = historyReducer(h, { type: 'undo' });
    save.sees(h.present);
    expect(save.state.state).toBe('pending');
    h = historyReducer(h, { type: 'redo' });
    save.sees(h.present);
    expect(saveLabel(save.state)).toBe('Not saved: the server could not be reached');
  });

  it('keeps saying Saving… while a save is in flight', () => {
    const sent = { name: 'a' };
    expect(saveStateFor({ state: 'saving' }, { name: 'b' }, sent, null)).toEqual({ state: 'saving' });
    expect(saveStateFor({ state: 'saving' }, sent, sent, null)).toEqual({ state: 'saving' });
  });
});
