// The REST API under /api/v1, same origin as the app. Members sign in with a session cookie;
// every changing request carries the CSRF token returned at login (kept in sessionStorage).

import type { Diagnostic, FlowDocument } from './flow/types';

const CSRF_KEY = 'baton.csrf';

export class ApiError extends Error {
  status: number;
  code: string;
  field?: string;
  details?: unknown;
  constructor(status: number, code: string, message: string, field?: string, details?: unknown) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
    this.details = details;
  }
}

type Listener = () => void;
const signedOutListeners = new Set<Listener>();

/** Called when the server says the session is gone (401) or the CSRF token is missing. */
export function onSignedOut(listener: Listener): () => void {
  signedOutListeners.add(listener);
  return () => signedOutListeners.delete(listener);
}

export function csrfToken(): string | null {
  try {
    return sessionStorage.getItem(CSRF_KEY);
  } catch {
    return null;
  }
}

function setCsrfToken(token: string | null) {
  try {
    if (token) sessionStorage.setItem(CSRF_KEY, token);
    else sessionStorage.removeItem(CSRF_KEY);
  } catch {
    // storage unavailable: the session still works for reading
  }
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') {
    const token = csrfToken();
    if (token) headers['x-csrf-token'] = token;
  }
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, 'network', `The server cannot be reached (${e instanceof Error ? e.message : String(e)}).`);
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const err = (data as { error?: { code?: string; message?: string; field?: string; details?: unknown } } | null)?.error;
    const error = new ApiError(
      res.status,
      err?.code ?? `http_${res.status}`,
      err?.message ?? `The server answered ${res.status}.`,
      err?.field,
      err?.details,
    );
    const csrfMissing = res.status === 403 && /x-csrf-token/.test(error.message);
    if ((res.status === 401 && path !== '/api/v1/auth/login') || csrfMissing) {
      setCsrfToken(null);
      for (const l of signedOutListeners) l();
    }
    throw error;
  }
  return data as T;
}

export interface Member {
  id: string;
  email: string;
  name: string;
  role: string;
  workspace_id: string;
  /** `online`, `away` or `offline`. */
  presence?: string;
  /** False once an admin deactivated the member. */
  active?: boolean;
}

/** A pending invitation (GET /api/v1/members/invites). */
export interface Invite {
  id: string;
  email: string;
  role: string;
  invited_by: string;
  created_at: number;
  expires_at: number;
}

/** What an invitation link shows before it is accepted (GET /api/v1/invites/{token}). */
export interface InviteLookup {
  workspace_name: string;
  email: string;
  role: string;
  invited_by_name: string;
  expires_at: number;
}

export interface FlowSummary {
  id: string;
  name: string;
  live: boolean;
  live_version: number | null;
  require_tests: boolean;
  created_at: number;
  updated_at: number;
}

/** The workspace's entry routing (GET/PUT /api/v1/flows/routing). */
export interface Routing {
  flows: Array<{ id: string; name: string; live: boolean; live_version: number | null; rules: string }>;
  fallback_flow_id: string | null;
  findings: Array<{ code: string; flow: string; by: string | null; message: string }>;
}

export interface FlowDetail extends FlowSummary {
  draft: FlowDocument;
  diagnostics: Diagnostic[];
  errors: number;
  warnings: number;
}

export interface VersionView {
  version: number;
  note: string | null;
  published_by: string | null;
  published_at: number;
}

export interface PublishResponse {
  version: number;
  tests_passed: number;
}

