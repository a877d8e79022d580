import { useCallback, useEffect, useState } from 'react';
import { api, onSignedOut, type Member } from './api';
import { Builder } from './pages/Builder';
import { FlowsList } from './pages/FlowsList';
import { Login } from './pages/Login';
import { AcceptInvite } from './pages/AcceptInvite';
import { Inbox } from './inbox/Inbox';
import { Settings } from './settings/Settings';
import { Analytics } from './pages/Analytics';
import { navigate, useRoute, type Route } from './router';

type Session = { state: 'checking' } | { state: 'signed_out' } | { state: 'signed_in'; member: Member };

export function App() {
  const route = useRoute();
  const [session, setSession] = useState<Session>({ state: 'checking' });
  const [after, setAfter] = useState<Route>({ page: 'flows' });

  useEffect(() => {
    let cancelled = false;
    // A new tab has no CSRF token yet: `session` gives the session's, without an error when
    // signed out.
    api
      .session()
      .then((signedIn) => (signedIn ? api.me() : null))
      .then((me) => {
        if (cancelled) return;
        if (me?.member) setSession({ state: 'signed_in', member: me.member });
        else setSession({ state: 'signed_out' });
      })
      .catch(() => !cancelled && setSession({ state: 'signed_out' }));
    return () => {
      cancelled = true;
    };
  }, []);

  useEffect(() => onSignedOut(() => setSession({ state: 'signed_out' })), []);

  useEffect(() => {
    if (session.state === 'signed_out' && route.page !== 'login' && route.page !== 'invite') {
      setAfter(route);
      navigate({ page: 'login' }, true);
    }
    if (session.state === 'signed_in' && route.page === 'login') navigate(after, true);
  }, [session, route, after]);

  const signedIn = useCallback((member: Member) => setSession({ state: 'signed_in', member }), []);
  const signOut = useCallback(async () => {
    await api.logout().catch(() => undefined);
    setAfter({ page: 'flows' });
    setSession({ state: 'signed_out' });
  }, []);

  if (session.state === 'checking') return <div className="loading">Loading…</div>;
  // An invitation is opened by someone who is not a member yet (or by a member on this browser).
  if (route.page === 'invite') return <AcceptInvite token={route.token} />;
  if (session.state === 'signed_out' || route.page === 'login') return <Login onSignedIn={signedIn} />;
  const member = session.member;
  switch (route.page) {
    case 'flows':
      return <FlowsList member={member} onSignOut={signOut} />;
    case 'builder':
      return <Builder key={route.flowId} flowId={route.flowId} member={member} />;
    case 'inbox':
      return <Inbox member={member} conversationId={route.conversationId} onSignOut={signOut} />;
    case 'settings':
      return <Settings member={member} section={route.section} onSignOut={signOut} />;
    case 'analytics':
      return <Analytics key={route.flowId} flowId={route.flowId} member={member} onSignOut={signOut} />;
    case 'not_found':
      return (
        <div className="page">
          <h1>Page not found</h1>
          <p>
            <a href="/app/" onClick={(e) => { e.preventDefault(); navigate({ page: 'flows' }); }}>
              Back to the flows
            </a>
          </p>
        </div>
      );
  }
}
