// Settings → Members: invite by link or add with a first password, change roles, deactivate
// and reactivate; presence as the API reports it.

import { useCallback, useEffect, useState } from 'react';
import { errorText, inboxApi, type Invite, type Member } from '../api';
import { useStatus } from './useStatus';
import { roleChoices, roleLabel } from './members';

export function MembersSettings({ me }: { me: Member }) {
  const [members, setMembers] = useState<Member[]>([]);
  const [invites, setInvites] = useState<Invite[]>([]);
  const [inviting, setInviting] = useState({ email: '', role: 'agent' });
  const [link, setLink] = useState<{ email: string; url: string } | null>(null);
  const [adding, setAdding] = useState({ name: '', email: '', role: 'agent', password: '' });
  const [error, setError] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const s = useStatus();
  const canManage = me.role === 'owner' || me.role === 'admin';
  const load = useCallback(() => {
    inboxApi.members().then(setMembers).catch(s.fail);
    if (canManage) inboxApi.invites().then(setInvites).catch(s.fail);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [canManage]);
  useEffect(load, [load]);

  const invite = async () => {
    try {
      const res = await inboxApi.invite(inviting.email.trim(), inviting.role);
      setLink({ email: res.invite.email, url: `${window.location.origin}${res.path}` });
      setInviting({ email: '', role: 'agent' });
      setError(null);
      load();
    } catch (e) {
      setError(errorText(e));
    }
  };
  const add = async () => {
    try {
      await inboxApi.addMember({ ...adding, name: adding.name.trim(), email: adding.email.trim() });
      s.ok(`Added ${adding.name.trim() || adding.email.trim()}. They sign in with their email and the password you set.`);
      setAdding({ name: '', email: '', role: 'agent', password: '' });
      setError(null);
      load();
    } catch (e) {
      setError(errorText(e));
    }
  };
  const change = async (m: Member, change: { role?: string; active?: boolean }, done: string) => {
    try {
      await inboxApi.updateMember(m.id, change);
      s.ok(done);
      load();
    } catch (e) {
      s.fail(e);
    }
  };
  const revoke = async (i: Invite) => {
    try {
      await inboxApi.revokeInvite(i.id);
      s.ok(`The invitation to ${i.email} no longer works.`);
      load();
    } catch (e) {
      s.fail(e);
    }
  };

  return (
    <section>
      <h1>Members</h1>
      {s.view}
      {canManage && (
        <div className="card-box form" data-testid="invite-member">
          <h2>Invite a teammate</h2>
          <div className="row">
            <label>Email <input type="email" value={inviting.email} onChange={(e) => setInviting({ ...inviting, email: e.target.value })} /></label>
            <label>
              Role
              <select value={inviting.role} onChange={(e) => setInviting({ ...inviting, role: e.target.value })}>
                {roleChoices(me.role).map((r) => <option key={r} value={r}>{roleLabel(r)}</option>)}
              </select>
            </label>
            <button className="primary" disabled={!inviting.email.trim()} onClick={() => void invite()}>Create invitation link</button>
          </div>
          {link && (
            <div className="banner banner-info" role="status" data-testid="invite-link">
              Send this link to {link.email}; it works once, for 7 days:
              <div className="row">
                <input readOnly aria-label="Invitation link" value={link.url} onFocus={(e) => e.target.select()} />
                <button onClick={() => void navigator.clipboard?.writeText(link.url).then(() => s.ok('Link copied.'), () => undefined)}>Copy</button>
              </div>
            </div>
          )}
          {invites.length > 0 && (
            <table className="table" data-testid="invites">
              <thead><tr><th>Invited</th><th>Role</th><th>Expires</th><th /></tr></thead>
              <tbody>
                {invites.map((i) => (
                  <tr key={i.id}>
                    <td>{i.email}</td>
                    <td>{roleLabel(i.role)}</td>
                    <td>{new Date(i.expires_at).toLocaleDateString()}</td>
                    <td><button onClick={() => void revoke(i)}>Revoke</button></td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      )}
      {canManage && (
        <details className="card-box form" data-testid="add-member">
          <summary>Or add a teammate with a first password</summary>
          <div className="row">
            <label>Name <input value={adding.name} onChange={(e) => setAdding({ ...adding, name: e.target.value })} /></label>
            <label>Email <input type="email" value={adding.email} onChange={(e) => setAdding({ ...adding, email: e.target.value })} /></label>
            <label>
              Role
              <select value={adding.role} onChange={(e) => setAdding({ ...adding, role: e.target.value })}>
                {roleChoices(me.role).map((r) => <option key={r} value={r}>{roleLabel(r)}</option>)}
              </select>
            </label>
            <label>First password <input type="password" autoComplete="new-password" value={adding.password} onChange={(e) => setAdding({ ...adding, password: e.target.value })} /></label>
          </div>
          <div className="row">
            <button className="primary" disabled={!adding.email.trim() || !adding.password} onClick={() => void add()}>Add teammate</button>
            <span className="small muted">Give them the password; they sign in at this page's address.</span>
          </div>
        </details>
      )}
      {error && <div className="banner banner-error" role="alert">{error}</div>}
      <table className="table" data-testid="members">
        <thead><tr><th>Name</th><th>Email</th><th>Role</th><th>Presence</th><th>Status</th><th /></tr></thead>
        <tbody>
          {members.map((m) => {
            const active = m.active !== false;
            const editable = canManage && m.id !== me.id && (m.role !== 'owner' || me.role === 'owner');
            return (
              <tr key={m.id} className={active ? undefined : 'muted'}>
                <td>{m.name}{m.id === me.id && <span className="small muted"> (you)</span>}</td>
                <td>{m.email}</td>
                <td>
                  {editable ? (
                    <select
                      aria-label={`Role of ${m.name}`}
                      value={m.role}
                      onChange={(e) => void change(m, { role: e.target.value }, `${m.name} is now ${roleLabel(e.target.value).toLowerCase()}.`)}
                    >
                      {roleChoices(me.role).map((r) => <option key={r} value={r}>{roleLabel(r)}</option>)}
                    </select>
                  ) : (
                    roleLabel(m.role)
                  )}
                </td>
                <td>{active ? (m.presence ?? '—') : '—'}</td>
                <td>{active ? 'Active' : 'Deactivated'}</td>
                <td>
                  {editable && active && confirming !== m.id && (
                    <button onClick={() => setConfirming(m.id)}>Deactivate</button>
                  )}
                  {editable && active && confirming === m.id && (
                    <span className="row" role="group" aria-label={`Deactivate ${m.name}?`}>
                      <span className="small">Sign {m.name} out and give their conversations back to the queue?</span>
                      <button
                        className="danger"
                        onClick={() => {
                          setConfirming(null);
                          void change(m, { active: false }, `${m.name} is deactivated; their conversations went back to the queue.`);
                        }}
                      >
                        Yes, deactivate
                      </button>
                      <button onClick={() => setConfirming(null)}>Cancel</button>
                    </span>
                  )}
                  {editable && !active && (
                    <button onClick={() => void change(m, { active: true }, `${m.name} can sign in again.`)}>Reactivate</button>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
