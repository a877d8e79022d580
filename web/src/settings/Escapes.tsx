// Escapes: what a customer can type at any question instead of answering (ask for a person,
// start over, cancel, correct an earlier answer), configured once for the workspace.

import { useStatus } from './useStatus';
import { useWorkspaceSettings } from './useWorkspaceSettings';

type Escapes = {
  human?: string[];
  start_over?: string[];
  cancel?: string[];
  corrections?: boolean;
  classify?: boolean;
  cancel_message?: string;
  start_over_message?: string;
  correction_message?: string;
};

const LISTS: Array<[keyof Escapes, string, string]> = [
  ['human', 'Asks for a person', 'Hands over to the default queue (or where the question’s escape port leads); the hand-back asks the question again.'],
  ['start_over', 'Starts over', 'The flow runs again from its trigger, forgetting the answers.'],
  ['cancel', 'Cancels', 'The conversation ends.'],
];

const MESSAGES: Array<[keyof Escapes, string]> = [
  ['cancel_message', 'Said when the customer cancels'],
  ['start_over_message', 'Said before starting over'],
  ['correction_message', 'Said after a correction ({{ corrected }}: what was corrected)'],
];

const lines = (text: string): string[] =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');

export function EscapesSettings() {
  const s = useStatus();
  const { settings, setSettings, save } = useWorkspaceSettings(s);
  if (!settings) return <p className="muted">Loading…</p>;
  const escapes = (settings.escapes ?? {}) as Escapes;
  const set = (key: keyof Escapes, value: unknown) => setSettings({ ...settings, escapes: { ...escapes, [key]: value } });
  return (
    <section className="form" data-testid="escape-settings">
      <h1>Escapes</h1>
      <p className="small muted">
        At any question, a customer can type one of these instead of an answer; it is never stored as the answer. A question can
        offer fewer (its Escapes in the builder). An empty list turns that escape off.
      </p>
      {LISTS.map(([key, label, hint]) => (
        <label key={key}>
          {label} — one phrase per line
          <textarea rows={4} value={(escapes[key] as string[] | undefined)?.join('\n') ?? ''} onChange={(e) => set(key, e.target.value.split('\n'))} onBlur={(e) => set(key, lines(e.target.value))} />
          <span className="field-hint">{hint}</span>
        </label>
      ))}
      <label className="check">
        <input type="checkbox" checked={escapes.corrections !== false} onChange={(e) => set('corrections', e.target.checked)} /> Read corrections (“actually my
        email is …” updates the earlier answer)
      </label>
      <label className="check">
        <input type="checkbox" checked={escapes.classify !== false} onChange={(e) => set('classify', e.target.checked)} /> Also ask the intent classifier when
        a typed text is not an answer (“could someone from your team help me” has none of the phrases)
      </label>
      {MESSAGES.map(([key, label]) => (
        <label key={key}>
          {label}
          <textarea rows={2} value={String(escapes[key] ?? '')} onChange={(e) => set(key, e.target.value)} />
        </label>
      ))}
      <div className="row">
        <button className="primary" onClick={() => void save()}>
          Save
        </button>
      </div>
      {s.view}
    </section>
  );
}