export const api = {
  async login(email: string, password: string): Promise<Member> {
    const res = await request<{ member: Member; csrf_token: string }>('POST', '/api/v1/auth/login', { email, password });
    setCsrfToken(res.csrf_token);
    return res.member;
  },
  async logout(): Promise<void> {
    try {
      await request('POST', '/api/v1/auth/logout');
    } finally {
      setCsrfToken(null);
    }
  },
  /** Whether this browser is signed in; keeps the session's CSRF token for this tab (a new tab has none yet). */
  session: async () => {
    const s = await request<{ signed_in: boolean; csrf_token?: string }>('GET', '/api/v1/auth/session');
    if (s.csrf_token) setCsrfToken(s.csrf_token);
    return s.signed_in;
  },
  me: () => request<{ workspace_id: string; member: Member | null }>('GET', '/api/v1/me'),
  flows: () => everything<FlowSummary>('/api/v1/flows'),
  routing: () => request<Routing>('GET', '/api/v1/flows/routing'),
  setRouting: (order: string[], fallbackFlowId: string | null) =>
    request<Routing>('PUT', '/api/v1/flows/routing', { order, fallback_flow_id: fallbackFlowId }),
  flow: (id: string) => request<FlowDetail>('GET', `/api/v1/flows/${encodeURIComponent(id)}`),
  createFlow: (document: FlowDocument) => request<FlowDetail>('POST', '/api/v1/flows', { document }),
  importFlow: (document: unknown) => request<FlowDetail>('POST', '/api/v1/flows/import', { document }),
  saveDraft: (id: string, document: FlowDocument) =>
    request<FlowDetail>('PUT', `/api/v1/flows/${encodeURIComponent(id)}/draft`, { document }),
  publish: (id: string, note: string) =>
    request<PublishResponse>('POST', `/api/v1/flows/${encodeURIComponent(id)}/publish`, note.trim() ? { note: note.trim() } : {}),
  versions: (id: string) => everything<VersionView>(`/api/v1/flows/${encodeURIComponent(id)}/versions`),
  /** One published version's document; `document` is null when the stored document cannot be read. */
  version: (id: string, version: number) =>
    request<{ version: VersionView; document: FlowDocument | null }>(
      'GET',
      `/api/v1/flows/${encodeURIComponent(id)}/versions/${encodeURIComponent(String(version))}`,
    ),
  rollback: (id: string, version: number) =>
    request<PublishResponse>('POST', `/api/v1/flows/${encodeURIComponent(id)}/rollback`, { version }),
  setLive: (id: string, live: boolean) =>
    request<FlowSummary>('PUT', `/api/v1/flows/${encodeURIComponent(id)}/live`, { live }),
  exportUrl: (id: string, version?: number) =>
    `/api/v1/flows/${encodeURIComponent(id)}/export${version === undefined ? '' : `?version=${version}`}`,
};

export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.field ? `${e.message} (${e.field})` : e.message;
  return e instanceof Error ? e.message : String(e);
}

/** A problem with one field of a form, named as the API names it. */
export interface FieldProblem {
  field: string;
  message: string;
}

/** The error as a problem of one of the form's fields; null when it names none of them. */
export function fieldProblem(e: unknown, fields: readonly string[]): FieldProblem | null {
  return e instanceof ApiError && e.field && fields.includes(e.field) ? { field: e.field, message: e.message } : null;
}

// ---- test conversations, scripted tests, analytics -------------------------------------------

export type SimStep = Record<string, unknown> | string;

export interface SimSetup {
  variables?: Record<string, unknown>;
  open?: boolean;
  agents_online?: boolean;
  handoff_enabled?: boolean;
}

export interface SimLine {
  at_ms: number;
  speaker: 'customer' | 'bot' | 'agent' | 'event' | string;
  text: string;
  buttons?: { id: string; label: string }[];
}

export interface SimResult {
  transcript: SimLine[];
  state: { status: string; at?: string | null; vars?: Record<string, unknown>; path?: string[]; wait?: { for?: string } | null };
  routes: { from: string; port: string; to: string }[];
  handovers: unknown[];
  timers: unknown[];
  clock_ms: number;
  failure: { step?: number; step_text?: string; expected?: string; actual?: string; message?: string } | null;
}

export interface TestRunResult {
  passed: number;
  failed: number;
  tests: { name: string; passed: boolean; failure: unknown }[];
  coverage: { nodes_covered: number; nodes_total: number; ports_covered: number; ports_total: number; uncovered_nodes: string[]; uncovered_ports: string[] };
  covered_nodes: string[];
  covered_ports: string[];
}

export interface HandoverNodeStats {
  node: string;
  handovers: number;
  outcomes: Record<string, number>;
  picked_up: number;
  pickup_ms_avg: number | null;
  pickup_ms_max: number | null;
}

