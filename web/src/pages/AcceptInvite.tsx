// The page an invitation link opens: who invited whom to what, then a name and a password, and
// the new member is signed in.

import { useEffect, useState, type FormEvent } from 'react';
import { api, errorText, inboxApi, type InviteLookup } from '../api';

export function AcceptInvite({ token }: { token: string }) {
  const [invite, setInvite] = useState<InviteLookup | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    inboxApi.lookUpInvite(token).then(setInvite).catch((e) => setProblem(errorText(e)));
  }, [token]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!invite) return;
    setBusy(true);
    setError(null);
    try {
      await inboxApi.acceptInvite(token, name.trim(), password);
      await api.login(invite.email, password);
      // A full load, so the app starts signed in as the new member.
      window.location.assign('/app/inbox');
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  };

  return (
    <div className="login">
      {problem && (
        <div className="login-card">
          <div className="brand brand-large">Baton</div>
          <div className="banner banner-error" role="alert">{problem}</div>
          <a href="/app/login">Go to sign in</a>
        </div>
      )}
      {!problem && !invite && <div className="loading">Loading…</div>}
      {invite && (
        <form className="login-card" onSubmit={submit} aria-label="Join the workspace">
          <div className="brand brand-large">Baton</div>
          <h1>Join {invite.workspace_name}</h1>
          <p className="muted">
            {invite.invited_by_name} invited <strong>{invite.email}</strong> as {invite.role === 'agent' ? 'an agent' : `an ${invite.role}`}.
          </p>
          <label>
            Your name
            <input name="name" autoComplete="name" required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} autoFocus />
          </label>
          <label>
            Choose a password
            <input type="password" name="password" autoComplete="new-password" required minLength={12} value={password} onChange={(e) => setPassword(e.target.value)} />
          </label>
          <p className="small muted">At least 12 characters; not a common password.</p>
          {error && <div className="error-text" role="alert">{error}</div>}
          <button type="submit" className="primary" disabled={busy || !name.trim()}>
            {busy ? 'Joining…' : 'Join and sign in'}
          </button>
        </form>
      )}
    </div>
  );
}
