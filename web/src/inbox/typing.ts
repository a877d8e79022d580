// "Sam is typing…" in the customer's widget: the inbox composer calls sendTyping as the agent
// types. The server passes on at most one a second per agent and conversation, and the widget
// shows it for about 5 s after the last one (or until the agent's message comes).

import { csrfToken } from '../api';

/** The least time between two typing calls for one conversation. */
export const TYPING_EVERY_MS = 2_000;

/** A throttle per key: `ready(key, now)` is true at most once every `everyMs` for each key. */
export function throttle(everyMs: number): (key: string, now: number) => boolean {
  const last = new Map<string, number>();
  return (key, now) => {
    const at = last.get(key);
    if (at !== undefined && now >= at && now - at < everyMs) return false;
    last.set(key, now);
    return true;
  };
}

const ready = throttle(TYPING_EVERY_MS);

/** Tells the customer the agent is typing in this conversation (at most once every 2 s; a
 *  failure is ignored: it only means no "is typing" for a moment). */
export function sendTyping(conversationId: string): void {
  if (!ready(conversationId, Date.now())) return;
  const headers: Record<string, string> = {};
  const token = csrfToken();
  if (token) headers['x-csrf-token'] = token;
  void fetch(`/api/v1/inbox/conversations/${encodeURIComponent(conversationId)}/typing`, {
    method: 'POST',
    headers,
    credentials: 'same-origin',
  }).catch(() => undefined);
}
