// Settings: hand-off, teams (members, business hours), members, event subscriptions, the
// knowledge base, the AI provider, API keys and the widget (its install tag).

import { useCallback, useEffect, useState } from 'react';
import { errorText, eventsApi, inboxApi, type Delivery, type Member, type ReplyTargets, type Subscription, type Team } from '../api';
import { navigate } from '../router';
import { TopBar } from '../pages/TopBar';
import { fromRows, rowsProblem, toRows, type DayRow } from './hours';
import { describeTargets, NO_TARGETS } from './replyTargets';
import { ReplyTargetsFields } from './ReplyTargetsFields';
import { AiProvider } from './AiProvider';
import { ApiKeys } from './ApiKeys';
import { EscapesSettings } from './Escapes';
import { MembersSettings } from './Members';
import { CannedRepliesSettings } from './CannedReplies';
import { Knowledge } from './Knowledge';
import { useStatus } from './useStatus';
import { WidgetInstall } from './WidgetInstall';

const SECTIONS: [string, string][] = [
  ['handoff', 'Hand-off'],
  ['escapes', 'Escapes'],
  ['teams', 'Teams'],
  ['members', 'Members'],
  ['canned', 'Canned replies'],
  ['events', 'Event subscriptions'],
  ['knowledge', 'Knowledge base'],
  ['ai', 'AI provider'],
  ['api-keys', 'API keys'],
  ['widget', 'Widget'],
];

export function Settings({ member, section, onSignOut }: { member: Member; section: string; onSignOut: () => void }) {
  return (
    <div className="app-page">
      <TopBar member={member} onSignOut={onSignOut} />
      <div className="settings">
        <nav className="settings-nav" aria-label="Settings">
          {SECTIONS.map(([id, label]) => (
            <a key={id} href={`/app/settings/${id}`} className={section === id ? 'active' : ''} onClick={(e) => { e.preventDefault(); navigate({ page: 'settings', section: id }); }}>
              {label}
            </a>
          ))}
        </nav>
        <main className="settings-main">
          {section === 'handoff' && <HandoffSettings />}
          {section === 'escapes' && <EscapesSettings />}
          {section === 'teams' && <TeamsSettings />}
          {section === 'members' && <MembersSettings me={member} />}
          {section === 'canned' && <CannedRepliesSettings canEdit={member.role !== 'agent'} />}
          {section === 'events' && <EventsSettings />}
          {section === 'knowledge' && <Knowledge member={member} />}
          {section === 'ai' && <AiProvider member={member} />}
          {section === 'api-keys' && <ApiKeys member={member} />}
          {section === 'widget' && <WidgetInstall />}
          {!SECTIONS.some(([id]) => id === section) && <p>Unknown settings page.</p>}
        </main>
      </div>
    </div>
  );
}

type Settings = Record<string, unknown> & { handoff?: Record<string, unknown> };

const MESSAGES: [string, string][] = [
  ['confirmation_message', 'Confirmation (the customer is queued)'],
  ['off_hours_message', 'Off hours'],
  ['no_agent_message', 'No agent online'],
  ['stalling_message', 'Stalling (still waiting)'],
  ['cancelled_message', 'Cancelled by the customer'],
];

