-- Entry routing: the workspace orders its live flows (a new conversation starts on the first
-- whose entry rules hold) and names a fallback flow for the rest.
ALTER TABLE flows ADD COLUMN entry_order INTEGER NOT NULL DEFAULT 0;
ALTER TABLE workspaces ADD COLUMN fallback_flow_id TEXT;
-- Flows created before keep their age order.
UPDATE flows SET entry_order = (SELECT COUNT(*) FROM flows AS older WHERE older.workspace_id = flows.workspace_id AND (older.created_at < flows.created_at OR (older.created_at = flows.created_at AND older.id < flows.id)));
