-- The floor of a durable turn on PostgreSQL: tables shaped like Baton's (scripts/postgres-floor/run).
DROP TABLE IF EXISTS floor_messages;
DROP TABLE IF EXISTS floor_conversations;
CREATE TABLE floor_conversations (id TEXT PRIMARY KEY, state TEXT NOT NULL, last_seq BIGINT NOT NULL, updated_at BIGINT NOT NULL);
CREATE TABLE floor_messages (conversation_id TEXT NOT NULL, seq BIGINT NOT NULL, role TEXT NOT NULL, text TEXT NOT NULL, created_at BIGINT NOT NULL, PRIMARY KEY (conversation_id, seq));
INSERT INTO floor_conversations SELECT 'conv_' || i, '{"at":"ask_email","vars":{"name":"Ana"}}', 0, 0 FROM generate_series(1, 1000) AS i;
