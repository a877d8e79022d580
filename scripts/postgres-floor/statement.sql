-- One round trip that does nothing: the cost of a statement before any work.
SELECT 1;
