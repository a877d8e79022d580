// The chat widget's pure logic: where the API is, what is stored, merging messages, and what the
// header says. No DOM here (see widget.ts).

export interface WidgetButton {
  id: string;
  label: string;
}

export interface WidgetMessage {
  seq: number;
  role: 'customer' | 'bot' | 'agent' | 'system' | string;
  text?: string | null;
  buttons?: WidgetButton[];
  links?: { label?: string; url: string }[];
  author?: string | null;
  buttons_only?: boolean;
  client_id?: string;
  created_at?: number;
}

export interface Stored {
  conversationId: string;
  token: string;
  open?: boolean;
}

/** The API base: the origin the widget script was loaded from. */
export function apiBase(scriptSrc: string | null | undefined, fallback: string): string {
  if (!scriptSrc) return fallback;
  try {
    return new URL(scriptSrc, fallback).origin;
  } catch {
    return fallback;
  }
}

export function wsUrl(base: string, conversationId: string, token: string, after: number): string {
  const u = new URL(`/api/v1/conversations/${encodeURIComponent(conversationId)}/ws`, base);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.searchParams.set('token', token);
  u.searchParams.set('after', String(after));
  return u.toString();
}

export function storageKey(widgetKey: string): string {
  return `baton.widget.${widgetKey}`;
}

export function parseStored(raw: string | null): Stored | null {
  if (!raw) return null;
  try {
    const v = JSON.parse(raw) as Partial<Stored>;
    if (typeof v.conversationId === 'string' && typeof v.token === 'string') return { conversationId: v.conversationId, token: v.token, open: Boolean(v.open) };
  } catch {
    // corrupt: start over
  }
  return null;
}

/** Adds messages by seq, ignoring ones already there; keeps them ordered. */
export function mergeMessages(current: WidgetMessage[], incoming: WidgetMessage[]): WidgetMessage[] {
  const bySeq = new Map(current.map((m) => [m.seq, m]));
  let changed = false;
  for (const m of incoming) {
    if (typeof m?.seq !== 'number' || bySeq.has(m.seq)) continue;
    // The server's copy of a message shown while sending (same client_id) replaces it.
    if (m.client_id) {
      for (const [seq, old] of bySeq) if (!Number.isInteger(seq) && old.client_id === m.client_id) bySeq.delete(seq);
    }
    bySeq.set(m.seq, m);
    changed = true;
  }
  if (!changed) return current;
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

export function lastSeq(messages: WidgetMessage[]): number {
  return messages.reduce((n, m) => Math.max(n, m.seq), 0);
}

/** Who the customer is talking to, from the conversation status (the socket's status frames). */
export type Mode = { kind: 'bot' } | { kind: 'connecting' } | { kind: 'agent'; name: string } | { kind: 'closed' };

export function modeOf(status: string | null, agentName: string | null, messages: WidgetMessage[]): Mode {
  if (status === 'resolved' || status === 'follow_up') return { kind: 'closed' };
  if (status === 'queued') return { kind: 'connecting' };
  if (status === 'assigned') return { kind: 'agent', name: agentName || lastAgentName(messages) || 'Agent' };
  return { kind: 'bot' };
}

/** The name of the agent who spoke last (or joined last), if any. */
export function lastAgentName(messages: WidgetMessage[]): string | null {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as WidgetMessage;
    if ((m.role === 'agent' || m.role === 'system') && m.author) return m.author;
  }
  return null;
}

/** The socket's `{"type": "status", …}` frame: who has the conversation now. */
export interface StatusUpdate {
  status: string;
  queue: QueuePlace | null;
  agentName: string | null;
}

export function parseStatusFrame(frame: unknown): StatusUpdate | null {
  if (!frame || typeof frame !== 'object') return null;
  const f = frame as { type?: unknown; status?: unknown; queue?: unknown; agent?: unknown };
  if (f.type !== 'status' || typeof f.status !== 'string') return null;
  const q = f.queue as Partial<QueuePlace> | null | undefined;
  const queue = q && typeof q.position === 'number' ? { position: q.position, typical_wait_ms: typeof q.typical_wait_ms === 'number' ? q.typical_wait_ms : null } : null;
  const name = (f.agent as { name?: unknown } | null | undefined)?.name;
  return { status: f.status, queue, agentName: typeof name === 'string' && name.trim() ? name : null };
}

/** How long "… is typing" stays after the agent's last typing frame. */
export const TYPING_SHOWN_MS = 5_000;

export function typingText(name: string): string {
  return `${name} is typing…`;
}

/**
 * Avatar colours: white initials on each are at least 4.5:1 (WCAG AA for small text).
 */
export const AVATAR_COLORS = ['#1f5fbf', '#7a3db8', '#b03a2e', '#1e7a4d', '#a13a75', '#0f6a7a', '#8a5a00', '#4b5563'];

/** An agent's avatar: their initials, on a colour that always comes out the same for a name. */
export function avatarOf(name: string): { initials: string; color: string } {
  const words = name.trim().split(/\s+/).filter(Boolean);
  const first = (w: string | undefined) => (w ? (Array.from(w)[0] ?? '') : '');
  const initials = (words.length > 1 ? first(words[0]) + first(words[words.length - 1]) : first(words[0])).toUpperCase() || '?';
  let hash = 0;
  for (const ch of name.trim()) hash = (hash * 31 + (ch.codePointAt(0) ?? 0)) >>> 0;
  return { initials, color: AVATAR_COLORS[hash % AVATAR_COLORS.length] as string };
}

/** The buttons the customer can press now: the last message's, if it is the bot's latest. */
export function activeButtons(messages: WidgetMessage[]): { buttons: WidgetButton[]; only: boolean } {
  const last = messages[messages.length - 1];
  if (!last || last.role !== 'bot' || !last.buttons?.length) return { buttons: [], only: false };
  return { buttons: last.buttons, only: Boolean(last.buttons_only) };
}

export function clientId(): string {
  const rand = typeof crypto !== 'undefined' && 'randomUUID' in crypto ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`;
  return `w_${rand}`;
}

/** Only http(s) links are made clickable. */
export function safeUrl(url: string): string | null {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.toString() : null;
  } catch {
    return null;
  }
}

/** Where a queued conversation is: its place, and how long the queue usually waits (ms). */
export interface QueuePlace {
  position: number;
  typical_wait_ms: number | null;
}

/** "You're number 2 in line, usually about 3 min." (empty without a place). */
export function queueText(place: QueuePlace | null): string {
  if (!place) return '';
  const where = place.position <= 1 ? "You're next." : `You're number ${place.position} in line.`;
  if (place.typical_wait_ms == null) return `${where} `;
  const minutes = Math.max(1, Math.round(place.typical_wait_ms / 60_000));
  return `${where} Usually about ${minutes} min. `;
}
