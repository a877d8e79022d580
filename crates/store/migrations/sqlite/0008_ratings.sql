-- CSAT: a customer's rating of a conversation (an End node's `csat`), with the agent who had
-- the conversation last, for reports per flow and per agent and the next hand-over's card.
CREATE TABLE ratings (
  conversation_id TEXT PRIMARY KEY REFERENCES conversations(id),
  workspace_id TEXT NOT NULL,
  flow_id TEXT NOT NULL,
  contact_id TEXT NOT NULL,
  agent_id TEXT,
  score INTEGER NOT NULL,
  scale INTEGER NOT NULL,
  rated_at BIGINT NOT NULL
);
CREATE INDEX ratings_flow ON ratings(flow_id);
CREATE INDEX ratings_contact ON ratings(contact_id, rated_at);
