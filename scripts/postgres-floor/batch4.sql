-- Four turns in one transaction (Baton's writers commit their queued turns together): the
-- commit and its fsync shared by four turns; turns/s = tps x 4.
\set n1 random(1, 1000)
\set n2 random(1, 1000)
\set n3 random(1, 1000)
\set n4 random(1, 1000)
BEGIN;
SELECT state, last_seq FROM floor_conversations WHERE id = 'conv_' || :n1 FOR UPDATE;
INSERT INTO floor_messages SELECT 'conv_' || :n1, last_seq + s, 'bot', 'What is your email?', 0 FROM floor_conversations, generate_series(1, 2) AS s WHERE id = 'conv_' || :n1;
UPDATE floor_conversations SET last_seq = last_seq + 2, state = '{"at":"ask_email","vars":{"name":"Ana"}}', updated_at = 1 WHERE id = 'conv_' || :n1;
SELECT state, last_seq FROM floor_conversations WHERE id = 'conv_' || :n2 FOR UPDATE;
INSERT INTO floor_messages SELECT 'conv_' || :n2, last_seq + s, 'bot', 'What is your email?', 0 FROM floor_conversations, generate_series(1, 2) AS s WHERE id = 'conv_' || :n2;
UPDATE floor_conversations SET last_seq = last_seq + 2, state = '{"at":"ask_email","vars":{"name":"Ana"}}', updated_at = 1 WHERE id = 'conv_' || :n2;
SELECT state, last_seq FROM floor_conversations WHERE id = 'conv_' || :n3 FOR UPDATE;
INSERT INTO floor_messages SELECT 'conv_' || :n3, last_seq + s, 'bot', 'What is your email?', 0 FROM floor_conversations, generate_series(1, 2) AS s WHERE id = 'conv_' || :n3;
UPDATE floor_conversations SET last_seq = last_seq + 2, state = '{"at":"ask_email","vars":{"name":"Ana"}}', updated_at = 1 WHERE id = 'conv_' || :n3;
SELECT state, last_seq FROM floor_conversations WHERE id = 'conv_' || :n4 FOR UPDATE;
INSERT INTO floor_messages SELECT 'conv_' || :n4, last_seq + s, 'bot', 'What is your email?', 0 FROM floor_conversations, generate_series(1, 2) AS s WHERE id = 'conv_' || :n4;
UPDATE floor_conversations SET last_seq = last_seq + 2, state = '{"at":"ask_email","vars":{"name":"Ana"}}', updated_at = 1 WHERE id = 'conv_' || :n4;
COMMIT;
