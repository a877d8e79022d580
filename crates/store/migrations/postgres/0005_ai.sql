-- A workspace's AI provider as JSON (NULL: the built-in offline provider). Kept apart from
-- `settings` so that saving the hand-off settings never sees or rewrites the model's API key.
ALTER TABLE workspaces ADD COLUMN ai_settings TEXT;
