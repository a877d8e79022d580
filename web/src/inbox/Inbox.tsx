// The inbox: queues by team, a filtered list, and the conversation with its hand-over context
// first. Live through the inbox WebSocket. Customer and agent text is always rendered as text.

import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { errorText, inboxApi, type DraftReply, type InboxDetail, type InboxItem, type Member, type Team } from '../api';
import { navigate } from '../router';
import { TopBar } from '../pages/TopBar';
import { displayValue } from '../testpanel/session';
import { withCode } from './richText';
import { sendTyping } from './typing';
import { ALL_STATUSES, DEFAULT_FILTERS, eventEffect, filtersToQuery, lastMessageLine, lineKind, neighbour, parseEvent, replyDue, rowsToVariables, shortcutFor, SHORTCUTS, titleWithBadge, waitingFor, type Filters } from './inbox';

/** What the open conversation does on a keyboard shortcut. */
interface ConversationActions {
  reply: () => void;
  note: () => void;
  claim: () => void;
  resolve: () => void;
}

const TITLE = 'Inbox · Baton';

export function Inbox({ member, conversationId, onSignOut }: { member: Member; conversationId?: string; onSignOut: () => void }) {
  const [filters, setFilters] = useState<Filters>(DEFAULT_FILTERS);
  const [items, setItems] = useState<InboxItem[]>([]);
  const [total, setTotal] = useState(0);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [search, setSearch] = useState('');
  const [showHelp, setShowHelp] = useState(false);
  const searchRef = useRef<HTMLInputElement>(null);
  const actionsRef = useRef<ConversationActions | null>(null);
  const [counts, setCounts] = useState<{ team: string | null; queued: number; assigned: number }[]>([]);
  const [teams, setTeams] = useState<Team[]>([]);
  const [members, setMembers] = useState<Member[]>([]);
  const [detail, setDetail] = useState<InboxDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [toasts, setToasts] = useState<{ id: number; text: string; conversationId?: string }[]>([]);
  const [presence, setPresence] = useState<'online' | 'away'>('online');
  const [connected, setConnected] = useState(false);
  const [now, setNow] = useState(Date.now());
  const [notifyPermission, setNotifyPermission] = useState<string>(typeof Notification === 'undefined' ? 'unsupported' : Notification.permission);
  const openId = conversationId;
  const openRef = useRef(openId);
  openRef.current = openId;

  const loadList = useCallback(async () => {
    try {
      const [page, c] = await Promise.all([inboxApi.list(filtersToQuery(filters)), inboxApi.counts()]);
      setItems(page.items);
      setTotal(page.total);
      setNextCursor(page.next_cursor);
      setCounts(c.teams ?? []);
    } catch (e) {
      setError(errorText(e));
    }
  }, [filters]);

  // Waiting times and reply targets move on; rows' last messages are read again (the socket
  // tells about messages of the open conversation only).
  useEffect(() => {
    const t = window.setInterval(() => {
      setNow(Date.now());
      void loadList();
    }, 30_000);
    return () => window.clearInterval(t);
  }, [loadList]);

  const loadMore = async () => {
    if (!nextCursor) return;
    try {
      const page = await inboxApi.list(filtersToQuery(filters, nextCursor));
      setItems((old) => [...old, ...page.items.filter((i) => !old.some((o) => o.id === i.id))]);
      setTotal(page.total);
      setNextCursor(page.next_cursor);
    } catch (e) {
      setError(errorText(e));
    }
  };

  // The search box updates the list once typing pauses.
  useEffect(() => {
    const t = window.setTimeout(() => setFilters((f) => (f.q === search ? f : { ...f, q: search })), 300);
    return () => window.clearTimeout(t);
  }, [search]);

  const loadDetail = useCallback(async (id: string | undefined) => {
    if (!id) {
      setDetail(null);
      return;
    }
    try {
      setDetail(await inboxApi.detail(id));
      // Opened (or updated while open): read.
      setItems((rows) => rows.map((r) => (r.id === id && r.unread ? { ...r, unread: false } : r)));
      void inboxApi.markRead(id).catch(() => undefined);
    } catch (e) {
      setError(errorText(e));
    }
  }, []);

  useEffect(() => void loadList(), [loadList]);
  useEffect(() => void loadDetail(openId), [openId, loadDetail]);
  useEffect(() => {
    void inboxApi.teams().then(setTeams).catch(() => undefined);
    void inboxApi.members().then(setMembers).catch(() => undefined);
  }, []);

  // Title badge: conversations waiting in the queues.
  const waiting = counts.reduce((n, c) => n + c.queued, 0);
  useEffect(() => {
    document.title = titleWithBadge(TITLE, waiting);
    return () => {
      document.title = 'Baton';
    };
  }, [waiting]);

  const toast = useCallback((text: string, cid?: string) => {
    const id = Date.now() + Math.random();
    setToasts((t) => [...t.slice(-3), { id, text, conversationId: cid }]);
    window.setTimeout(() => setToasts((t) => t.filter((x) => x.id !== id)), 8000);
  }, []);

  // Live updates. The first inbox connection also makes the member online.
  const reload = useRef({ loadList, loadDetail });
  reload.current = { loadList, loadDetail };
  // The open conversation's messages come live on the socket: it is told which one that is.
  const socketRef = useRef<WebSocket | null>(null);
  const watch = useCallback((socket: WebSocket | null, id: string | undefined) => {
    if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: 'watch', conversation_id: id ?? null }));
  }, []);
  useEffect(() => watch(socketRef.current, openId), [openId, watch]);
  useEffect(() => {
    let ws: WebSocket | null = null;
    let stopped = false;
    let retry = 0;
    let timer = 0;
    const open = () => {
      const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
      const socket = new WebSocket(`${proto}//${location.host}/api/v1/inbox/ws`);
      ws = socket;
      socketRef.current = socket;
      socket.onopen = () => {
        retry = 0;
        setConnected(true);
        watch(socket, openRef.current);
      };
      ws.onmessage = (m) => {
        const e = parseEvent(m.data);
        if (!e) return;
        const effect = eventEffect(e, openRef.current);
        if (effect.refreshList) void reload.current.loadList();
        if (effect.refreshOpen) void reload.current.loadDetail(openRef.current);
        if (effect.toast) {
          const team = typeof e.team === 'string' ? ` for ${e.team}` : '';
          toast(`A conversation is waiting${team}.`, e.conversation_id);
          if (typeof Notification !== 'undefined' && Notification.permission === 'granted' && document.hidden) {
            try {
              new Notification('Baton: a conversation is waiting', { body: `Queued${team}.`, silent: true });
            } catch {
              // notifications unavailable
            }
          }
        }
      };
      ws.onclose = () => {
        setConnected(false);
        if (stopped) return;
        retry = Math.min(retry + 1, 6);
        timer = window.setTimeout(open, 500 * 2 ** retry);
      };
    };
    open();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
      ws?.close();
    };
  }, [toast, watch]);

  const changePresence = async (status: 'online' | 'away') => {
    try {
      await inboxApi.presence(status);
      setPresence(status);
      if (status === 'online' && typeof Notification !== 'undefined' && Notification.permission === 'default') void Notification.requestPermission().catch(() => undefined);
    } catch (e) {
      setError(errorText(e));
    }
  };

  const memberName = useMemo(() => new Map(members.map((m) => [m.id, m.name || m.email])), [members]);
  const teamOptions = useMemo(() => {
    const slugs = new Set<string>(teams.map((t) => t.slug));
    for (const c of counts) if (c.team) slugs.add(c.team);
    return [...slugs].sort();
  }, [teams, counts]);

  const set = (patch: Partial<Filters>) => setFilters((f) => ({ ...f, ...patch }));

  // Keyboard shortcuts (never while typing in a field).
  const ids = useMemo(() => items.map((i) => i.id), [items]);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const el = e.target as HTMLElement | null;
      const typing = !!el && (el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName));
      const action = shortcutFor(e.key, { ctrl: e.ctrlKey, meta: e.metaKey, alt: e.altKey }, typing);
      if (!action) return;
      if (action === 'close') {
        setShowHelp(false);
        return;
      }
      e.preventDefault();
      if (action === 'next' || action === 'previous') {
        const id = neighbour(ids, openRef.current, action === 'next' ? 1 : -1);
        if (id && id !== openRef.current) navigate({ page: 'inbox', conversationId: id });
      } else if (action === 'search') searchRef.current?.focus();
      else if (action === 'help') setShowHelp((v) => !v);
      else actionsRef.current?.[action]();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [ids]);

  return (
    <div className="app-page inbox-page">
      <TopBar member={member} onSignOut={onSignOut}>
        <span className={`conn ${connected ? 'conn-on' : ''}`} title={connected ? 'Live' : 'Reconnecting…'} data-testid="inbox-live" data-live={connected}>
          {connected ? '● Live' : '○ Offline'}
        </span>
        <label className="switch switch-labelled presence">
          <input type="checkbox" role="switch" aria-label="Online" checked={presence === 'online'} onChange={(e) => void changePresence(e.target.checked ? 'online' : 'away')} />
          <span className="switch-track" />
          <span data-testid="presence">{presence === 'online' ? 'Online' : 'Away'}</span>
        </label>
        {notifyPermission === 'default' && (
          <button className="link small" onClick={() => void Notification.requestPermission().then(setNotifyPermission).catch(() => undefined)}>
            Enable notifications
          </button>
        )}
      </TopBar>
      {error && (
        <div className="banner banner-error" role="alert">
          {error} <button className="link" onClick={() => setError(null)}>Dismiss</button>
        </div>
      )}
      <div className="inbox">
        <aside className="inbox-queues" aria-label="Queues">
          <div className="panel-title">Queues</div>
          <button className={`queue ${filters.team === '' ? 'active' : ''}`} onClick={() => set({ team: '' })}>
            <span>All teams</span>
            <span className="count">{waiting}</span>
          </button>
          {counts.map((c) => (
            <button key={c.team ?? '-'} className={`queue ${filters.team === (c.team ?? '') ? 'active' : ''}`} onClick={() => set({ team: c.team ?? '' })} data-testid={`queue-${c.team ?? 'none'}`}>
              <span>{c.team ?? 'No team'}</span>
              <span className="count" title={`${c.queued} waiting, ${c.assigned} assigned`}>
                {c.queued}
                <span className="muted"> / {c.assigned}</span>
              </span>
            </button>
          ))}
          <div className="panel-title filters-title">Filters</div>
          <label>
            Status
            <select aria-label="Status" value={filters.status} onChange={(e) => set({ status: e.target.value })}>
              <option value="queued,assigned">Open (queued + assigned)</option>
              <option value="queued">Queued</option>
              <option value="assigned">Assigned</option>
              <option value="follow_up">To follow up</option>
              <option value="resolved">Resolved</option>
              <option value={ALL_STATUSES}>All</option>
            </select>
          </label>
          <label>
            Team
            <select aria-label="Team" value={filters.team} onChange={(e) => set({ team: e.target.value })}>
              <option value="">All</option>
              {teamOptions.map((t) => <option key={t} value={t}>{t}</option>)}
            </select>
          </label>
          <label>
            Assignee
            <select aria-label="Assignee" value={filters.assignee} onChange={(e) => set({ assignee: e.target.value })}>
              <option value="">Anyone</option>
              <option value="me">Me</option>
              <option value="none">Unassigned</option>
              {members.filter((m) => m.id !== member.id).map((m) => <option key={m.id} value={m.id}>{m.name || m.email}</option>)}
            </select>
          </label>
          <label>
            Priority
            <select aria-label="Priority" value={filters.priority} onChange={(e) => set({ priority: e.target.value })}>
              <option value="">Any</option>
              <option value="urgent">Urgent</option>
              <option value="high">High</option>
              <option value="normal">Normal</option>
              <option value="low">Low</option>
            </select>
          </label>
        </aside>
        <section className="inbox-list" aria-label="Conversations" data-testid="inbox-list">
          <div className="list-tools">
            <input
              ref={searchRef}
              type="search"
              aria-label="Search conversations"
              placeholder="Search messages, names, emails  ( / )"
              value={search}
              onChange={(e) => setSearch(e.target.value)}
            />
            <div className="row small">
              <span className="muted" data-testid="inbox-total">
                {total === 1 ? '1 conversation' : `${total} conversations`}
              </span>
              <span className="spacer" />
              <label>
                Sort{' '}
                <select aria-label="Sort" value={filters.sort} onChange={(e) => set({ sort: e.target.value })}>
                  <option value="">Urgent first</option>
                  <option value="waiting">Longest waiting</option>
                  <option value="newest">Newest</option>
                </select>
              </label>
              <button className="link" aria-label="Keyboard shortcuts" title="Keyboard shortcuts ( ? )" onClick={() => setShowHelp((v) => !v)}>
                ⌨
              </button>
            </div>
          </div>
          {showHelp && (
            <div className="card-box shortcuts" role="dialog" aria-label="Keyboard shortcuts" data-testid="shortcuts">
              <table className="kv">
                <tbody>
                  {SHORTCUTS.map((k) => (
                    <tr key={k.key}>
                      <th><kbd>{k.key}</kbd></th>
                      <td>{k.what}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {/* In the list's flow, above the rows: a notification never covers a control. */}
          <div className="toasts" aria-live="polite">
            {toasts.map((t) => (
              <div key={t.id} className="toast-item" role="status" data-testid="inbox-toast">
                {t.text}
                {t.conversationId && (
                  <button className="link" onClick={() => navigate({ page: 'inbox', conversationId: t.conversationId })}>
                    Open
                  </button>
                )}
              </div>
            ))}
          </div>
          {items.length === 0 && <p className="muted empty">{filters.q ? 'Nothing matches this search.' : 'No conversations here.'}</p>}
          {items.map((c) => (
            <a
              key={c.id}
              href={`/app/inbox/${encodeURIComponent(c.id)}`}
              className={`inbox-item ${c.id === openId ? 'active' : ''} ${c.unread ? 'unread' : ''}`}
              data-conversation={c.id}
              data-unread={c.unread ? 'true' : 'false'}
              onClick={(e) => {
                e.preventDefault();
                navigate({ page: 'inbox', conversationId: c.id });
              }}
            >
              <div className="row">
                {c.unread && <span className="unread-dot" role="img" aria-label="unread" />}
                <strong data-testid="row-name">{customerName(c)}</strong>
                {c.customer?.name && c.customer.email && <span className="small muted row-email">{c.customer.email}</span>}
                <span className="spacer" />
                <span className={`pill pill-${c.status}`}>{c.status}</span>
              </div>
              {c.reason && <div className="small row-reason" data-testid="row-reason">{c.reason}</div>}
              {c.last_message && (
                <div className="small muted row-last" data-testid="row-last">
                  {lastMessageLine(c.last_message)}
                </div>
              )}
              <div className="small muted row">
                <span>{c.team ?? 'no team'}</span>
                {c.priority && c.priority !== 'normal' && <span className={`prio prio-${c.priority}`}>{c.priority}</span>}
                <span>{c.assignee ? `· ${memberName.get(c.assignee) ?? c.assignee}` : '· unassigned'}</span>
                <span className="spacer" />
                <span>{c.status === 'queued' ? waitingFor(c.waiting_since, now) : ''}</span>
                <ReplyDue dueAt={c.reply_due_at} now={now} />
              </div>
            </a>
          ))}
          {nextCursor && (
            <button className="load-more" onClick={() => void loadMore()}>
              Show more ({total - items.length} left)
            </button>
          )}
        </section>
        <section className="inbox-conv" aria-label="Conversation">
          {detail && detail.conversation.id === openId ? (
            <ConversationView
              key={detail.conversation.id}
              detail={detail}
              me={member}
              members={members}
              teams={teamOptions}
              memberName={memberName}
              now={now}
              actionsRef={actionsRef}
              onChanged={() => {
                void loadDetail(openId);
                void loadList();
              }}
              onError={setError}
            />
          ) : (
            <div className="muted empty">{openId ? 'Loading…' : 'Pick a conversation.'}</div>
          )}
        </section>
      </div>
    </div>
  );
}

/** The time left for the agent's reply, when a reply target runs. */
function ReplyDue({ dueAt, now }: { dueAt: number | null | undefined; now: number }) {
  const due = replyDue(dueAt, now);
  if (!due) return null;
  return (
    <span className={`sla sla-${due.level}`} data-testid="reply-due" title="Time left for the agent's reply (the team's reply targets)">
      {due.text}
    </span>
  );
}

/** The customer's name, else email (from their attributes or what the flow collected). */
function customerName(c: InboxItem): string {
  return c.customer?.name ?? c.customer?.email ?? 'Customer';
}

function ConversationView({
  detail,
  me,
  members,
  teams,
  memberName,
  now,
  actionsRef,
  onChanged,
  onError,
}: {
  detail: InboxDetail;
  me: Member;
  members: Member[];
  teams: string[];
  memberName: Map<string, string>;
  now: number;
  actionsRef: React.MutableRefObject<ConversationActions | null>;
  onChanged: () => void;
  onError: (e: string) => void;
}) {
  const c = detail.conversation;
  const ctx = detail.handover?.context ?? {};
  const status = c.status;
  const assignee = (c.assignee as string | null | undefined) ?? null;
  const mine = assignee === me.id;
  const [mode, setMode] = useState<'reply' | 'note'>('reply');
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [panel, setPanel] = useState<'assign' | 'transfer' | 'handback' | null>(null);
  const [assignTo, setAssignTo] = useState('');
  const [transferTeam, setTransferTeam] = useState('');
  const [transferMember, setTransferMember] = useState('');
  const [rows, setRows] = useState<{ name: string; value: string }[]>([{ name: '', value: '' }]);
  const [resumeAt, setResumeAt] = useState('');
  const logRef = useRef<HTMLDivElement>(null);
  const textRef = useRef<HTMLTextAreaElement>(null);
  const [canned, setCanned] = useState<{ title: string; text: string }[]>([]);
  const [drafting, setDrafting] = useState(false);
  const [draftNote, setDraftNote] = useState<string | null>(null);

  useEffect(() => {
    inboxApi.cannedReplies(c.id).then(setCanned).catch(() => setCanned([]));
  }, [c.id]);

  useEffect(() => {
    logRef.current?.scrollTo({ top: logRef.current.scrollHeight });
  }, [detail.transcript.length]);

  const run = async (fn: () => Promise<unknown>) => {
    setBusy(true);
    try {
      await fn();
      onChanged();
      return true;
    } catch (e) {
      onError(errorText(e));
      return false;
    } finally {
      setBusy(false);
    }
  };

  const send = async () => {
    const t = text.trim();
    if (!t) return;
    const ok = await run(() => (mode === 'reply' ? inboxApi.reply(c.id, t, `web_${Date.now()}_${Math.random().toString(36).slice(2)}`) : inboxApi.note(c.id, t)));
    if (ok) {
      setText('');
      setDraftNote(null);
    }
  };

  const open = status === 'queued' || status === 'assigned';
  const contextVars = ctx.variables ?? [];

  const insert = (t: string) => {
    setMode('reply');
    setText((old) => (old.trim() ? `${old.trimEnd()}\n${t}` : t));
    textRef.current?.focus();
  };
  const draft = async () => {
    setDrafting(true);
    setDraftNote(null);
    try {
      const d: DraftReply = await inboxApi.draftReply(c.id);
      if (d.answered && d.text) {
        insert(d.text);
        const from = d.sources.map((x) => x.title).join(', ');
        setDraftNote(`Drafted by the AI${from ? ` from ${from}` : ''}. Check it before sending.`);
      } else {
        setDraftNote(`No draft: ${d.reason ?? 'the AI could not answer'}.`);
      }
    } catch (e) {
      setDraftNote(errorText(e));
    } finally {
      setDrafting(false);
    }
  };
  actionsRef.current = {
    reply: () => {
      setMode('reply');
      window.setTimeout(() => textRef.current?.focus(), 0);
    },
    note: () => {
      setMode('note');
      window.setTimeout(() => textRef.current?.focus(), 0);
    },
    claim: () => {
      if (status === 'queued') void run(() => inboxApi.claim(c.id));
    },
    resolve: () => {
      if (open) void run(() => inboxApi.resolve(c.id));
    },
  };

  return (
    <div className="conv" data-testid="conversation" data-status={status}>
      <div className="conv-head row">
        <strong>{customerName(c)}</strong>
        <span className={`pill pill-${status}`} data-testid="conv-status">{status}</span>
        {typeof c.team === 'string' && <span className="muted small">team {c.team}</span>}
        {assignee && <span className="muted small">· {memberName.get(assignee) ?? assignee}</span>}
        <ReplyDue dueAt={c.reply_due_at} now={now} />
        <span className="spacer" />
        {status === 'queued' && (
          <button className="primary" disabled={busy} onClick={() => void run(() => inboxApi.claim(c.id))}>
            Claim
          </button>
        )}
        {open && <button disabled={busy} onClick={() => setPanel(panel === 'assign' ? null : 'assign')}>Assign…</button>}
        {open && <button disabled={busy} onClick={() => setPanel(panel === 'transfer' ? null : 'transfer')}>Transfer…</button>}
        {status === 'assigned' && <button disabled={busy} onClick={() => setPanel(panel === 'handback' ? null : 'handback')}>Hand back…</button>}
        {open && (
          <button disabled={busy} onClick={() => void run(() => inboxApi.resolve(c.id))}>
            Resolve
          </button>
        )}
      </div>
      {panel === 'assign' && (
        <div className="conv-panel row">
          <select aria-label="Assign to" value={assignTo} onChange={(e) => setAssignTo(e.target.value)}>
            <option value="">Choose a member…</option>
            {members.map((m) => <option key={m.id} value={m.id}>{m.name || m.email}{m.id === me.id ? ' (me)' : ''}</option>)}
          </select>
          <button className="primary" disabled={!assignTo || busy} onClick={() => void run(() => inboxApi.assign(c.id, assignTo)).then((ok) => ok && setPanel(null))}>Assign</button>
        </div>
      )}
      {panel === 'transfer' && (
        <div className="conv-panel row">
          <select aria-label="Transfer to team" value={transferTeam} onChange={(e) => { setTransferTeam(e.target.value); setTransferMember(''); }}>
            <option value="">Team…</option>
            {teams.map((t) => <option key={t} value={t}>{t}</option>)}
          </select>
          <span className="muted small">or</span>
          <select aria-label="Transfer to member" value={transferMember} onChange={(e) => { setTransferMember(e.target.value); setTransferTeam(''); }}>
            <option value="">Member…</option>
            {members.map((m) => <option key={m.id} value={m.id}>{m.name || m.email}</option>)}
          </select>
          <button
            className="primary"
            disabled={(!transferTeam && !transferMember) || busy}
            onClick={() => void run(() => inboxApi.transfer(c.id, transferTeam ? { team: transferTeam } : { member_id: transferMember })).then((ok) => ok && setPanel(null))}
          >
            Transfer
          </button>
        </div>
      )}
      {panel === 'handback' && (
        <div className="conv-panel" data-testid="handback-panel">
          <div className="small muted">Variables to set for the flow (optional)</div>
          {rows.map((r, i) => (
            <div className="row" key={i}>
              <input aria-label={`Variable ${i + 1} name`} placeholder="name" value={r.name} onChange={(e) => setRows(rows.map((x, j) => (j === i ? { ...x, name: e.target.value } : x)))} />
              <input aria-label={`Variable ${i + 1} value`} placeholder="value" value={r.value} onChange={(e) => setRows(rows.map((x, j) => (j === i ? { ...x, value: e.target.value } : x)))} />
              <button className="link" onClick={() => setRows(rows.length > 1 ? rows.filter((_, j) => j !== i) : [{ name: '', value: '' }])} aria-label="Remove variable">✕</button>
            </div>
          ))}
          <div className="row">
            <button className="link" onClick={() => setRows([...rows, { name: '', value: '' }])}>+ Variable</button>
            <label className="small">
              Continue at{' '}
              <select aria-label="Continue at" value={resumeAt} onChange={(e) => setResumeAt(e.target.value)}>
                <option value="">the handed_back path</option>
                {detail.nodes.map((n) => <option key={n.id} value={n.id}>{n.id}{n.type ? ` (${n.type})` : ''}</option>)}
              </select>
            </label>
            <span className="spacer" />
            <button className="primary" disabled={busy} onClick={() => void run(() => inboxApi.handBack(c.id, rowsToVariables(rows), resumeAt || undefined)).then((ok) => ok && setPanel(null))}>
              Hand back to the bot
            </button>
          </div>
        </div>
      )}
      <div className="conv-body" ref={logRef}>
        {detail.handover && (
          <section className="context-card" data-testid="context-card" aria-label="Hand-over context">
            <div className="context-title row">
              <strong>Hand-over</strong>
              {detail.handover.node && <span className="muted small">at {detail.handover.node}</span>}
              {detail.handover.priority && detail.handover.priority !== 'normal' && <span className={`prio prio-${detail.handover.priority}`}>{detail.handover.priority}</span>}
              <span className="spacer" />
              {ctx.sentiment && <span className={`pill sentiment-${ctx.sentiment}`} data-testid="sentiment">{ctx.sentiment}</span>}
              {ctx.frustrated && <span className="pill pill-frustrated">frustrated</span>}
              {ctx.last_rating && (
                <span className="pill" data-testid="last-rating" title="How this customer rated their previous conversation">
                  last rating {ctx.last_rating.score}/{ctx.last_rating.scale}
                </span>
              )}
            </div>
            {ctx.reason && <p className="context-reason" data-testid="context-reason">{withCode(ctx.reason)}</p>}
            {contextVars.length > 0 && (
              <table className="kv" data-testid="context-variables">
                <tbody>
                  {contextVars.map((v) => (
                    <tr key={v.name} data-var={v.name}>
                      <th>
                        {v.name} {v.type && <span className="type">{v.type}</span>}
                      </th>
                      <td className={v.value === null || v.value === undefined ? 'muted' : ''}>{displayValue(v.value)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            {ctx.summary && (
              <p className="context-summary small">
                <span className="muted">Summary: </span>
                {ctx.summary}
              </p>
            )}
            {ctx.path && ctx.path.length > 0 && <div className="context-path small muted">Path: {ctx.path.join(' → ')}</div>}
          </section>
        )}
        <div className="transcript" data-testid="transcript">
          {detail.transcript.map((l, i) => {
            const kind = lineKind(l.role);
            const small = kind === 'event' || kind === 'system';
            return (
              <div key={l.seq ?? i} className={`tl tl-${kind}`} data-role={l.role}>
                {small ? (
                  <span className="tl-small">{l.text ?? ''}</span>
                ) : (
                  <div className="tl-bubble">
                    <div className="tl-who small">
                      {kind === 'note' ? `Note · ${l.author ?? ''}` : kind === 'agent' ? (l.author ?? 'Agent') : kind === 'bot' ? 'Bot' : 'Customer'}
                    </div>
                    <div className="tl-text">{l.text ?? ''}</div>
                  </div>
                )}
              </div>
            );
          })}
        </div>
      </div>
      <form className={`composer composer-${mode}`} onSubmit={(e) => { e.preventDefault(); void send(); }}>
        <div className="composer-modes" role="tablist">
          <button type="button" role="tab" aria-selected={mode === 'reply'} className={mode === 'reply' ? 'active' : ''} onClick={() => setMode('reply')}>
            Reply
          </button>
          <button type="button" role="tab" aria-selected={mode === 'note'} className={mode === 'note' ? 'active' : ''} onClick={() => setMode('note')}>
            Note
          </button>
          {mode === 'reply' && !mine && status === 'queued' && <span className="small muted">Replying claims the conversation.</span>}
          <span className="spacer" />
          {canned.length > 0 && (
            <select
              className="canned-select"
              aria-label="Insert a canned reply"
              value=""
              onChange={(e) => {
                const pick = canned[Number(e.target.value)];
                if (pick) insert(pick.text);
              }}
            >
              <option value="">Canned replies…</option>
              {canned.map((r, i) => <option key={r.title} value={i}>{r.title}</option>)}
            </select>
          )}
          <button type="button" disabled={drafting} onClick={() => void draft()} title="Draft a reply from the knowledge base; you edit it before sending">
            {drafting ? 'Drafting…' : 'Draft with AI'}
          </button>
        </div>
        {draftNote && <div className="small muted draft-note" role="status" data-testid="draft-note">{draftNote}</div>}
        <textarea
          ref={textRef}
          aria-label={mode === 'reply' ? 'Reply to the customer' : 'Internal note'}
          placeholder={mode === 'reply' ? 'Write to the customer…' : 'Only your team sees notes…'}
          rows={3}
          value={text}
          onChange={(e) => {
            setText(e.target.value);
            // The customer sees "… is typing" while the agent writes a reply they own or can claim.
            if (mode === 'reply' && e.target.value.trim() && (mine || status === 'queued')) sendTyping(c.id);
          }}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
              e.preventDefault();
              void send();
            }
          }}
        />
        <div className="row">
          <span className="spacer" />
          <button type="submit" className="primary" disabled={busy || !text.trim()}>
            {mode === 'reply' ? 'Send reply' : 'Add note'}
          </button>
        </div>
      </form>
    </div>
  );
}