export interface FlowAnalytics {
  conversations: number;
  contained: number;
  containment_rate: number | null;
  handover_nodes: HandoverNodeStats[];
  /** Customer silence after which a conversation waiting at a node counts as dropped off there. */
  drop_off_after_ms?: number;
  /** Per node: conversations waiting there now and dropped off there, most drop-offs first (missing = none). */
  drop_off?: { node: string; waiting: number; dropped_off: number }[];
  /** Conversations closed because the customer left them waiting. */
  abandoned?: number;
  csat?: CsatStats & { by_agent: (CsatStats & { agent_id: string | null })[] };
  reply_missed?: { total: number; by_agent: { agent: { id: string; name: string }; first_reply: number; next_reply: number }[] };
}

export interface CsatStats {
  ratings: number;
  satisfied: number;
  csat: number | null;
  average_of_5: number | null;
}

export const flowApi = {
  simulate: (id: string, conversation: { setup?: SimSetup; steps: SimStep[] }, document?: FlowDocument) =>
    request<SimResult>('POST', `/api/v1/flows/${encodeURIComponent(id)}/simulate`, document ? { conversation, document } : { conversation }),
  runTests: (id: string) => request<TestRunResult>('POST', `/api/v1/flows/${encodeURIComponent(id)}/tests/run`, {}),
  analytics: (id: string) => request<FlowAnalytics>('GET', `/api/v1/flows/${encodeURIComponent(id)}/analytics`),
};

// ---- inbox ------------------------------------------------------------------------------------

export interface ConversationView {
  id: string;
  status: string;
  flow_id?: string | null;
  created_at?: number;
  updated_at?: number;
  [k: string]: unknown;
}

export interface InboxItem extends ConversationView {
  team: string | null;
  assignee: string | null;
  priority: string | null;
  waiting_since: number | null;
  /** When the agent's reply is due (the team's reply targets), or null. */
  reply_due_at?: number | null;
  contact: Record<string, unknown> | null;
  /** Name and email from the contact's attributes or what the flow collected. */
  customer?: { name: string | null; email: string | null };
  last_message?: { role: string; text: string; at: number } | null;
  /** Why it was handed over. */
  reason?: string | null;
  /** The customer wrote since this member last read it. */
  unread?: boolean;
  [k: string]: unknown;
}

/** A page of the inbox list. */
export interface InboxPage {
  items: InboxItem[];
  total: number;
  next_cursor: string | null;
}

/** A reply drafted by the AI from the knowledge base (nothing is sent). */
export interface DraftReply {
  answered: boolean;
  text: string | null;
  sources: { title: string; url?: string }[];
  reason: string | null;
  question: string;
}

export interface ContextVariable {
  name: string;
  type?: string;
  value: unknown;
}

export interface HandoverContext {
  reason?: string | null;
  path?: string[];
  variables?: ContextVariable[];
  summary?: string | null;
  sentiment?: string | null;
  /** How this customer rated their previous conversation (CSAT). */
  last_rating?: { score: number; scale: number; at: number } | null;
  frustrated?: boolean | null;
  last_message?: string | null;
}

export interface TranscriptLine {
  seq?: number;
  role: string;
  text?: string | null;
  author?: string | null;
  at?: number;
  created_at?: number;
  [k: string]: unknown;
}

export interface InboxDetail {
  conversation: InboxItem;
  handover: { context?: HandoverContext; team?: string | null; node?: string; priority?: string; status?: string; [k: string]: unknown } | null;
  at_node?: string | null;
  handovers: unknown[];
  timeline: { type?: string; kind?: string; at?: number; [k: string]: unknown }[];
  transcript: TranscriptLine[];
  variables: Record<string, unknown>;
  nodes: { id: string; type?: string }[];
  [k: string]: unknown;
}

export interface Team {
  id: string;
  name: string;
  slug: string;
  members: string[];
  business_hours: BusinessHours | null;
  open_now?: boolean;
  /** null: the workspace's. */
  reply_targets?: ReplyTargets | null;
}

export interface TeamBody {
  name: string;
  slug: string;
  members: string[];
  business_hours?: BusinessHours | null;
  reply_targets?: ReplyTargets | null;
}

export type WhenMissed = 'requeue' | 'next_agent' | 'flow';

export interface ReplyTargets {
  first_reply_seconds: number;
  next_reply_seconds: number;
  when_missed: WhenMissed;
}

export interface BusinessHours {
  timezone: string;
  weekly: { day: string; open: string; close: string }[];
  holidays: { date: string; name: string }[];
}

