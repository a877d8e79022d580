// Roles as a lead reads them, and which roles a member may give.

const LABELS: Record<string, string> = {
  owner: 'Owner',
  admin: 'Admin',
  agent: 'Agent',
};

export function roleLabel(role: string): string {
  return LABELS[role] ?? role;
}

/** Admins give agent and admin; owners also owner (as the API allows). */
export function roleChoices(myRole: string): string[] {
  return myRole === 'owner' ? ['agent', 'admin', 'owner'] : ['agent', 'admin'];
}
