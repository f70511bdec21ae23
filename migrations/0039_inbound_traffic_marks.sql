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

-- The first mark, older than any hour asked about: rows inserted before this migration count
-- from the next hour on, when the cron's marks have taken over; in the hour after it, the figure
-- counts only what came since.
INSERT INTO message_marks (at, max_id) SELECT 0, COALESCE(MAX(id), 0) FROM messages;

DROP INDEX messages_inbound_time;
