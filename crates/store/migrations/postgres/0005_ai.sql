-- A workspace's AI provider as JSON (NULL: the built-in offline provider). Kept apart from
-- `settings` so that saving the hand-off settings never sees or rewrites the model's API key.
ALTER TABLE workspaces ADD COLUMN ai_settings TEXT;
-- Counts the workspace's knowledge-base edits: an instance keeps an index while it matches.
ALTER TABLE workspaces ADD COLUMN kb_revision BIGINT NOT NULL DEFAULT 0;
