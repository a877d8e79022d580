import type { ReactNode } from 'react';
import type { Member } from '../api';
import { href, navigate, parseRoute, type Route } from '../router';

export function TopBar({ member, onSignOut, children }: { member: Member; onSignOut?: () => void; children?: ReactNode }) {
  const current = parseRoute(location.pathname).page;
  return (
    <header className="topbar">
      <a
        className="brand"
        href="/app/"
        onClick={(e) => {
          e.preventDefault();
          navigate({ page: 'flows' });
        }}
      >
        Baton
      </a>
      <nav className="topnav" aria-label="Main">
        {(
          [
            ['Flows', { page: 'flows' }],
            ['Inbox', { page: 'inbox' }],
            ['Settings', { page: 'settings', section: 'handoff' }],
          ] as [string, Route][]
        ).map(([label, route]) => (
          <a
            key={label}
            href={href(route)}
            className={current === route.page || (route.page === 'flows' && (current === 'builder' || current === 'analytics')) ? 'active' : ''}
            onClick={(e) => {
              e.preventDefault();
              navigate(route);
            }}
          >
            {label}
          </a>
        ))}
      </nav>
      <div className="topbar-middle">{children}</div>
      <div className="topbar-user">
        <span className="muted" title={`${member.name} (${member.role})`}>{member.email}</span>
        {onSignOut && (
          <button className="link" onClick={onSignOut}>
            Sign out
          </button>
        )}
      </div>
    </header>
  );
}
