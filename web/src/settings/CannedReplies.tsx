// Settings → Canned replies: saved replies agents insert in the inbox and edit before sending.
// Their text is a template: {{ name }}, {{ contact.email }}, {{ agent.name }}…

import { useStatus } from './useStatus';
import { useWorkspaceSettings } from './useWorkspaceSettings';

type Canned = { title: string; text: string };

export function CannedRepliesSettings({ canEdit }: { canEdit: boolean }) {
  const s = useStatus();
  const { settings, setSettings, save } = useWorkspaceSettings(s);
  if (!settings) return <p className="muted">Loading…</p>;
  const replies = (settings.canned_replies ?? []) as Canned[];
  const setReplies = (next: Canned[]) => setSettings({ ...settings, canned_replies: next });
  const edit = (i: number, patch: Partial<Canned>) => setReplies(replies.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  return (
    <section className="form" data-testid="canned-replies">
      <h1>Canned replies</h1>
      <p className="small muted">
        Agents insert these in the inbox and edit them before sending. Fill in what the flow collected with{' '}
        <code>{'{{ name }}'}</code>, the contact with <code>{'{{ contact.email }}'}</code>, the agent with{' '}
        <code>{'{{ agent.name }}'}</code>; <code>{'{{ name | default("there") }}'}</code> when it may be missing.
      </p>
      {s.view}
      {replies.length === 0 && <p className="muted">No canned replies yet.</p>}
      {replies.map((r, i) => (
        <fieldset key={i} className="card-box" data-testid="canned-reply">
          <label>
            Title
            <input value={r.title} maxLength={100} readOnly={!canEdit} onChange={(e) => edit(i, { title: e.target.value })} />
          </label>
          <label>
            Text
            <textarea rows={3} value={r.text} maxLength={2000} readOnly={!canEdit} onChange={(e) => edit(i, { text: e.target.value })} />
          </label>
          {canEdit && (
            <button className="link" onClick={() => setReplies(replies.filter((_, j) => j !== i))}>
              Remove
            </button>
          )}
        </fieldset>
      ))}
      {canEdit && (
        <div className="row">
          <button onClick={() => setReplies([...replies, { title: '', text: '' }])}>+ Canned reply</button>
          <span className="spacer" />
          <button className="primary" onClick={() => void save()}>Save</button>
        </div>
      )}
    </section>
  );
}
