// A tiny router over the History API. The app lives under /app/ (the server falls back to
// index.html for every /app/* path).

import { useEffect, useState } from 'react';

export const BASE = '/app';

export type Route =
  | { page: 'login' }
  | { page: 'invite'; token: string }
  | { page: 'flows' }
  | { page: 'builder'; flowId: string }
  | { page: 'analytics'; flowId: string }
  | { page: 'inbox'; conversationId?: string }
  | { page: 'settings'; section: string }
  | { page: 'not_found'; path: string };

export function parseRoute(pathname: string): Route {
  let path = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : pathname;
  if (!path.startsWith('/')) path = `/${path}`;
  if (path === '/' || path === '/flows' || path === '/flows/') return { page: 'flows' };
  if (path === '/login') return { page: 'login' };
  const inv = /^\/invite\/([^/]+)\/?$/.exec(path);
  if (inv) return { page: 'invite', token: decodeURIComponent(inv[1] as string) };
  const m = /^\/flows\/([^/]+)\/?$/.exec(path);
  if (m) return { page: 'builder', flowId: decodeURIComponent(m[1] as string) };
  const a = /^\/flows\/([^/]+)\/analytics\/?$/.exec(path);
  if (a) return { page: 'analytics', flowId: decodeURIComponent(a[1] as string) };
  if (path === '/inbox' || path === '/inbox/') return { page: 'inbox' };
  const i = /^\/inbox\/([^/]+)\/?$/.exec(path);
  if (i) return { page: 'inbox', conversationId: decodeURIComponent(i[1] as string) };
  if (path === '/settings' || path === '/settings/') return { page: 'settings', section: 'handoff' };
  const st = /^\/settings\/([a-z-]+)\/?$/.exec(path);
  if (st) return { page: 'settings', section: st[1] as string };
  return { page: 'not_found', path: pathname };
}

export function href(route: Route): string {
  switch (route.page) {
    case 'login':
      return `${BASE}/login`;
    case 'invite':
      return `${BASE}/invite/${encodeURIComponent(route.token)}`;
    case 'flows':
      return `${BASE}/`;
    case 'builder':
      return `${BASE}/flows/${encodeURIComponent(route.flowId)}`;
    case 'analytics':
      return `${BASE}/flows/${encodeURIComponent(route.flowId)}/analytics`;
    case 'inbox':
      return route.conversationId ? `${BASE}/inbox/${encodeURIComponent(route.conversationId)}` : `${BASE}/inbox`;
    case 'settings':
      return `${BASE}/settings/${route.section}`;
    case 'not_found':
      return route.path;
  }
}

const listeners = new Set<() => void>();

export function navigate(route: Route, replace = false) {
  const url = href(route);
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  for (const l of listeners) l();
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.pathname));
  useEffect(() => {
    const update = () => setRoute(parseRoute(location.pathname));
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return route;
}
