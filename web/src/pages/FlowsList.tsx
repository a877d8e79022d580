import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { api, errorText, type FlowSummary, type Member } from '../api';
import { newFlowDocument } from '../flow/document';
import { navigate } from '../router';
import { RoutingPanel } from './RoutingPanel';
import { TopBar } from './TopBar';

interface Status {
  errors: number;
  warnings: number;
}

function formatTime(ms: number): string {
  return new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function FlowsList({ member, onSignOut }: { member: Member; onSignOut: () => void }) {
  const [flows, setFlows] = useState<FlowSummary[] | null>(null);
  const [status, setStatus] = useState<Record<string, Status | 'error'>>({});
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const [newName, setNewName] = useState('');
  const [busy, setBusy] = useState<string | null>(null);
  // Bumped when flows change, so the routing panel reads the order again.
  const [revision, setRevision] = useState(0);
  const fileInput = useRef<HTMLInputElement>(null);

  const load = useCallback(async () => {
    try {
      const list = await api.flows();
      list.sort((a, b) => a.name.localeCompare(b.name));
      setFlows(list);
      setError(null);
      const entries = await Promise.all(
        list.map(async (f) => {
          try {
            const d = await api.flow(f.id);
            return [f.id, { errors: d.errors, warnings: d.warnings }] as const;
          } catch {
            return [f.id, 'error' as const] as const;
          }
        }),
      );
      setStatus(Object.fromEntries(entries));
    } catch (e) {
      setError(errorText(e));
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    const name = newName.trim();
    if (!name) return;
    setBusy('create');
    try {
      const flow = await api.createFlow(newFlowDocument(name));
      navigate({ page: 'builder', flowId: flow.id });
    } catch (err) {
      setError(errorText(err));
      setBusy(null);
    }
  };

  const duplicate = async (f: FlowSummary) => {
    setBusy(f.id);
    try {
      const detail = await api.flow(f.id);
      const copy = await api.createFlow({ ...detail.draft, name: `${detail.draft.name} (copy)`.slice(0, 200) });
      setNotice(`Duplicated “${f.name}” as “${copy.name}”.`);
      await load();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(null);
    }
  };

  const setLive = async (f: FlowSummary, live: boolean) => {
    setBusy(f.id);
    try {
      const updated = await api.setLive(f.id, live);
      setFlows((list) => list?.map((x) => (x.id === f.id ? updated : x)) ?? null);
      setRevision((r) => r + 1);
      setError(null);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(null);
    }
  };

  const importFile = async (file: File) => {
    setBusy('import');
    try {
      let doc: unknown;
      try {
        doc = JSON.parse(await file.text());
      } catch (err) {
        throw new Error(`${file.name} is not JSON: ${err instanceof Error ? err.message : String(err)}`);
      }
      const flow = await api.importFlow(doc);
      setNotice(
        `Imported “${flow.name}”` +
          (flow.errors || flow.warnings ? ` (${flow.errors} errors, ${flow.warnings} warnings to look at).` : '.'),
      );
      setError(null);
      await load();
    } catch (err) {
      setError(`Import failed: ${errorText(err)}`);
    } finally {
      setBusy(null);
      if (fileInput.current) fileInput.current.value = '';
    }
  };

  const canEdit = member.role !== 'agent';

  return (
    <div className="app-page">
      <TopBar member={member} onSignOut={onSignOut} />
      <main className="page">
        <div className="page-head">
          <h1>Flows</h1>
          {canEdit && (
            <div className="page-actions">
              {creating ? (
                <form className="inline-form" onSubmit={create}>
                  <input
                    aria-label="New flow name"
                    placeholder="Name, e.g. Refund request"
                    value={newName}
                    maxLength={200}
                    autoFocus
                    onChange={(e) => setNewName(e.target.value)}
                  />
                  <button type="submit" className="primary" disabled={!newName.trim() || busy === 'create'}>
                    Create
                  </button>
                  <button type="button" onClick={() => setCreating(false)}>
                    Cancel
                  </button>
                </form>
              ) : (
                <button className="primary" onClick={() => setCreating(true)}>
                  + New flow
                </button>
              )}
              <button onClick={() => fileInput.current?.click()} disabled={busy === 'import'}>
                Import…
              </button>
              <input
                ref={fileInput}
                type="file"
                accept=".json,application/json"
                hidden
                data-testid="import-file"
                onChange={(e) => {
                  const file = e.target.files?.[0];
                  if (file) void importFile(file);
                }}
              />
            </div>
          )}
        </div>
        {error && (
          <div className="banner banner-error" role="alert">
            {error}
          </div>
        )}
        {notice && (
          <div className="banner banner-info" role="status">
            {notice}
            <button className="link" onClick={() => setNotice(null)}>
              Dismiss
            </button>
          </div>
        )}
        {flows === null ? (
          <p className="muted">Loading flows…</p>
        ) : flows.length === 0 ? (
          <div className="empty">
            <p>No flows yet.</p>
            <p className="muted">Create one, or import a .flow.json file.</p>
          </div>
        ) : (
          <table className="flows-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>State</th>
                <th>Live</th>
                <th>Published</th>
                <th>Validation</th>
                <th>Updated</th>
                <th aria-label="Actions" />
              </tr>
            </thead>
            <tbody>
              {flows.map((f) => {
                const st = status[f.id];
                return (
                  <tr key={f.id} data-flow-id={f.id}>
                    <td>
                      <a
                        className="flow-name"
                        href={`/app/flows/${encodeURIComponent(f.id)}`}
                        onClick={(e) => {
                          e.preventDefault();
                          navigate({ page: 'builder', flowId: f.id });
                        }}
                      >
                        {f.name}
                      </a>
                    </td>
                    <td>
                      {f.live_version === null ? (
                        <span className="badge badge-draft">Draft</span>
                      ) : f.live ? (
                        <span className="badge badge-live">Live</span>
                      ) : (
                        <span className="badge badge-off">Off</span>
                      )}
                    </td>
                    <td>
                      <label className="switch" title={f.live_version === null ? 'Publish the flow before switching it on' : f.live ? 'Switch off' : 'Switch on'}>
                        <input
                          type="checkbox"
                          role="switch"
                          aria-label={`Live: ${f.name}`}
                          checked={f.live}
                          disabled={!canEdit || busy === f.id || f.live_version === null}
                          onChange={(e) => void setLive(f, e.target.checked)}
                        />
                        <span className="switch-track" />
                      </label>
                    </td>
                    <td>{f.live_version === null ? <span className="muted">never</span> : `version ${f.live_version}`}</td>
                    <td>
                      {st === undefined ? (
                        <span className="muted">…</span>
                      ) : st === 'error' ? (
                        <span className="muted">unknown</span>
                      ) : st.errors > 0 ? (
                        <span className="status status-error">
                          {st.errors} {st.errors === 1 ? 'error' : 'errors'}
                          {st.warnings > 0 && `, ${st.warnings} ${st.warnings === 1 ? 'warning' : 'warnings'}`}
                        </span>
                      ) : st.warnings > 0 ? (
                        <span className="status status-warning">
                          {st.warnings} {st.warnings === 1 ? 'warning' : 'warnings'}
                        </span>
                      ) : (
                        <span className="status status-ok">No problems</span>
                      )}
                    </td>
                    <td className="muted">{formatTime(f.updated_at)}</td>
                    <td className="row-actions">
                      <button onClick={() => navigate({ page: 'builder', flowId: f.id })}>Open</button>
                      {canEdit && (
                        <button onClick={() => void duplicate(f)} disabled={busy === f.id}>
                          Duplicate
                        </button>
                      )}
                      <a className="button" href={api.exportUrl(f.id)} download>
                        Export
                      </a>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
        {flows !== null && flows.length > 0 && <RoutingPanel canEdit={canEdit} revision={revision} />}
      </main>
    </div>
  );
}
