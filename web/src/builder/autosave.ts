// What the builder's save indicator says. Pure: the Editor owns the timer and the requests.

export type SaveState = { state: 'saved' } | { state: 'pending' } | { state: 'saving' } | { state: 'error'; message: string };

/**
 * The indicator once the document in the editor becomes `doc`. `lastSent` is the document the
 * last save sent (the one loaded, before any save) and `lastError` what went wrong with that
 * save (null when it was saved). Back at the document last sent — an Undo then a Redo within
 * the autosave delay — nothing is left to save, so the indicator says what became of that save.
 * A save in flight keeps saying "Saving…"; its end decides.
 */
export function saveStateFor<T>(current: SaveState, doc: T, lastSent: T, lastError: string | null): SaveState {
  if (current.state === 'saving') return current;
  if (doc !== lastSent) return { state: 'pending' };
  return lastError === null ? { state: 'saved' } : { state: 'error', message: lastError };
}

/** The indicator's words. */
export function saveLabel(save: SaveState): string {
  switch (save.state) {
    case 'saved':
      return 'All changes saved';
    case 'saving':
      return 'Saving…';
    case 'pending':
      return 'Unsaved changes';
    case 'error':
      return `Not saved: ${save.message}`;
  }
}
