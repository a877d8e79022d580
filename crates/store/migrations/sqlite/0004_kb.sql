CREATE TABLE kb_articles (
  workspace_id TEXT NOT NULL REFERENCES workspaces(id),
  id TEXT NOT NULL,
  collection TEXT NOT NULL,
  title TEXT NOT NULL,
  url TEXT,
  markdown TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (workspace_id, id)
);