function HandoffSettings() {
  const [settings, setSettings] = useState<Settings | null>(null);
  const s = useStatus();
  useEffect(() => {
    inboxApi.workspace().then((w) => setSettings((w.settings ?? {}) as Settings)).catch(s.fail);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  if (!settings) return <p className="muted">Loading…</p>;
  const h = settings.handoff ?? {};
  const setH = (k: string, v: unknown) => setSettings({ ...settings, handoff: { ...h, [k]: v } });
  const targets = (settings.reply_targets as ReplyTargets | undefined) ?? NO_TARGETS;
  const save = async () => {
    if (settings.reply_targets === null) return s.fail(new Error('Reply targets are minutes, from 0 to a week.'));
    try {
      setSettings((await inboxApi.saveSettings(settings)) as Settings);
      s.ok('Saved.');
    } catch (e) {
      s.fail(e);
    }
  };
  return (
    <section className="form" data-testid="handoff-settings">
      <h1>Hand-off</h1>
      <label className="check">
        <input type="checkbox" checked={settings.handoff_enabled !== false} onChange={(e) => setSettings({ ...settings, handoff_enabled: e.target.checked })} /> Hand-off to people is on
      </label>
      {MESSAGES.map(([k, label]) => (
        <label key={k}>
          {label}
          <textarea rows={2} value={String(h[k] ?? '')} onChange={(e) => setH(k, e.target.value)} />
        </label>
      ))}
      <div className="row">
        <label>
          Stalling time (seconds)
          <input type="number" min={0} value={Number(h.stalling_seconds ?? 120)} onChange={(e) => setH('stalling_seconds', Number(e.target.value))} />
        </label>
        <label>
          Maximum wait (seconds)
          <input type="number" min={0} value={Number(h.max_wait_seconds ?? 1800)} onChange={(e) => setH('max_wait_seconds', Number(e.target.value))} />
        </label>
        <label>
          Close conversations left waiting on the customer after (hours; 0: never)
          <input type="number" min={0} max={8760} value={Number(settings.abandon_after_hours ?? 24)} onChange={(e) => setSettings({ ...settings, abandon_after_hours: Number(e.target.value) })} />
        </label>
        <label>
          Assignment
          <select value={String(settings.assignment ?? 'manual')} onChange={(e) => setSettings({ ...settings, assignment: e.target.value })}>
            <option value="manual">Manual (agents claim)</option>
            <option value="round_robin">Round robin among online agents</option>
          </select>
        </label>
      </div>
      <h2>Reply targets</h2>
      <p className="small muted">
        How long an agent may keep a customer waiting once they have the conversation: for the default queue and for teams without
        their own (set those under Teams). When a target passes without a reply, the agent loses the conversation.
      </p>
      <ReplyTargetsFields value={targets} onChange={(t) => setSettings({ ...settings, reply_targets: t })} />
      <div className="row">
        <button className="primary" onClick={() => void save()}>Save</button>
      </div>
      {s.view}
    </section>
  );
}

function TeamsSettings() {
  const [teams, setTeams] = useState<Team[]>([]);
  const [members, setMembers] = useState<Member[]>([]);
  const [editing, setEditing] = useState<Team | 'new' | null>(null);
  const s = useStatus();
  const load = useCallback(() => {
    inboxApi.teams().then(setTeams).catch(s.fail);
    inboxApi.members().then(setMembers).catch(s.fail);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  useEffect(load, [load]);
  const name = (id: string) => members.find((m) => m.id === id)?.name ?? id;
  return (
    <section>
      <div className="row">
        <h1>Teams</h1>
        <span className="spacer" />
        <button className="primary" onClick={() => setEditing('new')}>+ New team</button>
      </div>
      {s.view}
      <table className="table">
        <thead><tr><th>Team</th><th>Slug</th><th>Members</th><th>Business hours</th><th>Reply targets</th><th /></tr></thead>
        <tbody>
          {teams.map((t) => (
            <tr key={t.id}>
              <td>{t.name}</td>
              <td><code>{t.slug}</code></td>
              <td>{t.members.map(name).join(', ') || <span className="muted">none</span>}</td>
              <td>{t.business_hours ? `${t.business_hours.timezone} · ${t.business_hours.weekly.length} days` : <span className="muted">always open</span>} {t.open_now !== undefined && <span className={`pill ${t.open_now ? 'pill-resolved' : 'pill-queued'}`}>{t.open_now ? 'open now' : 'closed now'}</span>}</td>
              <td className="small">{t.reply_targets ? describeTargets(t.reply_targets) : <span className="muted">the workspace's</span>}</td>
              <td><button onClick={() => setEditing(t)}>Edit</button></td>
            </tr>
          ))}
        </tbody>
      </table>
      {editing && (
        <TeamEditor
          key={editing === 'new' ? 'new' : editing.id}
          team={editing === 'new' ? null : editing}
          members={members}
          onDone={(msg) => {
            setEditing(null);
            if (msg) s.ok(msg);
            load();
          }}
        />
      )}
    </section>
  );
}

function TeamEditor({ team, members, onDone }: { team: Team | null; members: Member[]; onDone: (msg?: string) => void }) {
  const [name, setName] = useState(team?.name ?? '');
  const [slug, setSlug] = useState(team?.slug ?? '');
  const [chosen, setChosen] = useState<string[]>(team?.members ?? []);
  const [hasHours, setHasHours] = useState(Boolean(team?.business_hours));
  const [tz, setTz] = useState(team?.business_hours?.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC');
  const [rows, setRows] = useState<DayRow[]>(toRows(team?.business_hours ?? null).map((r, i) => (team?.business_hours ? r : { ...r, open: i < 5 })));
  const [holidays, setHolidays] = useState(team?.business_hours?.holidays ?? []);
  const [ownTargets, setOwnTargets] = useState(Boolean(team?.reply_targets));
  const [targets, setTargets] = useState<ReplyTargets | null>(team?.reply_targets ?? NO_TARGETS);
  const [error, setError] = useState<string | null>(null);
  const save = async () => {
    const problem = hasHours ? rowsProblem(rows) : null;
    if (problem) return setError(problem);
    if (ownTargets && !targets) return setError('Reply targets are minutes, from 0 to a week.');
    const body = {
      name: name.trim(),
      slug: slug.trim() || name.trim().toLowerCase().replace(/[^a-z0-9]+/g, '-'),
      members: chosen,
      business_hours: hasHours ? fromRows(tz, rows, holidays) : null,
      reply_targets: ownTargets ? targets : null,
    };
    try {
      if (team) await inboxApi.updateTeam(team.id, body);
      else await inboxApi.createTeam(body);
      onDone(`Saved the team ${body.name}.`);
    } catch (e) {
      setError(errorText(e));
    }
  };
  return (
    <div className="card-box form" data-testid="team-editor">
      <h2>{team ? `Edit ${team.name}` : 'New team'}</h2>
      <div className="row">
        <label>Name <input value={name} onChange={(e) => setName(e.target.value)} /></label>
        <label>Slug <input value={slug} onChange={(e) => setSlug(e.target.value)} placeholder="billing" /></label>
      </div>
      <fieldset>
        <legend>Members</legend>
        {members.map((m) => (
          <label key={m.id} className="check">
            <input type="checkbox" checked={chosen.includes(m.id)} onChange={(e) => setChosen(e.target.checked ? [...chosen, m.id] : chosen.filter((x) => x !== m.id))} /> {m.name} <span className="muted small">{m.email} · {m.role}</span>
          </label>
        ))}
      </fieldset>
      <label className="check"><input type="checkbox" checked={hasHours} onChange={(e) => setHasHours(e.target.checked)} /> Business hours (otherwise always open)</label>
      {hasHours && (
        <fieldset>
          <legend>Business hours</legend>
          <label>Time zone <input value={tz} onChange={(e) => setTz(e.target.value)} placeholder="Europe/Paris" /></label>
          <table className="hours">
            <tbody>
              {rows.map((r, i) => (
                <tr key={r.day}>
                  <td className="day"><label className="check"><input type="checkbox" aria-label={`Open on ${r.day}`} checked={r.open} onChange={(e) => setRows(rows.map((x, j) => (j === i ? { ...x, open: e.target.checked } : x)))} /> {r.day}</label></td>
                  <td><input className="hhmm" placeholder="09:00" aria-label={`${r.day} opens`} disabled={!r.open} value={r.from} onChange={(e) => setRows(rows.map((x, j) => (j === i ? { ...x, from: e.target.value } : x)))} /></td>
                  <td><input className="hhmm" placeholder="17:00" aria-label={`${r.day} closes`} disabled={!r.open} value={r.to} onChange={(e) => setRows(rows.map((x, j) => (j === i ? { ...x, to: e.target.value } : x)))} /></td>
                  <td className="small muted">{r.open && r.extra.length > 0 ? `and ${r.extra.map((x) => `${x.open}–${x.close}`).join(', ')}` : ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <div className="small muted">Holidays</div>
          {holidays.map((h, i) => (
            <div className="row" key={i}>
              <input type="date" value={h.date} onChange={(e) => setHolidays(holidays.map((x, j) => (j === i ? { ...x, date: e.target.value } : x)))} />
              <input value={h.name} placeholder="name" onChange={(e) => setHolidays(holidays.map((x, j) => (j === i ? { ...x, name: e.target.value } : x)))} />
              <button className="link" onClick={() => setHolidays(holidays.filter((_, j) => j !== i))}>✕</button>
            </div>
          ))}
          <button className="link" onClick={() => setHolidays([...holidays, { date: '', name: '' }])}>+ Holiday</button>
        </fieldset>
      )}
      <label className="check"><input type="checkbox" checked={ownTargets} onChange={(e) => setOwnTargets(e.target.checked)} /> Own reply targets (otherwise the workspace's, under Hand-off)</label>
      {ownTargets && (
        <fieldset>
          <legend>Reply targets</legend>
          <ReplyTargetsFields value={targets ?? NO_TARGETS} onChange={setTargets} />
        </fieldset>
      )}
      {error && <div className="banner banner-error" role="alert">{error}</div>}
      <div className="row">
        <button className="primary" disabled={!name.trim()} onClick={() => void save()}>Save team</button>
        <button onClick={() => onDone()}>Cancel</button>
      </div>
    </div>
  );
}

const EVENT_TYPES = [
  'conversation.queued',
  'conversation.assigned',
  'conversation.transferred',
  'conversation.handed_back',
  'conversation.resolved',
  'conversation.cancelled',
  'conversation.timeout',
  'conversation.ended',
  'conversation.off_hours',
  'conversation.no_agent',
  'conversation.abandoned',
  'conversation.rated',
  'conversation.reply_missed',
  'message.created',
];

function EventsSettings() {
  const [subs, setSubs] = useState<Subscription[]>([]);
  const [url, setUrl] = useState('');
  const [types, setTypes] = useState<string[]>(['conversation.queued']);
  const [open, setOpen] = useState<string | null>(null);
  const [deliveries, setDeliveries] = useState<Delivery[]>([]);
  const [secret, setSecret] = useState<string | null>(null);
  const s = useStatus();
  const load = useCallback(() => {
    eventsApi.list().then(setSubs).catch(s.fail);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  useEffect(load, [load]);
  const showDeliveries = async (id: string) => {
    setOpen(id);
    try {
      setDeliveries(await eventsApi.deliveries(id));
    } catch (e) {
      s.fail(e);
    }
  };
  return (
    <section>
      <h1>Event subscriptions</h1>
      {s.view}
      <div className="card-box form">
        <label>URL <input value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://example.com/hooks/baton" /></label>
        <div className="row">
          {EVENT_TYPES.map((t) => (
            <label key={t} className="check small"><input type="checkbox" checked={types.includes(t)} onChange={(e) => setTypes(e.target.checked ? [...types, t] : types.filter((x) => x !== t))} /> {t}</label>
          ))}
        </div>
        <div className="row">
          <button className="primary" disabled={!url.trim() || types.length === 0} onClick={() => void eventsApi.create(url.trim(), types).then((sub) => { setSecret(sub.secret ?? null); setUrl(''); s.ok('Subscribed.'); load(); }).catch(s.fail)}>Subscribe</button>
        </div>
        {secret && <p className="small">Signing secret (shown once): <code>{secret}</code></p>}
        <p className="small muted">Deliveries are signed per Standard Webhooks with the workspace's signing secret.</p>
      </div>
      <table className="table">
        <thead><tr><th>URL</th><th>Events</th><th>Active</th><th /></tr></thead>
        <tbody>
          {subs.map((sub) => (
            <tr key={sub.id}>
              <td>{sub.url}</td>
              <td className="small">{sub.event_types.join(', ')}</td>
              <td>{sub.active ? 'yes' : 'no'}</td>
              <td className="row">
                <button onClick={() => void showDeliveries(sub.id)}>Deliveries</button>
                <button onClick={() => void eventsApi.remove(sub.id).then(load).catch(s.fail)}>Delete</button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {open && (
        <div className="card-box">
          <h2>Deliveries</h2>
          {deliveries.length === 0 ? <p className="muted">No deliveries yet.</p> : (
            <table className="table small">
              <thead><tr><th>When</th><th>Event</th><th>Attempt</th><th>Result</th><th>Time</th><th /></tr></thead>
              <tbody>
                {deliveries.map((d) => (
                  <tr key={d.id}>
                    <td>{new Date(d.created_at).toLocaleString()}</td>
                    <td>{d.event_type}</td>
                    <td>{d.attempt}</td>
                    <td className={d.status_code && d.status_code < 300 ? 'ok-text' : 'error-text'}>{d.status_code ?? d.error ?? '—'}</td>
                    <td>{d.duration_ms} ms</td>
                    <td><button onClick={() => void eventsApi.replay(open, d.event_id).then(() => { s.ok('Queued for replay.'); void showDeliveries(open); }).catch(s.fail)}>Replay</button></td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      )}
    </section>
  );
}
