-- Every turn updates a conversation's updated_at. With it in this index, every turn also
-- moved the conversation's index entry (and on PostgreSQL ruled out HOT updates). The inbox
-- filters by workspace and status and sorts the few open conversations itself.
DROP INDEX conversations_workspace;
CREATE INDEX conversations_workspace ON conversations(workspace_id, status);