const conv = (id: string, action: string) => `/api/v1/inbox/conversations/${encodeURIComponent(id)}/${action}`;

export const inboxApi = {
  list: (query: string) => request<InboxPage>('GET', `/api/v1/inbox/conversations${query ? `?${query}` : ''}`),
  markRead: (id: string) => request<unknown>('POST', conv(id, 'read'), {}),
  cannedReplies: (id: string) => request<{ title: string; text: string }[]>('GET', conv(id, 'canned-replies')),
  draftReply: (id: string) => request<DraftReply>('POST', conv(id, 'draft-reply'), {}),
  counts: () => request<{ teams: { team: string | null; queued: number; assigned: number }[] }>('GET', '/api/v1/inbox/counts'),
  detail: (id: string) => request<InboxDetail>('GET', `/api/v1/inbox/conversations/${encodeURIComponent(id)}`),
  claim: (id: string) => request<unknown>('POST', conv(id, 'claim'), {}),
  assign: (id: string, member_id: string) => request<unknown>('POST', conv(id, 'assign'), { member_id }),
  transfer: (id: string, to: { team?: string; member_id?: string }) => request<unknown>('POST', conv(id, 'transfer'), to),
  reply: (id: string, text: string, client_id: string) => request<unknown>('POST', conv(id, 'reply'), { text, client_id }),
  note: (id: string, text: string) => request<unknown>('POST', conv(id, 'note'), { text }),
  handBack: (id: string, variables: Record<string, unknown>, resume_at?: string) =>
    request<unknown>('POST', conv(id, 'hand-back'), resume_at ? { variables, resume_at } : { variables }),
  resolve: (id: string) => request<unknown>('POST', conv(id, 'resolve'), {}),
  presence: (status: 'online' | 'away') => request<unknown>('PUT', '/api/v1/me/presence', { status }),
  members: () => everything<Member>('/api/v1/members'),
  addMember: (m: { name: string; email: string; role: string; password: string }) => request<Member>('POST', '/api/v1/members', m),
  updateMember: (id: string, change: { role?: string; active?: boolean }) =>
    request<Member>('PATCH', `/api/v1/members/${encodeURIComponent(id)}`, change),
  invites: () => everything<Invite>('/api/v1/members/invites'),
  invite: (email: string, role: string) =>
    request<{ invite: Invite; path: string }>('POST', '/api/v1/members/invites', { email, role }),
  revokeInvite: (id: string) => request<unknown>('DELETE', `/api/v1/members/invites/${encodeURIComponent(id)}`),
  lookUpInvite: (token: string) => request<InviteLookup>('GET', `/api/v1/invites/${encodeURIComponent(token)}`),
  acceptInvite: (token: string, name: string, password: string) =>
    request<Member>('POST', `/api/v1/invites/${encodeURIComponent(token)}/accept`, { name, password }),
  teams: () => everything<Team>('/api/v1/teams'),
  createTeam: (t: TeamBody) => request<Team>('POST', '/api/v1/teams', t),
  updateTeam: (id: string, t: TeamBody) =>
    request<Team>('PUT', `/api/v1/teams/${encodeURIComponent(id)}`, t),
  workspace: () => request<{ widget_key?: string; settings?: Record<string, unknown>; [k: string]: unknown }>('GET', '/api/v1/workspace'),
  saveSettings: (settings: Record<string, unknown>) => request<unknown>('PUT', '/api/v1/workspace/settings', settings),
};

/** A page of a list: every list the API answers comes in pages (`?limit=&cursor=`). */
export interface Page<T> {
  items: T[];
  total: number;
  next_cursor: string | null;
}

/** Most pages read for one list: 50 pages of 500. */
const MAX_PAGES = 50;

