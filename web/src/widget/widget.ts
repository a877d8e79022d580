// Baton's chat widget: one script tag on any site.
//
//   <script src="https://HOST/widget.js" data-widget-key="wk_…" async></script>
//
// Optional: data-flow-id (start this flow instead of the live one), data-title, data-color.
// The API base is the origin of the script's own src. Everything is drawn in a Shadow DOM, and all
// text is set with textContent: nothing a customer, bot or agent writes is ever parsed as HTML.

import {
  activeButtons,
  apiBase,
  clientId,
  lastSeq,
  mergeMessages,
  modeOf,
  parseStored,
  queueText,
  safeUrl,
  storageKey,
  wsUrl,
  type QueuePlace,
  type Stored,
  type WidgetMessage,
} from './core';

declare global {
  interface Window {
    __batonWidget?: boolean;
  }
}

const CSS = `
:host { all: initial; }
* { box-sizing: border-box; font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; }
.launcher { position: fixed; right: 20px; bottom: 20px; width: 56px; height: 56px; border-radius: 50%; border: 0;
  background: var(--c); color: #fff; font-size: 26px; cursor: pointer; box-shadow: 0 6px 20px rgba(0,0,0,.25); z-index: 2147483000; }
.launcher:focus-visible { outline: 3px solid #9dbbff; outline-offset: 2px; }
.win { position: fixed; right: 20px; bottom: 88px; width: 360px; max-width: calc(100vw - 24px); height: 540px; max-height: calc(100vh - 110px);
  background: #fff; color: #1b1f24; border-radius: 14px; box-shadow: 0 12px 40px rgba(0,0,0,.25); display: flex; flex-direction: column;
  overflow: hidden; z-index: 2147483000; font-size: 14px; line-height: 1.4; }
.win[hidden] { display: none; }
.head { background: var(--c); color: #fff; padding: 12px 14px; display: flex; align-items: center; gap: 8px; }
.head .title { font-weight: 600; flex: 1; }
.head .sub { font-size: 12px; opacity: .9; }
.head button { background: transparent; border: 0; color: #fff; font-size: 18px; cursor: pointer; }
.status { padding: 6px 12px; font-size: 12px; background: #fff5e0; color: #7a4a00; border-bottom: 1px solid #f0dfb8; }
.status[hidden] { display: none; }
.launcher[hidden] { display: none; }
.status .again { border: 0; background: transparent; color: var(--c); text-decoration: underline; cursor: pointer; font-size: 12px; padding: 0; }
.status.agent { background: #e8f6ee; color: #14532d; border-color: #b8e2c7; }
.log { flex: 1; overflow-y: auto; padding: 12px; display: flex; flex-direction: column; gap: 6px; background: #f6f7f9; }
.msg { display: flex; flex-direction: column; max-width: 82%; }
.msg .bubble { padding: 8px 11px; border-radius: 12px; background: #fff; border: 1px solid #e2e5ea; white-space: pre-wrap; word-break: break-word; }
.msg .who { font-size: 11px; color: #667085; margin: 0 4px 2px; }
.msg.customer { align-self: flex-end; }
.msg.customer .bubble { background: var(--c); color: #fff; border-color: var(--c); }
.msg.agent .bubble { background: #e8f6ee; border-color: #b8e2c7; }
.msg .links a { display: inline-block; margin: 4px 6px 0 0; font-size: 12px; color: var(--c); }
.sys { align-self: center; font-size: 12px; color: #667085; text-align: center; padding: 2px 8px; }
.typing { align-self: flex-start; background: #fff; border: 1px solid #e2e5ea; border-radius: 12px; padding: 8px 12px; }
.typing span { display: inline-block; width: 6px; height: 6px; margin: 0 2px; border-radius: 50%; background: #98a2b3; animation: b 1s infinite; }
.typing span:nth-child(2) { animation-delay: .15s; } .typing span:nth-child(3) { animation-delay: .3s; }
@keyframes b { 0%, 80%, 100% { opacity: .3; } 40% { opacity: 1; } }
.buttons { display: flex; flex-wrap: wrap; gap: 6px; padding: 8px 12px 0; background: #fff; }
.buttons:empty { display: none; }
.buttons button { border: 1px solid var(--c); color: var(--c); background: #fff; border-radius: 999px; padding: 6px 12px; cursor: pointer; font-size: 13px; }
.buttons button:hover { background: #f1f5ff; }
form { display: flex; gap: 6px; padding: 10px 12px 12px; background: #fff; border-top: 1px solid #eef0f3; }
input { flex: 1; border: 1px solid #d0d5dd; border-radius: 8px; padding: 8px 10px; font-size: 14px; min-width: 0; }
input:disabled { background: #f2f4f7; }
form button { border: 0; background: var(--c); color: #fff; border-radius: 8px; padding: 0 14px; cursor: pointer; font-size: 14px; }
form button:disabled { opacity: .5; cursor: default; }
.err { color: #c8312b; font-size: 12px; padding: 0 12px 6px; background: #fff; }
.err:empty { display: none; }
`;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function start() {
  if (window.__batonWidget) return;
  const script = (document.currentScript as HTMLScriptElement | null) ?? document.querySelector<HTMLScriptElement>('script[data-widget-key]');
  const widgetKey = script?.dataset.widgetKey;
  if (!widgetKey) {
    console.warn('Baton widget: data-widget-key is missing on the script tag.');
    return;
  }
  window.__batonWidget = true;
  const base = apiBase(script?.src, location.href);
  const flowId = script?.dataset.flowId;
  const color = script?.dataset.color && /^#[0-9a-fA-F]{3,8}$/.test(script.dataset.color) ? script.dataset.color : '#2454d6';
  const title = script?.dataset.title || 'Chat with us';
  const key = storageKey(widgetKey);

  // ---- DOM -----------------------------------------------------------------------------------
  const host = el('div');
  host.id = 'baton-widget';
  host.setAttribute('data-baton-widget', '');
  const root = host.attachShadow({ mode: 'open' });
  const style = el('style');
  style.textContent = CSS;
  root.append(style);
  const wrap = el('div');
  wrap.style.setProperty('--c', color);
  const launcher = el('button', 'launcher', '💬');
  launcher.setAttribute('aria-label', 'Open the chat');
  launcher.setAttribute('part', 'launcher');
  const win = el('div', 'win');
  win.setAttribute('role', 'dialog');
  win.setAttribute('aria-label', title);
  win.hidden = true;
  const head = el('div', 'head');
  const titles = el('div');
  titles.style.flex = '1';
  const titleEl = el('div', 'title', title);
  const sub = el('div', 'sub', 'We usually reply in a few minutes');
  titles.append(titleEl, sub);
  const close = el('button', '', '✕');
  close.setAttribute('aria-label', 'Close the chat');
  head.append(titles, close);
  const status = el('div', 'status');
  status.hidden = true;
  status.setAttribute('role', 'status');
  const log = el('div', 'log');
  log.setAttribute('aria-live', 'polite');
  const buttons = el('div', 'buttons');
  const err = el('div', 'err');
  const form = el('form');
  const input = el('input');
  input.placeholder = 'Type a message…';
  input.setAttribute('aria-label', 'Message');
  input.maxLength = 4000;
  const send = el('button', '', 'Send');
  send.type = 'submit';
  form.append(input, send);
  win.append(head, status, log, buttons, err, form);
  wrap.append(win, launcher);
  root.append(wrap);
  document.body.append(host);

  // ---- state ---------------------------------------------------------------------------------
  let stored: Stored | null = null;
  try {
    stored = parseStored(localStorage.getItem(key));
  } catch {
    stored = null;
  }
  let messages: WidgetMessage[] = [];
  let convStatus: string | null = null;
  // While queued: the place in the queue and how long the queue usually waits.
  let queuePlace: QueuePlace | null = null;
  let waiting = 0; // requests waiting for the bot's reply
  let draft: string | null = null; // the bot's next answer while a model writes it
  let ws: WebSocket | null = null;
  let retry = 0;
  let starting: Promise<void> | null = null;

  const save = () => {
    try {
      if (stored) localStorage.setItem(key, JSON.stringify(stored));
      else localStorage.removeItem(key);
    } catch {
      // storage unavailable: the conversation lasts as long as the page
    }
  };

  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (stored) headers.authorization = `Bearer ${stored.token}`;
    const res = await fetch(new URL(path, base).toString(), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const data = (await res.json().catch(() => null)) as T & { error?: { message?: string } };
    if (!res.ok) {
      const e = new Error(data?.error?.message ?? `HTTP ${res.status}`) as Error & { status?: number };
      e.status = res.status;
      throw e;
    }
    return data;
  };

  const render = () => {
    log.replaceChildren();
    for (const m of messages) {
      if (m.role === 'system' || m.role === 'event') {
        log.append(el('div', 'sys', m.text ?? ''));
        continue;
      }
      const row = el('div', `msg ${m.role}`);
      row.dataset.seq = String(m.seq);
      row.dataset.role = m.role;
      if (m.role === 'agent') row.append(el('div', 'who', m.author || 'Agent'));
      const bubble = el('div', 'bubble', m.text ?? '');
      row.append(bubble);
      if (m.links?.length) {
        const links = el('div', 'links');
        for (const l of m.links) {
          const url = safeUrl(l.url);
          if (!url) continue;
          const a = el('a', '', l.label || url);
          a.href = url;
          a.target = '_blank';
          a.rel = 'noopener noreferrer';
          links.append(a);
        }
        row.append(links);
      }
      log.append(row);
    }
    if (draft) {
      const row = el('div', 'msg bot');
      row.dataset.draft = '';
      row.append(el('div', 'bubble', draft));
      log.append(row);
    } else if (waiting > 0) {
      const t = el('div', 'typing');
      t.setAttribute('aria-label', 'typing');
      t.dataset.typing = '';
      t.append(el('span'), el('span'), el('span'));
      log.append(t);
    }
    log.scrollTop = log.scrollHeight;

    const mode = modeOf(convStatus, messages);
    if (mode.kind === 'connecting') {
      status.hidden = false;
      status.className = 'status';
      status.textContent = `Connecting you to a person… ${queueText(queuePlace)}`;
      // The customer may stop waiting (the flow then goes on from its `cancelled` path).
      const stop = el('button', 'again', 'Stop waiting');
      stop.type = 'button';
      stop.addEventListener('click', () => void stopWaiting());
      status.append(stop);
    } else if (mode.kind === 'agent') {
      status.hidden = false;
      status.className = 'status agent';
      status.textContent = `You're chatting with ${mode.name}`;
    } else if (mode.kind === 'closed') {
      status.hidden = false;
      status.className = 'status';
      status.textContent = 'This conversation has ended. ';
      const again = el('button', 'again', 'Start a new conversation');
      again.type = 'button';
      again.addEventListener('click', () => {
        ws?.close();
        ws = null;
        stored = null;
        save();
        messages = [];
        convStatus = null;
        render();
        void begin();
      });
      status.append(again);
    } else {
      status.hidden = true;
    }
    sub.textContent = mode.kind === 'agent' ? mode.name : 'We usually reply in a few minutes';

    const { buttons: bs, only } = activeButtons(messages);
    buttons.replaceChildren();
    for (const b of bs) {
      const btn = el('button', '', b.label);
      btn.type = 'button';
      btn.dataset.button = b.id;
      btn.addEventListener('click', () => void sendMessage({ button: b.id }, b.label));
      buttons.append(btn);
    }
    const closed = mode.kind === 'closed';
    input.disabled = only || closed;
    input.placeholder = only ? 'Please choose an option above' : closed ? 'Conversation ended' : 'Type a message…';
    send.disabled = input.disabled;
  };

  const add = (incoming: WidgetMessage[]) => {
    const next = mergeMessages(messages, incoming);
    if (next !== messages) {
      messages = next;
      render();
    }
  };

  // The flow may end (or resolve) the conversation after its last message: ask for the status.
  let statusTimer = 0;
  const refreshStatus = () => {
    window.clearTimeout(statusTimer);
    statusTimer = window.setTimeout(() => {
      if (!stored) return;
      void api<{ status: string; queue?: QueuePlace }>('GET', `/api/v1/conversations/${encodeURIComponent(stored.conversationId)}`)
        .then((c) => {
          const place = c.queue ?? null;
          if (c.status !== convStatus || place?.position !== queuePlace?.position) {
            convStatus = c.status;
            queuePlace = place;
            render();
          }
        })
        .catch(() => undefined);
    }, 400);
  };
  // The place in the queue moves while the customer waits.
  window.setInterval(() => {
    if (convStatus === 'queued' && !win.hidden) refreshStatus();
  }, 15_000);

  const connect = () => {
    if (!stored || ws) return;
    const s = stored;
    const socket = new WebSocket(wsUrl(base, s.conversationId, s.token, lastSeq(messages)));
    ws = socket;
    socket.onopen = () => (retry = 0);
    socket.onmessage = (ev) => {
      let frame: { type?: string; message?: WidgetMessage; status?: string; text?: string } | null = null;
      try {
        frame = JSON.parse(String(ev.data));
      } catch {
        return;
      }
      if (frame?.type === 'message' && frame.message) {
        const m = frame.message;
        if (m.role === 'system' && m.author) convStatus = 'assigned';
        else if (m.role === 'agent') convStatus = 'assigned';
        else if (m.role === 'bot' && convStatus === 'assigned') convStatus = 'bot';
        if (m.role === 'bot') draft = null; // the answer arrived whole
        add([m]);
        if (m.role === 'bot' || m.role === 'system') refreshStatus();
      } else if (frame?.type === 'draft' && typeof frame.text === 'string') {
        draft = frame.text;
        render();
      } else if (frame?.type === 'ack' && frame.status) {
        convStatus = frame.status;
        render();
      }
    };
    socket.onclose = () => {
      if (ws === socket) ws = null;
      if (!stored) return;
      retry = Math.min(retry + 1, 6);
      window.setTimeout(connect, 400 * 2 ** retry);
    };
  };

  const restore = async () => {
    if (!stored) return;
    try {
      const [page, conv] = await Promise.all([
        api<{ messages: WidgetMessage[] }>('GET', `/api/v1/conversations/${encodeURIComponent(stored.conversationId)}/messages?after=0`),
        api<{ status: string; queue?: QueuePlace }>('GET', `/api/v1/conversations/${encodeURIComponent(stored.conversationId)}`),
      ]);
      convStatus = conv.status;
      queuePlace = conv.queue ?? null;
      add(page.messages ?? []);
      render();
      connect();
    } catch (e) {
      if ((e as { status?: number }).status === 401 || (e as { status?: number }).status === 404) {
        stored = null; // the conversation is gone: start a new one on open
        save();
      } else {
        err.textContent = 'Cannot reach the chat right now.';
      }
    }
  };

  // The id of a start not yet answered: trying again after a failure reuses it, so a start
  // the server did commit is not made twice.
  let startId: string | null = null;
  const begin = () => {
    if (stored) return Promise.resolve();
    if (starting) return starting;
    waiting += 1;
    render();
    starting = (async () => {
      try {
        startId ??= Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
        const body: Record<string, unknown> = { widget_key: widgetKey, client_id: startId };
        if (flowId) body.flow_id = flowId;
        // Entry rules on pages read it (and flows, as conversation.page_url).
        if (location.href) body.page_url = location.href.slice(0, 2000);
        const r = await api<{ conversation: { id: string; status: string }; token: string; messages: WidgetMessage[] }>('POST', '/api/v1/widget/conversations', body);
        stored = { conversationId: r.conversation.id, token: r.token, open: true };
        startId = null;
        save();
        convStatus = r.conversation.status;
        err.textContent = '';
        add(r.messages ?? []);
        connect();
      } catch (e) {
        // Shoppers get words, not the server's error (kept in the console for the site's team).
        console.warn('Baton: the chat could not start:', (e as Error).message);
        const status = (e as { status?: number }).status;
        err.textContent =
          status === 404 || status === 403
            ? "Chat isn't available right now. Please try again later."
            : "The chat couldn't start. Please check your connection and try again.";
      } finally {
        waiting -= 1;
        starting = null;
        render();
      }
    })();
    return starting;
  };

  const stopWaiting = async () => {
    if (!stored) return;
    waiting += 1;
    render();
    try {
      const before = lastSeq(messages);
      const r = await api<{ conversation: { status: string }; messages: WidgetMessage[] }>(
        'POST',
        `/api/v1/conversations/${encodeURIComponent(stored.conversationId)}/cancel`,
      );
      convStatus = r.conversation?.status ?? convStatus;
      err.textContent = '';
      add(r.messages ?? []);
      const page = await api<{ messages: WidgetMessage[] }>('GET', `/api/v1/conversations/${encodeURIComponent(stored.conversationId)}/messages?after=${before}`).catch(() => ({ messages: [] as WidgetMessage[] }));
      add(page.messages ?? []);
      refreshStatus();
    } catch {
      err.textContent = 'Could not stop waiting. Please try again.';
    } finally {
      waiting -= 1;
      render();
    }
  };

  const sendMessage = async (payload: { text: string } | { button: string }, shown: string) => {
    await begin();
    if (!stored) return;
    const cid = clientId();
    const before = lastSeq(messages);
    // Shown at once; the server's copy (same text) replaces it when it arrives.
    const pendingSeq = lastSeq(messages) + 0.5;
    messages = [...messages, { seq: pendingSeq, role: 'customer', text: shown, client_id: cid }];
    waiting += 1;
    render();
    try {
      const r = await api<{ messages: WidgetMessage[]; conversation: { status: string } }>(
        'POST',
        `/api/v1/conversations/${encodeURIComponent(stored.conversationId)}/messages`,
        { client_id: cid, ...payload },
      );
      convStatus = r.conversation?.status ?? convStatus;
      messages = messages.filter((m) => m.seq !== pendingSeq);
      refreshStatus();
      err.textContent = '';
      add(r.messages ?? []);
      // The customer's own message is not among the replies: fetch everything since.
      const page = await api<{ messages: WidgetMessage[] }>('GET', `/api/v1/conversations/${encodeURIComponent(stored.conversationId)}/messages?after=${before}`).catch(() => ({ messages: [] as WidgetMessage[] }));
      add(page.messages ?? []);
    } catch (e) {
      messages = messages.filter((m) => m.seq !== pendingSeq);
      err.textContent = `Not sent: ${(e as Error).message}`;
      if (typeof (payload as { text?: string }).text === 'string') input.value = (payload as { text: string }).text;
    } finally {
      waiting -= 1;
      render();
    }
  };

  const setOpen = (open: boolean) => {
    win.hidden = !open;
    launcher.textContent = open ? '✕' : '💬';
    launcher.setAttribute('aria-label', open ? 'Close the chat' : 'Open the chat');
    if (stored) {
      stored.open = open;
      save();
    }
    if (open) {
      void begin();
      window.setTimeout(() => input.focus(), 0);
    }
  };

  launcher.addEventListener('click', () => setOpen(win.hidden));
  close.addEventListener('click', () => setOpen(false));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text || input.disabled) return;
    input.value = '';
    void sendMessage({ text }, text);
  });

  render();
  // No live flow to start (and no conversation to come back to): no launcher.
  if (!stored) {
    launcher.hidden = true;
    const q = new URLSearchParams({ widget_key: widgetKey });
    if (flowId) q.set('flow_id', flowId);
    void fetch(new URL(`/api/v1/widget/availability?${q}`, base).toString())
      .then((r) => (r.ok ? (r.json() as Promise<{ available?: boolean }>) : { available: r.status !== 404 }))
      .then((a) => {
        launcher.hidden = a.available === false;
      })
      .catch(() => {
        launcher.hidden = false; // cannot tell: let the customer try
      });
  }
  if (stored) {
    const wasOpen = stored.open;
    void restore().then(() => {
      if (wasOpen) setOpen(true);
    });
  }
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start, { once: true });
else start();
