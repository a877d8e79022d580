// API keys for automation (`Authorization: Bearer bk_…`): list, create (the secret is shown
// once) and revoke. Admins and owners.

import { useCallback, useEffect, useRef, useState } from 'react';
import { apiKeysApi, fieldProblem, type ApiKey, type FieldProblem, type Member, type Role } from '../api';
import { rolesUpTo, sortKeys } from './apiKeys';
import { useStatus } from './useStatus';

export function ApiKeys({ member }: { member: Member }) {
  const roles = rolesUpTo(member.role);
  if (roles.length === 0) {
    return (
      <section>
        <h1>API keys</h1>
        <p className="muted" data-testid="api-keys-admin-only">Only admins and owners see and create API keys.</p>
      </section>
    );
  }
  return <ApiKeysList roles={roles} />;
}

function ApiKeysList({ roles }: { roles: Role[] }) {
  const [keys, setKeys] = useState<ApiKey[] | null>(null);
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('admin');
  const [problem, setProblem] = useState<FieldProblem | null>(null);
  const [created, setCreated] = useState<{ key: ApiKey; secret: string } | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const s = useStatus();
  const load = useCallback(() => {
    apiKeysApi.list().then((list) => setKeys(sortKeys(list))).catch(s.fail);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  useEffect(load, [load]);

  const create = async () => {
    setBusy(true);
    setProblem(null);
    s.clear();
    try {
      setCreated(await apiKeysApi.create(name.trim(), role));
      setName('');
      load();
    } catch (e) {
      const p = fieldProblem(e, ['name', 'role']);
      if (p) setProblem(p);
      else s.fail(e);
    } finally {
      setBusy(false);
    }
  };
  const revoke = async (key: ApiKey) => {
    setBusy(true);
    try {
      await apiKeysApi.revoke(key.id);
      setConfirming(null);
      if (created?.key.id === key.id) setCreated(null);
      s.ok(`Revoked “${key.name}”: requests with it are refused from now on.`);
      load();
    } catch (e) {
      s.fail(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section data-testid="api-keys">
      <h1>API keys</h1>
      <p className="small muted">
        For scripts, back offices and CI: send <code>Authorization: Bearer bk_…</code>. A key acts with its role; agent actions in the inbox need a
        signed-in person.
      </p>
      {s.view}
      <div className="card-box form">
        <h2>New key</h2>
        <div className="row new-key">
          <label>
            Name
            <input name="key-name" placeholder="e.g. CI, CRM sync" maxLength={100} value={name} aria-invalid={problem?.field === 'name' ? true : undefined} onChange={(e) => setName(e.target.value)} />
            {problem?.field === 'name' && <span className="field-error" role="alert">{problem.message}</span>}
          </label>
          <label>
            Role
            <select name="key-role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
              {roles.map((r) => <option key={r} value={r}>{r}</option>)}
            </select>
            {problem?.field === 'role' && <span className="field-error" role="alert">{problem.message}</span>}
          </label>
          <button className="primary" disabled={busy || !name.trim()} onClick={() => void create()}>Create key</button>
        </div>
      </div>
      {created && <NewSecret name={created.key.name} secret={created.secret} onDone={() => setCreated(null)} />}
      {keys === null ? (
        <p className="muted">Loading…</p>
      ) : keys.length === 0 ? (
        <p className="muted">No API keys yet.</p>
      ) : (
        <table className="table" data-testid="api-key-list">
          <thead>
            <tr><th>Name</th><th>Key</th><th>Role</th><th>Created</th><th>Status</th><th /></tr>
          </thead>
          <tbody>
            {keys.map((k) => (
              <tr key={k.id} data-testid="api-key" data-id={k.id} className={k.revoked_at !== null ? 'revoked' : undefined}>
                <td>{k.name}</td>
                <td><code>{k.prefix}…</code></td>
                <td>{k.role}</td>
                <td className="small">{new Date(k.created_at).toLocaleString()}</td>
                <td className="small">
                  {k.revoked_at === null ? <span className="pill pill-resolved">active</span> : <span className="muted">revoked {new Date(k.revoked_at).toLocaleString()}</span>}
                </td>
                <td>
                  <div className="row-actions">
                    {k.revoked_at === null &&
                      (confirming === k.id ? (
                        <>
                          <span className="small">Revoke “{k.name}”?</span>
                          <button className="danger" disabled={busy} onClick={() => void revoke(k)}>Revoke key</button>
                          <button onClick={() => setConfirming(null)}>Keep it</button>
                        </>
                      ) : (
                        <button onClick={() => setConfirming(k.id)}>Revoke…</button>
                      ))}
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** The new key's secret: the server gives it this once. */
function NewSecret({ name, secret, onDone }: { name: string; secret: string; onDone: () => void }) {
  const input = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<string | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied('Copied.');
    } catch {
      // No clipboard (an insecure origin, or permission refused): select it for Ctrl+C.
      input.current?.select();
      setCopied('Selected: press Ctrl+C (⌘C) to copy it.');
    }
  };
  return (
    <div className="card-box secret-box" data-testid="api-key-created">
      <h2>Key “{name}” created</h2>
      <p className="warning-text">Copy it now: it will not be shown again. Store it like a password.</p>
      <div className="row">
        <input ref={input} readOnly className="mono" value={secret} aria-label="New API key" data-testid="api-key-secret" onFocus={(e) => e.target.select()} />
        <button className="primary" onClick={() => void copy()}>Copy</button>
        <button onClick={onDone}>Done</button>
      </div>
      {copied && <p className="small" role="status">{copied}</p>}
    </div>
  );
}
