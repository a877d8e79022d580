// API key helpers: which roles a member may give a key, and the order keys are listed in.

import type { ApiKey, Role } from '../api';

const ROLES: Role[] = ['agent', 'admin', 'owner'];

/** A key's role cannot be higher than its creator's; agents create none. */
export function rolesUpTo(role: string): Role[] {
  const rank = ROLES.indexOf(role as Role);
  return rank < 1 ? [] : ROLES.slice(0, rank + 1);
}

/** Keys in use first, newest first; revoked keys after them. */
export function sortKeys(keys: ApiKey[]): ApiKey[] {
  return [...keys].sort((a, b) => Number(a.revoked_at !== null) - Number(b.revoked_at !== null) || b.created_at - a.created_at || a.id.localeCompare(b.id));
}
