CREATE TABLE teams (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id),
  name TEXT NOT NULL,
  slug TEXT NOT NULL,
  business_hours TEXT,
  created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX teams_slug ON teams(workspace_id, slug);
CREATE TABLE team_members (
  team_id TEXT NOT NULL REFERENCES teams(id),
  member_id TEXT NOT NULL REFERENCES members(id),
  PRIMARY KEY (team_id, member_id)
);
ALTER TABLE members ADD COLUMN presence TEXT NOT NULL DEFAULT 'offline';
ALTER TABLE members ADD COLUMN last_assigned_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN team TEXT;
ALTER TABLE conversations ADD COLUMN assignee TEXT;
ALTER TABLE conversations ADD COLUMN priority TEXT;
ALTER TABLE conversations ADD COLUMN queued_at BIGINT;
CREATE TABLE handovers (
  id TEXT PRIMARY KEY,
  workspace_id TEXT NOT NULL,
  conversation_id TEXT NOT NULL,
  flow_id TEXT NOT NULL,
  flow_version BIGINT NOT NULL,
  node TEXT NOT NULL,
  team TEXT,
  assignee TEXT,
  priority TEXT NOT NULL,
  status TEXT NOT NULL,
  context TEXT NOT NULL,
  queued_at BIGINT NOT NULL,
  assigned_at BIGINT,
  ended_at BIGINT
);
CREATE INDEX handovers_conversation ON handovers(conversation_id, queued_at);
CREATE INDEX handovers_flow ON handovers(flow_id, node);
CREATE TABLE timeline (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  workspace_id TEXT NOT NULL,
  conversation_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  actor TEXT,
  data TEXT,
  at BIGINT NOT NULL
);
CREATE INDEX timeline_conversation ON timeline(conversation_id, id);
