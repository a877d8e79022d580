// Pure helpers for the inbox: filters to a query string, the title badge, how transcript lines
// look, and which inbox events concern the open list.

export interface Filters {
  status: string; // "queued,assigned" | "queued" | "assigned" | "follow_up" | "resolved" | every status
  team: string; // "" = all
  assignee: string; // "" | "me" | "none" | member id
  priority: string; // "" | low | normal | high | urgent
  q: string; // words to find in transcripts and contacts
  sort: string; // "" (priority) | "waiting" | "newest"
}

export const DEFAULT_FILTERS: Filters = { status: 'queued,assigned', team: '', assignee: '', priority: '', q: '', sort: '' };

/** Every status, for a search through old conversations too. */
export const ALL_STATUSES = 'bot,queued,assigned,follow_up,resolved';

export function filtersToQuery(f: Filters, cursor?: string | null): string {
  const q = new URLSearchParams();
  if (f.status) q.set('status', f.status);
  if (f.team) q.set('team', f.team);
  if (f.assignee) q.set('assignee', f.assignee);
  if (f.priority) q.set('priority', f.priority);
  if (f.q.trim()) q.set('q', f.q.trim());
  if (f.sort) q.set('sort', f.sort);
  if (cursor) q.set('cursor', cursor);
  return q.toString();
}

/** What a key pressed outside a text field does in the inbox. */
export type Shortcut = 'next' | 'previous' | 'search' | 'reply' | 'note' | 'claim' | 'resolve' | 'help' | 'close';

export const SHORTCUTS: { key: string; action: Shortcut; what: string }[] = [
  { key: 'j', action: 'next', what: 'Next conversation' },
  { key: 'k', action: 'previous', what: 'Previous conversation' },
  { key: '/', action: 'search', what: 'Search' },
  { key: 'r', action: 'reply', what: 'Write a reply' },
  { key: 'n', action: 'note', what: 'Write a note' },
  { key: 'c', action: 'claim', what: 'Claim the conversation' },
  { key: 'e', action: 'resolve', what: 'Resolve the conversation' },
  { key: '?', action: 'help', what: 'Show these shortcuts' },
  { key: 'Escape', action: 'close', what: 'Close this help' },
];

/** The shortcut a key press means, or null: never while typing or with a modifier held. */
export function shortcutFor(key: string, modifiers: { ctrl: boolean; meta: boolean; alt: boolean }, typing: boolean): Shortcut | null {
  if (typing || modifiers.ctrl || modifiers.meta || modifiers.alt) return null;
  return SHORTCUTS.find((s) => s.key === key)?.action ?? null;
}

/** The id of the row `step` away from the open one (the first row when none is open). */
export function neighbour(ids: string[], openId: string | undefined, step: 1 | -1): string | undefined {
  if (ids.length === 0) return undefined;
  const at = openId ? ids.indexOf(openId) : -1;
  if (at < 0) return ids[0];
  return ids[Math.min(ids.length - 1, Math.max(0, at + step))];
}

/** "(3) Inbox · Baton" while conversations wait, else "Inbox · Baton". */
export function titleWithBadge(base: string, waiting: number): string {
  return waiting > 0 ? `(${waiting}) ${base}` : base;
}

export type LineKind = 'customer' | 'bot' | 'agent' | 'note' | 'event' | 'system';

export function lineKind(role: string): LineKind {
  switch (role) {
    case 'customer':
    case 'bot':
    case 'agent':
    case 'note':
    case 'event':
    case 'system':
      return role;
    default:
      return 'system';
  }
}

export interface InboxEvent {
  type: string;
  conversation_id?: string;
  [k: string]: unknown;
}

/** Parses a WebSocket frame; null for anything that is not an inbox event. */
export function parseEvent(data: unknown): InboxEvent | null {
  if (typeof data !== 'string') return null;
  try {
    const v = JSON.parse(data) as unknown;
    if (v && typeof v === 'object' && typeof (v as { type?: unknown }).type === 'string') return v as InboxEvent;
  } catch {
    // not JSON
  }
  return null;
}

/** Whether an event changes the lists (and counts), and whether it should raise a toast. */
export function eventEffect(e: InboxEvent, openId: string | undefined): { refreshList: boolean; refreshOpen: boolean; toast: boolean } {
  const conv = e.type.startsWith('conversation.');
  const msg = e.type === 'message.created' || e.type.startsWith('message.');
  return {
    refreshList: conv,
    refreshOpen: Boolean(openId && e.conversation_id === openId && (conv || msg)),
    toast: e.type === 'conversation.queued',
  };
}

/** "3 min" / "1 h 5 min" since a time, for waiting conversations. */
export function waitingFor(since: number | null | undefined, now: number): string {
  if (!since) return '';
  const min = Math.max(0, Math.floor((now - since) / 60_000));
  if (min < 1) return 'just now';
  if (min < 60) return `${min} min`;
  return `${Math.floor(min / 60)} h ${min % 60} min`;
}

/** A list row's last message: "Customer: …", "Bot: …", "Agent: …". */
export function lastMessageLine(m: { role: string; text: string }): string {
  const who = m.role === 'customer' ? 'Customer' : m.role === 'agent' ? 'Agent' : 'Bot';
  return `${who}: ${m.text.replace(/\s+/g, ' ').trim()}`;
}

/** Time left for the agent's reply (the team's reply targets): "reply in 4 min", "reply overdue". */
export function replyDue(dueAt: number | null | undefined, now: number): { text: string; level: 'ok' | 'soon' | 'overdue' } | null {
  if (!dueAt) return null;
  const left = dueAt - now;
  if (left <= 0) return { text: 'reply overdue', level: 'overdue' };
  const min = Math.floor(left / 60_000);
  const text = min < 1 ? 'reply in < 1 min' : min < 60 ? `reply in ${min} min` : `reply in ${Math.floor(min / 60)} h ${min % 60} min`;
  return { text, level: left <= 2 * 60_000 ? 'soon' : 'ok' };
}

/** Hand-back variables from editor rows: empty names are skipped; values typed like JSON where they parse as a number/bool/null. */
export function rowsToVariables(rows: { name: string; value: string }[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const r of rows) {
    const name = r.name.trim();
    if (!name) continue;
    const v = r.value.trim();
    if (v === 'true') out[name] = true;
    else if (v === 'false') out[name] = false;
    else if (v === 'null') out[name] = null;
    else if (/^-?\d+(\.\d+)?$/.test(v)) out[name] = Number(v);
    else out[name] = r.value;
  }
  return out;
}
