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
  avatarOf,
  clientId,
  lastSeq,
  mergeMessages,
  modeOf,
  parseStatusFrame,
  parseStored,
  queueText,
  safeUrl,
  storageKey,
  TYPING_SHOWN_MS,
  typingText,
  wsUrl,
  type Mode,
  type QueuePlace,
  type StatusUpdate,
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
.sr { position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
.launcher { position: fixed; right: 20px; bottom: 20px; width: 56px; height: 56px; border-radius: 50%; border: 0;
  background: var(--c); color: #fff; font-size: 26px; cursor: pointer; box-shadow: 0 6px 20px rgba(0,0,0,.25); z-index: 2147483000; }
button:focus-visible, a:focus-visible, input:focus-visible, .scroll:focus-visible { outline: 3px solid #9dbbff; outline-offset: 2px; }
.win { position: fixed; right: 20px; bottom: 88px; width: 360px; max-width: calc(100vw - 24px); height: 540px; max-height: calc(100vh - 110px);
  background: #fff; color: #1b1f24; border-radius: 14px; box-shadow: 0 12px 40px rgba(0,0,0,.25); display: flex; flex-direction: column;
  overflow: hidden; z-index: 2147483000; font-size: 14px; line-height: 1.4; }
.win[hidden] { display: none; }
.head { background: var(--c); color: #fff; padding: 12px 14px; display: flex; align-items: center; gap: 8px; }
.head .titles { flex: 1; min-width: 0; }
.head .title { font-weight: 600; font-size: 15px; margin: 0; }
.head .sub { font-size: 12px; display: flex; align-items: center; gap: 6px; }
.head button { background: transparent; border: 0; color: #fff; font-size: 18px; cursor: pointer; }
.avatar { flex: none; width: 28px; height: 28px; border-radius: 50%; color: #fff; font-size: 12px; font-weight: 600; display: inline-flex;
  align-items: center; justify-content: center; letter-spacing: .02em; }
.head .avatar { width: 20px; height: 20px; font-size: 10px; box-shadow: 0 0 0 1.5px #fff; }
.status { padding: 6px 12px; font-size: 12px; background: #fff5e0; color: #6b4100; border-bottom: 1px solid #f0dfb8; }
.status[hidden] { display: none; }
.launcher[hidden] { display: none; }
.status .again { border: 0; background: transparent; color: var(--c); text-decoration: underline; cursor: pointer; font-size: 12px; padding: 0; }
.status.agent { background: #e8f6ee; color: #14532d; border-color: #b8e2c7; }
.scroll { flex: 1; overflow-y: auto; padding: 12px; display: flex; flex-direction: column; gap: 6px; background: #f6f7f9; }
.log { display: flex; flex-direction: column; gap: 6px; }
.msg { display: flex; flex-direction: column; max-width: 82%; }
.msg .body { display: flex; flex-direction: column; min-width: 0; }
.msg .bubble { padding: 8px 11px; border-radius: 12px; background: #fff; border: 1px solid #e2e5ea; white-space: pre-wrap; word-break: break-word; }
.msg .who { font-size: 11px; color: #4b5563; margin: 0 4px 2px; }
.msg.customer { align-self: flex-end; }
.msg.customer .bubble { background: var(--c); color: #fff; border-color: var(--c); }
.msg.agent { flex-direction: row; align-items: flex-end; gap: 6px; }
.msg.agent .bubble { background: #e8f6ee; border-color: #b8e2c7; }
.msg .links a { display: inline-block; margin: 4px 6px 0 0; font-size: 12px; color: var(--c); }
.sys { align-self: center; font-size: 12px; color: #4b5563; text-align: center; padding: 2px 8px; }
.activity:empty { display: none; }
.activity { display: flex; align-items: center; gap: 6px; }
.activity .who { font-size: 12px; color: #4b5563; }
.typing { align-self: flex-start; background: #fff; border: 1px solid #e2e5ea; border-radius: 12px; padding: 8px 12px; }
.typing span { display: inline-block; width: 6px; height: 6px; margin: 0 2px; border-radius: 50%; background: #98a2b3; animation: b 1s infinite; }
.typing span:nth-child(2) { animation-delay: .15s; } .typing span:nth-child(3) { animation-delay: .3s; }
@keyframes b { 0%, 80%, 100% { opacity: .3; } 40% { opacity: 1; } }
@media (prefers-reduced-motion: reduce) { .typing span { animation: none; opacity: .7; } }
.buttons { display: flex; flex-wrap: wrap; gap: 6px; padding: 8px 12px 0; background: #fff; }
.buttons:empty { display: none; }
.buttons button { border: 1px solid var(--c); color: var(--c); background: #fff; border-radius: 999px; padding: 6px 12px; cursor: pointer; font-size: 13px; }
.buttons button:hover { background: #f1f5ff; }
form { display: flex; gap: 6px; padding: 10px 12px 12px; background: #fff; border-top: 1px solid #eef0f3; }
input { flex: 1; border: 1px solid #8a94a6; border-radius: 8px; padding: 8px 10px; font-size: 14px; min-width: 0; color: #1b1f24; }
input::placeholder { color: #5b6472; }
input:disabled { background: #f2f4f7; }
form button { border: 0; background: var(--c); color: #fff; border-radius: 8px; padding: 0 14px; cursor: pointer; font-size: 14px; }
form button:disabled { opacity: .5; cursor: default; }
.err { color: #b42318; font-size: 12px; padding: 0 12px 6px; background: #fff; }
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
  launcher.type = 'button';
  launcher.setAttribute('aria-label', 'Open the chat');
  launcher.setAttribute('aria-expanded', 'false');
  launcher.setAttribute('aria-controls', 'baton-chat');
  launcher.setAttribute('part', 'launcher');
  const win = el('div', 'win');
  win.id = 'baton-chat';
  win.setAttribute('role', 'dialog');
  win.setAttribute('aria-labelledby', 'baton-chat-title');
  win.hidden = true;
  const head = el('div', 'head');
  const titles = el('div', 'titles');
  const titleEl = el('h2', 'title', title);
  titleEl.id = 'baton-chat-title';
  const sub = el('div', 'sub', 'We usually reply in a few minutes');
  titles.append(titleEl, sub);
  const close = el('button', '', '✕');
  close.type = 'button';
  close.setAttribute('aria-label', 'Close the chat');
  head.append(titles, close);
  const status = el('div', 'status');
  status.hidden = true;
  status.setAttribute('role', 'status');
  // The conversation scrolls; the keyboard can scroll it too.
  const scroll = el('div', 'scroll');
  scroll.tabIndex = 0;
  scroll.setAttribute('role', 'region');
  scroll.setAttribute('aria-label', 'Conversation');
  // The messages: a log, so screen readers read each new message once.
  const log = el('div', 'log');
  log.setAttribute('role', 'log');
  log.setAttribute('aria-live', 'polite');
  // Below the messages: an agent typing (said once), the bot's dots or its answer being written.
  const activity = el('div', 'activity');
  activity.setAttribute('role', 'status');
  scroll.append(log, activity);
  const buttons = el('div', 'buttons');
  buttons.setAttribute('role', 'group');
  buttons.setAttribute('aria-label', 'Answers to choose from');
  const err = el('div', 'err');
  err.setAttribute('role', 'alert');
  const form = el('form');
  const input = el('input');
  input.placeholder = 'Type a message…';
  input.setAttribute('aria-label', 'Message');
  input.maxLength = 4000;
  const send = el('button', '', 'Send');
  send.type = 'submit';
  form.append(input, send);
  win.append(head, status, scroll, buttons, err, form);
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
  // Who has the conversation, as the server's status frames say.
  let convStatus: string | null = null;
  let agentName: string | null = null;
  // While queued: the place in the queue and how long the queue usually waits.
  let queuePlace: QueuePlace | null = null;
  let waiting = 0; // requests waiting for the bot's reply
  let draft: string | null = null; // the bot's next answer while a model writes it
  let typingAgent: string | null = null; // "Sam is typing…" until its timer or Sam's message
  let typingTimer = 0;
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

  const avatar = (name: string) => {
    const { initials, color: background } = avatarOf(name);
    const a = el('span', 'avatar', initials);
    a.style.background = background;
    a.setAttribute('aria-hidden', 'true');
    return a;
  };

  const messageNode = (m: WidgetMessage): HTMLElement => {
    if (m.role === 'system' || m.role === 'event') return el('div', 'sys', m.text ?? '');
    const row = el('div', `msg ${m.role}`);
    row.dataset.seq = String(m.seq);
    row.dataset.role = m.role;
    const body = el('div', 'body');
    if (m.role === 'agent') {
      const name = m.author || 'Agent';
      row.append(avatar(name));
      body.append(el('div', 'who', name));
    } else {
      body.append(el('span', 'sr', m.role === 'customer' ? 'You:' : 'Bot:'));
    }
    body.append(el('div', 'bubble', m.text ?? ''));
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
      body.append(links);
    }
    row.append(body);
    return row;
  };

  // The log changes only where messages come or go, so a screen reader hears only those.
  const shown = new Map<number, HTMLElement>();
  const renderLog = () => {
    const wanted = new Set(messages.map((m) => m.seq));
    for (const [seq, node] of shown) {
      if (!wanted.has(seq)) {
        node.remove();
        shown.delete(seq);
      }
    }
    let previous: HTMLElement | null = null;
    for (const m of messages) {
      let node = shown.get(m.seq);
      if (!node) {
        node = messageNode(m);
        shown.set(m.seq, node);
      }
      const at: ChildNode | null = previous ? previous.nextSibling : log.firstChild;
      if (at !== node) log.insertBefore(node, at);
      previous = node;
    }
  };

  /** Three bouncing dots: someone is writing (shown, not read out). */
  const dots = () => {
    const d = el('div', 'typing');
    d.setAttribute('aria-hidden', 'true');
    d.append(el('span'), el('span'), el('span'));
    return d;
  };

  // Live regions and controls are redrawn only when what they say changes (a redraw is read
  // out again, and takes the focus away from a button in them).
  let activityShown = '';
  const renderActivity = () => {
    const now = draft ? `draft:${draft}` : typingAgent ? `agent:${typingAgent}` : waiting > 0 ? 'bot' : '';
    if (now === activityShown) return;
    activityShown = now;
    activity.replaceChildren();
    if (draft) {
      const row = el('div', 'msg bot');
      row.dataset.draft = '';
      row.setAttribute('aria-hidden', 'true');
      row.append(el('div', 'bubble', draft));
      activity.append(row);
    } else if (typingAgent) {
      activity.append(avatar(typingAgent), dots(), el('span', 'who', typingText(typingAgent)));
    } else if (waiting > 0) {
      activity.append(dots());
    }
  };

  let statusShown = '';
  const renderStatus = (mode: Mode) => {
    const text =
      mode.kind === 'connecting'
        ? `Connecting you to a person… ${queueText(queuePlace)}`
        : mode.kind === 'agent'
          ? `You're chatting with ${mode.name}`
          : mode.kind === 'closed'
            ? 'This conversation has ended. '
            : '';
    if (`${mode.kind}:${text}` === statusShown) return;
    const hadFocus = root.activeElement instanceof HTMLElement && status.contains(root.activeElement);
    statusShown = `${mode.kind}:${text}`;
    status.hidden = mode.kind === 'bot';
    status.className = mode.kind === 'agent' ? 'status agent' : 'status';
    status.textContent = text;
    if (mode.kind === 'connecting') {
      // The customer may stop waiting (the flow then goes on from its `cancelled` path).
      const stop = el('button', 'again', 'Stop waiting');
      stop.type = 'button';
      stop.addEventListener('click', () => void stopWaiting());
      status.append(stop);
      if (hadFocus) stop.focus();
    } else if (mode.kind === 'closed') {
      const again = el('button', 'again', 'Start a new conversation');
      again.type = 'button';
      again.addEventListener('click', () => {
        ws?.close();
        ws = null;
        statusBySocket = false;
        stored = null;
        save();
        messages = [];
        convStatus = null;
        agentName = null;
        render();
        void begin().then(keepFocusInside);
      });
      status.append(again);
      if (hadFocus) again.focus();
    }
    sub.replaceChildren();
    if (mode.kind === 'agent') sub.append(avatar(mode.name), `${mode.name} from our team is here`);
    else sub.textContent = 'We usually reply in a few minutes';
  };

  let buttonsShown = '';
  const renderButtons = () => {
    const { buttons: bs } = activeButtons(messages);
    const now = JSON.stringify(bs);
    if (now === buttonsShown) return;
    buttonsShown = now;
    buttons.replaceChildren();
    for (const b of bs) {
      const btn = el('button', '', b.label);
      btn.type = 'button';
      btn.dataset.button = b.id;
      btn.addEventListener('click', () => void sendMessage({ button: b.id }, b.label));
      buttons.append(btn);
    }
  };

  const render = () => {
    renderLog();
    renderActivity();
    scroll.scrollTop = scroll.scrollHeight;
    const mode = modeOf(convStatus, agentName, messages);
    renderStatus(mode);
    renderButtons();
    const { only } = activeButtons(messages);
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

  const stopTyping = () => {
    window.clearTimeout(typingTimer);
    typingAgent = null;
  };

  const setStatus = (update: StatusUpdate) => {
    convStatus = update.status;
    agentName = update.agentName;
    queuePlace = update.status === 'queued' ? update.queue : null;
    if (update.status !== 'assigned' && update.status !== 'queued') stopTyping();
    render();
  };

  // The place in the queue, read again while the customer waits (it moves as others are taken).
  let placeTimer = 0;
  const refreshPlace = () => {
    window.clearTimeout(placeTimer);
    placeTimer = window.setTimeout(() => {
      if (!stored) return;
      void api<{ status: string; queue?: QueuePlace }>('GET', `/api/v1/conversations/${encodeURIComponent(stored.conversationId)}`)
        .then((c) => {
          if (c.status !== 'queued' || convStatus !== 'queued') return;
          const place = c.queue ?? null;
          if (place?.position !== queuePlace?.position || place?.typical_wait_ms !== queuePlace?.typical_wait_ms) {
            queuePlace = place;
            render();
          }
        })
        .catch(() => undefined);
    }, 400);
  };
  window.setInterval(() => {
    if (convStatus === 'queued' && !win.hidden) refreshPlace();
  }, 15_000);

  // A status told by an HTTP answer, used while the socket has told none (an answer may be
  // older than the socket's last status frame).
  let statusBySocket = false;
  const statusFromAnswer = (next: string | undefined) => {
    if (statusBySocket || !next || next === convStatus) return;
    convStatus = next;
    if (next !== 'assigned') agentName = null;
    if (next === 'queued') refreshPlace();
  };

  const connect = () => {
    if (!stored || ws) return;
    const s = stored;
    const socket = new WebSocket(wsUrl(base, s.conversationId, s.token, lastSeq(messages)));
    ws = socket;
    socket.onopen = () => (retry = 0);
    socket.onmessage = (ev) => {
      if (ws !== socket) return; // a conversation left for a new one
      let frame: { type?: string; message?: WidgetMessage; status?: string; text?: string; agent?: { name?: unknown } } | null = null;
      try {
        frame = JSON.parse(String(ev.data));
      } catch {
        return;
      }
      const update = parseStatusFrame(frame);
      if (update) {
        statusBySocket = true;
        setStatus(update);
      } else if (frame?.type === 'message' && frame.message) {
        const m = frame.message;
        if (m.role === 'bot') draft = null; // the answer arrived whole
        if (m.role === 'agent') stopTyping();
        add([m]);
      } else if (frame?.type === 'typing' && typeof frame.agent?.name === 'string') {
        const name = frame.agent.name;
        window.clearTimeout(typingTimer);
        typingAgent = name;
        typingTimer = window.setTimeout(() => {
          typingAgent = null;
          render();
        }, TYPING_SHOWN_MS);
        render();
      } else if (frame?.type === 'draft' && typeof frame.text === 'string') {
        draft = frame.text;
        render();
      }
    };
    socket.onclose = () => {
      if (ws !== socket) return;
      ws = null;
      statusBySocket = false;
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
        stored = { conversationId: r.conversation.id, token: r.token, open: !win.hidden };
        startId = null;
        save();
        statusFromAnswer(r.conversation.status);
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
      statusFromAnswer(r.conversation?.status);
      err.textContent = '';
      add(r.messages ?? []);
      const page = await api<{ messages: WidgetMessage[] }>('GET', `/api/v1/conversations/${encodeURIComponent(stored.conversationId)}/messages?after=${before}`).catch(() => ({ messages: [] as WidgetMessage[] }));
      add(page.messages ?? []);
    } catch {
      err.textContent = 'Could not stop waiting. Please try again.';
    } finally {
      waiting -= 1;
      render();
      keepFocusInside();
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
      statusFromAnswer(r.conversation?.status);
      messages = messages.filter((m) => m.seq !== pendingSeq);
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
      // A pressed answer button is gone: keep the keyboard in the chat.
      keepFocusInside();
    }
  };

  /** Focus on the first thing to use in the panel: the message box, else an answer, else Close. */
  const focusInside = () => {
    if (win.hidden) return;
    const target = !input.disabled ? input : (buttons.querySelector('button') ?? close);
    target.focus();
  };

  /** Focus back in the panel when what had it went away (a pressed answer, a disabled box). */
  const keepFocusInside = () => {
    const focused = root.activeElement;
    if (!(focused instanceof HTMLElement && win.contains(focused))) focusInside();
  };

  const setOpen = (open: boolean) => {
    win.hidden = !open;
    launcher.textContent = open ? '✕' : '💬';
    launcher.setAttribute('aria-label', open ? 'Close the chat' : 'Open the chat');
    launcher.setAttribute('aria-expanded', String(open));
    if (stored) {
      stored.open = open;
      save();
    }
    if (open) {
      focusInside();
      void begin().then(keepFocusInside);
    }
  };

  launcher.addEventListener('click', () => setOpen(win.hidden));
  close.addEventListener('click', () => {
    setOpen(false);
    launcher.focus();
  });
  // Escape closes the chat, from anywhere in it, and gives the focus back to the launcher.
  wrap.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape' || win.hidden) return;
    e.preventDefault();
    setOpen(false);
    launcher.focus();
  });
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
