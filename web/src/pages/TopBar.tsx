import type { ReactNode } from 'react';
import type { Member } from '../api';
import { navigate } from '../router';

export function TopBar({ member, onSignOut, children }: { member: Member; onSignOut?: () => void; children?: ReactNode }) {
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
