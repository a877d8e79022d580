// Entry routing on the Flows page: the order in which live flows are offered a new
// conversation, the fallback flow, and what the server finds wrong with the rules.

import { useCallback, useEffect, useState } from 'react';
import { api, errorText, type Routing } from '../api';
import { moveItem } from './routing';

export function RoutingPanel({ canEdit, revision }: { canEdit: boolean; revision: number }) {
  const [routing, setRouting] = useState<Routing | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    try {
      setRouting(await api.routing());
      setError(null);
    } catch (e) {
      setError(errorText(e));
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load, revision]);

  const save = async (order: string[], fallback: string | null) => {
    setBusy(true);
    try {
      setRouting(await api.setRouting(order, fallback));
      setError(null);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  if (routing === null) return error ? <div className="banner banner-error">{error}</div> : null;
  const live = routing.flows.filter((f) => f.live && f.live_version !== null);
  if (live.length === 0) return null;
  const ids = routing.flows.map((f) => f.id);
  const fallback = routing.fallback_flow_id;
  const names = new Map(routing.flows.map((f) => [f.id, f.name]));
  return (
    <section className="routing" aria-labelledby="routing-title">
      <h2 id="routing-title">Which flow answers a new conversation</h2>
      <p className="muted small">
        Live flows are tried from the top; the first whose entry rules hold (set on its Trigger) starts. The fallback takes every
        conversation no other flow takes.
      </p>
      {error && (
        <div className="banner banner-error" role="alert">
          {error}
        </div>
      )}
      <ol className="routing-list" aria-label="Live flows in the order they are tried">
        {live.map((f, i) => (
          <li key={f.id} data-routing-flow={f.id} className={f.id === fallback ? 'is-fallback' : undefined}>
            <div className="routing-main">
              <span className="routing-name">
                {i + 1}. {f.name}
              </span>
              <span className="muted small">{f.id === fallback ? 'fallback: takes the rest' : f.rules}</span>
            </div>
            {canEdit && (
              <div className="routing-actions">
                <button
                  type="button"
                  aria-label={`Move ${f.name} up`}
                  title="Try earlier"
                  disabled={busy || i === 0}
                  onClick={() => void save(moveItem(ids, live.map((x) => x.id), f.id, -1), fallback)}
                >
                  ↑
                </button>
                <button
                  type="button"
                  aria-label={`Move ${f.name} down`}
                  title="Try later"
                  disabled={busy || i === live.length - 1}
                  onClick={() => void save(moveItem(ids, live.map((x) => x.id), f.id, 1), fallback)}
                >
                  ↓
                </button>
                <label className="routing-fallback">
                  <input
                    type="radio"
                    name="fallback-flow"
                    checked={f.id === fallback}
                    disabled={busy}
                    onChange={() => void save(ids, f.id)}
                  />
                  Fallback
                </label>
              </div>
            )}
          </li>
        ))}
      </ol>
      {routing.findings.length > 0 && (
        <ul className="routing-findings" aria-label="Routing problems">
          {routing.findings.map((f, i) => (
            <li key={i} className="sev-warning">
              <span className="sev-dot sev-dot-warning" aria-label="warning" /> {f.message}
              {f.by && names.get(f.by) && <span className="muted small"> Move it above “{names.get(f.by)}”, or narrow that flow’s rules.</span>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
