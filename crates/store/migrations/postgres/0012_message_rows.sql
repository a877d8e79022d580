-- Only messages with a client id (the customer's) need the client id index: a retry is found
-- by it and a second message with the same id refused. Bot and agent messages, most of them,
-- no longer enter it.
DROP INDEX messages_client_id;
CREATE UNIQUE INDEX messages_client_id ON messages(conversation_id, client_id) WHERE client_id IS NOT NULL;
