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
  me: () => request<{ workspace_id: string; member: Member | null }>('GET', '/api/v1/me'),
  flows: () => request<FlowSummary[]>('GET', '/api/v1/flows'),
  flow: (id: string) => request<FlowDetail>('GET', `/api/v1/flows/${encodeURIComponent(id)}`),
  createFlow: (document: FlowDocument) => request<FlowDetail>('POST', '/api/v1/flows', { document }),
  importFlow: (document: unknown) => request<FlowDetail>('POST', '/api/v1/flows/import', { document }),
  saveDraft: (id: string, document: FlowDocument) =>
    request<FlowDetail>('PUT', `/api/v1/flows/${encodeURIComponent(id)}/draft`, { document }),
  publish: (id: string, note: string) =>
    request<PublishResponse>('POST', `/api/v1/flows/${encodeURIComponent(id)}/publish`, note.trim() ? { note: note.trim() } : {}),
  versions: (id: string) => request<VersionView[]>('GET', `/api/v1/flows/${encodeURIComponent(id)}/versions`),
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
