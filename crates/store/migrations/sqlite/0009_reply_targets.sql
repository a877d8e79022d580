-- Agent reply targets (SLAs): a team's targets as JSON (null: the workspace's), and, on a
-- conversation a person owns, when the agent's reply is due.
ALTER TABLE teams ADD COLUMN reply_targets TEXT;
ALTER TABLE conversations ADD COLUMN reply_due_at BIGINT;
