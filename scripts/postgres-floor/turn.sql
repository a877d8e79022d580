-- One turn with the least a durable turn needs: lock the conversation, write the customer's
-- message and the reply, write the state, commit (5 round trips, like Baton's best case).
\set n random(1, 1000)
BEGIN;
SELECT state, last_seq FROM floor_conversations WHERE id = 'conv_' || :n FOR UPDATE;
INSERT INTO floor_messages SELECT 'conv_' || :n, last_seq + s, 'bot', 'What is your email?', 0 FROM floor_conversations, generate_series(1, 2) AS s WHERE id = 'conv_' || :n;
UPDATE floor_conversations SET last_seq = last_seq + 2, state = '{"at":"ask_email","vars":{"name":"Ana"}}', updated_at = 1 WHERE id = 'conv_' || :n;
COMMIT;
