// Undo/redo of the document. Edits push the previous document; typing into one field is merged
// into one step (same `group` in a row); dragging replaces the document without a step and
// records one step when the drag ends.

export interface History<T> {
  past: T[];
  present: T;
  future: T[];
  /** The group of the last edit; a following edit of the same group merges into it. */
  group: string | null;
  /** Bumped on every change of `present`, so autosave can tell edits from loads. */
  revision: number;
}

export type HistoryAction<T> =
  | { type: 'edit'; value: T; group?: string }
  | { type: 'replace'; value: T }
  | { type: 'checkpoint'; before: T }
  | { type: 'undo' }
  | { type: 'redo' }
  | { type: 'reset'; value: T };

export const HISTORY_LIMIT = 200;

export function initHistory<T>(value: T): History<T> {
  return { past: [], present: value, future: [], group: null, revision: 0 };
}

export function historyReducer<T>(state: History<T>, action: HistoryAction<T>): History<T> {
  switch (action.type) {
    case 'edit': {
      if (action.value === state.present) return state;
      const group = action.group ?? null;
      if (group !== null && group === state.group) {
        return { ...state, present: action.value, future: [], revision: state.revision + 1 };
      }
      return {
        past: [...state.past, state.present].slice(-HISTORY_LIMIT),
        present: action.value,
        future: [],
        group,
        revision: state.revision + 1,
      };
    }
    case 'replace':
      if (action.value === state.present) return state;
      return { ...state, present: action.value, revision: state.revision + 1 };
    case 'checkpoint':
      if (action.before === state.present) return state;
      return {
        ...state,
        past: [...state.past, action.before].slice(-HISTORY_LIMIT),
        future: [],
        group: null,
      };
    case 'undo': {
      const prev = state.past[state.past.length - 1];
      if (prev === undefined) return state;
      return {
        past: state.past.slice(0, -1),
        present: prev,
        future: [state.present, ...state.future],
        group: null,
        revision: state.revision + 1,
      };
    }
    case 'redo': {
      const next = state.future[0];
      if (next === undefined) return state;
      return {
        past: [...state.past, state.present],
        present: next,
        future: state.future.slice(1),
        group: null,
        revision: state.revision + 1,
      };
    }
    case 'reset':
      return { ...initHistory(action.value), revision: state.revision + 1 };
  }
}

export function canUndo<T>(h: History<T>): boolean {
  return h.past.length > 0;
}

export function canRedo<T>(h: History<T>): boolean {
  return h.future.length > 0;
}
