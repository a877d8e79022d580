-- A conversation's open hand-over (the inbox row and every agent action read it) comes from
-- this index in the order asked, newest first and ties by id, without a sort.
DROP INDEX handovers_conversation;
CREATE INDEX handovers_conversation ON handovers(conversation_id, queued_at, id);
