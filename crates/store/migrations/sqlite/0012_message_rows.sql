-- Every turn writes one to three messages. As a rowid table with a (conversation_id, seq)
-- primary key, each went into three B-trees: the rows, the primary key's index and the client
-- id index. Now the rows live in their primary key's order (one B-tree, and a conversation's
-- messages side by side for reading), and only messages with a client id (the customer's)
-- enter the client id index.
CREATE TABLE messages_by_seq (
  conversation_id TEXT NOT NULL REFERENCES conversations(id),
  seq BIGINT NOT NULL,
  role TEXT NOT NULL,
  text TEXT NOT NULL,
  payload TEXT,
  client_id TEXT,
  author TEXT,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (conversation_id, seq)
) WITHOUT ROWID;
INSERT INTO messages_by_seq (conversation_id, seq, role, text, payload, client_id, author, created_at)
  SELECT conversation_id, seq, role, text, payload, client_id, author, created_at FROM messages;
DROP TABLE messages;
ALTER TABLE messages_by_seq RENAME TO messages;
CREATE UNIQUE INDEX messages_client_id ON messages(conversation_id, client_id) WHERE client_id IS NOT NULL;