/** Every item of a list, page after page. */
export async function everything<T>(path: string): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < MAX_PAGES; i++) {
    const sep = path.includes('?') ? '&' : '?';
    const query = `${sep}limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page: Page<T> = await request<Page<T>>('GET', `${path}${query}`);
    items.push(...page.items);
    cursor = page.next_cursor;
    if (!cursor) break;
  }
  return items;
}

// ---- event subscriptions ----------------------------------------------------------------------

export interface Subscription {
  id: string;
  url: string;
  event_types: string[];
  active: boolean;
  created_at: number;
  secret?: string;
}

export interface Delivery {
  id: number;
  subscription_id: string;
  event_id: string;
  event_type: string;
  url: string;
  attempt: number;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
  created_at: number;
}

export const eventsApi = {
  list: () => everything<Subscription>('/api/v1/event-subscriptions'),
  create: (url: string, event_types: string[]) => request<Subscription>('POST', '/api/v1/event-subscriptions', { url, event_types }),
  remove: (id: string) => request<unknown>('DELETE', `/api/v1/event-subscriptions/${encodeURIComponent(id)}`),
  /** The newest page of the delivery log. */
  deliveries: async (id: string) =>
    (await request<Page<Delivery>>('GET', `/api/v1/event-subscriptions/${encodeURIComponent(id)}/deliveries`)).items,
  replay: (id: string, eventId: string) =>
    request<unknown>('POST', `/api/v1/event-subscriptions/${encodeURIComponent(id)}/deliveries/${encodeURIComponent(eventId)}/replay`, {}),
};

// ---- knowledge base ---------------------------------------------------------------------------

/** An article as listed: without its text. */
export interface KbArticleSummary {
  id: string;
  collection: string;
  title: string;
  url: string | null;
  bytes: number;
  updated_at: number;
}

/** What creates or replaces an article (`PUT /api/v1/kb/articles/{id}`). */
export interface KbArticleInput {
  collection: string;
  title: string;
  url?: string;
  markdown: string;
}

/** One article with its Markdown (`GET /api/v1/kb/articles/{id}`). */
export interface KbArticle {
  id: string;
  collection: string;
  title: string;
  url: string | null;
  markdown: string;
}

const article = (id: string) => `/api/v1/kb/articles/${encodeURIComponent(id)}`;

export const kbApi = {
  list: () => everything<KbArticleSummary>('/api/v1/kb/articles'),
  get: (id: string) => request<KbArticle>('GET', article(id)),
  save: (id: string, input: KbArticleInput) => request<{ id: string }>('PUT', article(id), input),
  remove: (id: string) => request<void>('DELETE', article(id)),
  import: (articles: (KbArticleInput & { id: string })[]) => request<{ imported: number }>('POST', '/api/v1/kb/import', { articles }),
};

// ---- AI provider ------------------------------------------------------------------------------

export type AiProviderKind = 'offline' | 'openai_compatible';
export type StructuredOutput = 'json_schema' | 'json_object' | 'prompt';

/** The workspace's AI settings as the server shows them (never with the key itself). */
export interface AiSettings {
  provider: AiProviderKind;
  base_url: string | null;
  model: string | null;
  api_key_set: boolean;
  timeout_ms: number;
  structured_output: StructuredOutput;
  /** Whether this server loaded a local sentence-embedding model (read-only). */
  embeddings: boolean;
  /** The language model this server runs in-process for the offline AI, or null (read-only). */
  local_model: string | null;
}

/** `api_key` left out keeps the stored key; `""` removes it. */
export type AiSettingsRequest =
  | { provider: 'offline' }
  | {
      provider: 'openai_compatible';
      base_url: string;
      model: string;
      api_key?: string;
      timeout_ms?: number;
      structured_output?: StructuredOutput;
    };

export const aiApi = {
  get: () => request<AiSettings>('GET', '/api/v1/workspace/ai'),
  save: (settings: AiSettingsRequest) => request<AiSettings>('PUT', '/api/v1/workspace/ai', settings),
  /** One tiny request with the SAVED settings. */
  test: () => request<{ ok: boolean; message: string }>('POST', '/api/v1/workspace/ai/test', {}),
};

// ---- API keys ---------------------------------------------------------------------------------

export type Role = 'owner' | 'admin' | 'agent';

export interface ApiKey {
  id: string;
  name: string;
  /** The first 8 characters of the secret, to recognise it. */
  prefix: string;
  role: string;
  created_at: number;
  revoked_at: number | null;
}

export const apiKeysApi = {
  list: () => everything<ApiKey>('/api/v1/api-keys'),
  /** The secret is in this answer only. */
  create: (name: string, role: Role) => request<{ key: ApiKey; secret: string }>('POST', '/api/v1/api-keys', { name, role }),
  revoke: (id: string) => request<void>('DELETE', `/api/v1/api-keys/${encodeURIComponent(id)}`),
};
