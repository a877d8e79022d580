// Per-flow analytics: conversations, containment, abandoned, CSAT, hand-overs per node by outcome,
// time to pickup, drop-off per waiting node, and per agent CSAT and missed reply targets.
// Plain SVG/CSS bars.

import { useEffect, useMemo, useState } from 'react';
import { api, errorText, flowApi, inboxApi, type FlowAnalytics, type FlowDetail, type Member } from '../api';
import { navigate } from '../router';
import { TopBar } from './TopBar';
import { agentRows, dropOffExplanation, dropOffRows, duration, handoverRate, nodeNames, outcomeSegments, percent } from './analytics';

const COLORS: Record<string, string> = {
  handed_back: '#2454d6',
  resolved: '#1b7f3b',
  cancelled: '#9ca3af',
  timeout: '#c8312b',
  off_hours: '#a15c00',
  no_agent: '#d97706',
  ended: '#6b3fc7',
};

export function Analytics({ flowId, member, onSignOut }: { flowId: string; member: Member; onSignOut: () => void }) {
  const [data, setData] = useState<FlowAnalytics | null>(null);
  const [flow, setFlow] = useState<FlowDetail | null>(null);
  const [members, setMembers] = useState<Member[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    flowApi.analytics(flowId).then(setData).catch((e) => setError(errorText(e)));
    api.flow(flowId).then(setFlow).catch(() => undefined);
    inboxApi.members().then(setMembers).catch(() => undefined);
  }, [flowId]);
  const people = useMemo(() => agentRows(data, (id) => members.find((m) => m.id === id)?.name), [data, members]);
  const name = flow?.name ?? '';
  const names = useMemo(() => nodeNames(flow?.draft), [flow]);
  const dropOff = useMemo(() => dropOffRows(data, names), [data, names]);
  const totalDropped = dropOff.reduce((s, r) => s + r.dropped_off, 0);
  const totalWaiting = dropOff.reduce((s, r) => s + r.waiting, 0);
  const maxPickup = Math.max(1, ...(data?.handover_nodes ?? []).map((n) => n.pickup_ms_max ?? 0));
  return (
    <div className="app-page">
      <TopBar member={member} onSignOut={onSignOut}>
        <button className="link" onClick={() => navigate({ page: 'builder', flowId })}>← Builder</button>
      </TopBar>
      <main className="page analytics" data-testid="analytics">
        <h1>Analytics{name ? ` · ${name}` : ''}</h1>
        {error && <div className="banner banner-error" role="alert">{error}</div>}
        {data && (
          <>
            <div className="stat-row">
              <div className="stat"><div className="stat-value" data-testid="stat-conversations">{data.conversations}</div><div className="muted">conversations</div></div>
              <div className="stat"><div className="stat-value">{data.contained}</div><div className="muted">contained (no person needed)</div></div>
              <div className="stat">
                <div className="stat-value">{percent(data.containment_rate)}</div>
                <div className="muted">containment</div>
                <svg className="meter" viewBox="0 0 100 8" preserveAspectRatio="none" aria-hidden="true">
                  <rect x="0" y="0" width="100" height="8" fill="#e2e5ea" rx="4" />
                  <rect x="0" y="0" width={Math.round((data.containment_rate ?? 0) * 100)} height="8" fill="#1b7f3b" rx="4" />
                </svg>
              </div>
              <div className="stat"><div className="stat-value" data-testid="stat-abandoned">{data.abandoned ?? 0}</div><div className="muted">abandoned (the customer went quiet)</div></div>
              <div className="stat">
                <div className="stat-value" data-testid="stat-csat">{percent(data.csat?.csat)}</div>
                <div className="muted">CSAT · {data.csat?.ratings ?? 0} ratings{data.csat?.average_of_5 != null ? ` · ${data.csat.average_of_5.toFixed(1)} of 5` : ''}</div>
              </div>
              <div className="stat"><div className="stat-value" data-testid="stat-reply-missed">{data.reply_missed?.total ?? 0}</div><div className="muted">missed reply targets</div></div>
            </div>
            <h2>Hand-overs by node</h2>
            {data.handover_nodes.length === 0 ? (
              <p className="muted">No hand-overs yet.</p>
            ) : (
              <table className="table analytics-table">
                <thead>
                  <tr><th>Node</th><th>Hand-overs</th><th>Rate</th><th>Outcomes</th><th>Picked up</th><th>Time to pickup (avg / max)</th></tr>
                </thead>
                <tbody>
                  {data.handover_nodes.map((n) => (
                    <tr key={n.node} data-node={n.node}>
                      <td><code>{n.node}</code></td>
                      <td>{n.handovers}</td>
                      <td>{percent(handoverRate(n, data.conversations))}</td>
                      <td>
                        <div className="stacked" role="img" aria-label={outcomeSegments(n).map((s) => `${s.outcome} ${s.count}`).join(', ')}>
                          {outcomeSegments(n).map((s) => (
                            <span key={s.outcome} style={{ width: `${s.share * 100}%`, background: COLORS[s.outcome] ?? '#64748b' }} title={`${s.outcome}: ${s.count}`} />
                          ))}
                        </div>
                        <div className="small muted">{outcomeSegments(n).map((s) => `${s.outcome.replace('_', ' ')} ${s.count}`).join(' · ')}</div>
                      </td>
                      <td>{n.picked_up}</td>
                      <td>
                        <div className="pickup-bar"><span style={{ width: `${((n.pickup_ms_avg ?? 0) / maxPickup) * 100}%` }} /></div>
                        <span className="small">{duration(n.pickup_ms_avg)} / {duration(n.pickup_ms_max)}</span>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            <section data-testid="by-agent">
              <h2>By agent</h2>
              {people.length === 0 ? (
                <p className="muted">No ratings or missed reply targets yet.</p>
              ) : (
                <table className="table analytics-table">
                  <thead>
                    <tr><th>Agent</th><th>Ratings</th><th>CSAT</th><th>Average (of 5)</th><th>Missed first replies</th><th>Missed next replies</th></tr>
                  </thead>
                  <tbody>
                    {people.map((p) => (
                      <tr key={p.id ?? 'none'} data-agent={p.id ?? ''}>
                        <td>{p.name}</td>
                        <td>{p.ratings}</td>
                        <td>{percent(p.csat)}</td>
                        <td>{p.averageOf5 != null ? p.averageOf5.toFixed(1) : '—'}</td>
                        <td>{p.missedFirst}</td>
                        <td>{p.missedNext}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </section>
            <section className="dropoff" data-testid="dropoff">
              <h2>Drop-off</h2>
              <p className="muted small" data-testid="dropoff-explanation">{dropOffExplanation(data.drop_off_after_ms)}</p>
              {totalDropped === 0 && (
                <p className="muted" data-testid="dropoff-empty">
                  No drop-off yet{totalWaiting > 0 ? ` — ${totalWaiting} waiting for the customer now` : ''}.
                </p>
              )}
              {dropOff.length > 0 && (
                <table className="table analytics-table dropoff-table">
                  <thead>
                    <tr><th>Node</th><th>Dropped off</th><th>Share of conversations</th><th>Waiting now</th></tr>
                  </thead>
                  <tbody>
                    {dropOff.map((r) => (
                      <tr key={r.node} data-node={r.node} data-testid="dropoff-row">
                        <td>
                          <code>{r.node}</code>{' '}
                          <span className="muted small">{r.name ? r.name.label : 'not in the current draft'}</span>
                          {r.name?.text && <div className="small muted dropoff-text" title={r.name.text}>{r.name.text}</div>}
                        </td>
                        <td>
                          <div className="dropoff-cell">
                            <div className="dropoff-bar" role="img" aria-label={`${r.dropped_off} dropped off`}>
                              <span style={{ width: `${r.width * 100}%` }} />
                            </div>
                            <strong data-testid="dropoff-count">{r.dropped_off}</strong>
                          </div>
                        </td>
                        <td data-testid="dropoff-share">{percent(r.share)}</td>
                        <td data-testid="dropoff-waiting">{r.waiting}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </section>
          </>
        )}
      </main>
    </div>
  );
}
