-- Issue 18: one D1 row less per customer message. The partial index messages_inbound_time
-- (created_at, channel) WHERE direction = 'inbound' was written by every customer message and read
-- by one figure only: the operator health page's inbound traffic of the last hour.
--
-- Message ids are given in the order rows are inserted (max(id) + 1 since migration 0038), so the
-- rows inserted after a moment are those above the highest id at that moment. The quarter-hourly
-- cron writes that pair, a mark (storage platform-health.ts markMessages); the health page counts
-- the inbound rows of the last hour among the ids above the newest mark an hour old or more: a
-- range of the primary key, the last hour and a quarter of every tenant's messages, as the index
-- range was the last hour of their inbound ones. The marks are ids and times only, a dozen rows.
CREATE TABLE message_marks (
  at     INTEGER PRIMARY KEY, -- ms, no earlier than the read of max_id
  max_id INTEGER NOT NULL
);

-- The first mark, older than any hour asked about: until a mark of the cron's is an hour old
-- (an hour to an hour and a quarter), the figure counts only what came after this migration.
INSERT INTO message_marks (at, max_id) SELECT 0, COALESCE(MAX(id), 0) FROM messages;

-- An id comes back once the newest row is deleted (a tenant's deletion, retention): a mark above
-- the newest id left would hide the rows given those ids again. Such a mark comes down to it.
-- Per deleted row, one read of the newest id (the primary key's last entry); a write only then.
CREATE TRIGGER message_marks_clamp AFTER DELETE ON messages
  WHEN OLD.id > (SELECT COALESCE(MAX(id), 0) FROM messages)
BEGIN
  UPDATE message_marks SET max_id = (SELECT COALESCE(MAX(id), 0) FROM messages)
   WHERE max_id > (SELECT COALESCE(MAX(id), 0) FROM messages);
END;

DROP INDEX messages_inbound_time;
