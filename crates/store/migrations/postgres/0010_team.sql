-- Teams: a member can be deactivated (kept for the record, cannot sign in), invited by a link
-- (only the token's hash is stored), and the inbox remembers what each member has read. A
-- queue's typical wait reads its latest pickups by this index (the widget's status frames).
ALTER TABLE members ADD COLUMN deactivated_at BIGINT;
CREATE TABLE invites (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id),
  token_hash TEXT NOT NULL UNIQUE,
  email TEXT NOT NULL,
  role TEXT NOT NULL,
  invited_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  accepted_at BIGINT,
  revoked_at BIGINT
);
CREATE INDEX invites_workspace ON invites(workspace_id, created_at);
CREATE TABLE conversation_reads (
  member_id TEXT NOT NULL,
  conversation_id TEXT NOT NULL,
  seq BIGINT NOT NULL,
  PRIMARY KEY (member_id, conversation_id)
);
CREATE INDEX handovers_pickups ON handovers(workspace_id, assigned_at);
