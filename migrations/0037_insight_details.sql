-- Issue 19 item 6: honest insights. Replies that Meta reported undeliverable count as failures,
-- not replies; a delivery status that arrives before its outbound row is kept until the row is
-- written; and the overview answers what owners ask: which rules match most, how often the
-- default reply answers, who asked for a person, and how long customers wait for a reply.
-- Counts and times only, never text.

-- How long the customer had waited for this reply, from their first unanswered message (ms).
-- Outbound replies only, written by the conversation object with the row (turn.ts, person.ts,
-- approvals.ts); NULL on every other row, and on rows written before this migration.
ALTER TABLE messages ADD COLUMN reply_wait_ms INTEGER CHECK (reply_wait_ms >= 0);

-- Counts per local day beside message_days (same day rule: the tenant's offset at the time of
-- the row), for figures message_days' key does not carry:
--   metric 'rule'       key = rule id || ' ' || action: the replies each rule (or 'default') gave
--   metric 'reply_wait' key = the wait's bucket (below): how long customers waited for a reply
-- Removed with the tenant (its deletion, the cascade) and by retention with the days it purges.
CREATE TABLE insight_days (
  tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  day        INTEGER NOT NULL,
  metric     TEXT NOT NULL CHECK (metric IN ('rule', 'reply_wait')),
  key        TEXT NOT NULL,
  n          INTEGER NOT NULL CHECK (n >= 0),
  PRIMARY KEY (tenant_id, day, metric, key)
) WITHOUT ROWID;

-- The wait buckets (storage insights.ts REPLY_WAIT_BUCKETS reads the same keys).
CREATE TRIGGER insight_days_insert AFTER INSERT ON messages
  WHEN NEW.direction = 'outbound' AND (NEW.rule_id IS NOT NULL OR NEW.reply_wait_ms IS NOT NULL)
BEGIN
  INSERT INTO insight_days (tenant_id, day, metric, key, n)
  SELECT NEW.tenant_id,
         (NEW.created_at + COALESCE((SELECT t.utc_offset_minutes FROM tenants t WHERE t.id = NEW.tenant_id), 0) * 60000) / 86400000,
         'rule', NEW.rule_id || ' ' || COALESCE(NEW.action, ''), 1
   WHERE NEW.rule_id IS NOT NULL
  ON CONFLICT (tenant_id, day, metric, key) DO UPDATE SET n = n + 1;
  INSERT INTO insight_days (tenant_id, day, metric, key, n)
  SELECT NEW.tenant_id,
         (NEW.created_at + COALESCE((SELECT t.utc_offset_minutes FROM tenants t WHERE t.id = NEW.tenant_id), 0) * 60000) / 86400000,
         'reply_wait',
         CASE WHEN NEW.reply_wait_ms < 60000 THEN 'lt1m'
              WHEN NEW.reply_wait_ms < 300000 THEN 'lt5m'
              WHEN NEW.reply_wait_ms < 900000 THEN 'lt15m'
              WHEN NEW.reply_wait_ms < 3600000 THEN 'lt1h'
              WHEN NEW.reply_wait_ms < 14400000 THEN 'lt4h'
                  WHEN NEW.reply_wait_ms < 86400000 THEN 'lt24h'
              ELSE 'ge24h' END, 1
   WHERE NEW.reply_wait_ms IS NOT NULL
  ON CONFLICT (tenant_id, day, metric, key) DO UPDATE SET n = n + 1;
END;

-- A reply Meta accepted and later reported failed (a delivery status) is a failure, not a reply:
-- its count moves from its action to 'delivery_failed' on its day, and it is no longer a rule's
-- answer or a reply a customer waited for (insight_days). The day is worked out with the tenant's
-- offset now; a failure reported across a daylight-saving change within an hour of midnight is
-- moved on the neighbouring day (the window's totals stay right; no count goes below zero). A refused
-- send's row (`send_failed`, our own id) is a failure already.
CREATE TRIGGER message_days_delivery_failed AFTER UPDATE OF status ON messages
  WHEN NEW.status = 'failed' AND OLD.status IS NOT 'failed' AND NEW.direction = 'outbound'
   AND NEW.action IS NOT 'send_failed'
BEGIN
  UPDATE message_days SET n = n - 1
   WHERE tenant_id = NEW.tenant_id
     AND day = (NEW.created_at + COALESCE((SELECT t.utc_offset_minutes FROM tenants t WHERE t.id = NEW.tenant_id), 0) * 60000) / 86400000
     AND channel = NEW.channel AND direction = 'outbound' AND action = COALESCE(NEW.action, '') AND n > 0;
  INSERT INTO message_days (tenant_id, day, channel, direction, action, n)
  VALUES (NEW.tenant_id,
          (NEW.created_at + COALESCE((SELECT t.utc_offset_minutes FROM tenants t WHERE t.id = NEW.tenant_id), 0) * 60000) / 86400000,
          NEW.channel, 'outbound', 'delivery_failed', 1)
  ON CONFLICT (tenant_id, day, channel, direction, action) DO UPDATE SET n = n + 1;
  UPDATE insight_days SET n = n - 1
   WHERE tenant_id = NEW.tenant_id
     AND day = (NEW.created_at + COALESCE((SELECT t.utc_offset_minutes FROM tenants t WHERE t.id = NEW.tenant_id), 0) * 60000) / 86400000
     AND n > 0
     AND ((metric = 'rule' AND key = NEW.rule_id || ' ' || COALESCE(NEW.action, ''))
          OR (metric = 'reply_wait' AND NEW.reply_wait_ms IS NOT NULL
              AND key = CASE WHEN NEW.reply_wait_ms < 60000 THEN 'lt1m'
                             WHEN NEW.reply_wait_ms < 300000 THEN 'lt5m'
                             WHEN NEW.reply_wait_ms < 900000 THEN 'lt15m'
                             WHEN NEW.reply_wait_ms < 3600000 THEN 'lt1h'
                             WHEN NEW.reply_wait_ms < 14400000 THEN 'lt4h'
                             WHEN NEW.reply_wait_ms < 86400000 THEN 'lt24h'
                             ELSE 'ge24h' END));
END;

-- Statuses already reported failed are failures in the rollup too (one pass over the messages;
-- the trigger above leaves out refused sends, and so does this).
UPDATE message_days SET n = max(0, message_days.n - f.c)
  FROM (SELECT m.tenant_id, (m.created_at + COALESCE(t.utc_offset_minutes, 0) * 60000) / 86400000 AS day,
               m.channel, COALESCE(m.action, '') AS action, COUNT(*) AS c
          FROM messages m JOIN tenants t ON t.id = m.tenant_id
         WHERE m.direction = 'outbound' AND m.status = 'failed' AND m.action IS NOT 'send_failed'
         GROUP BY 1, 2, 3, 4) AS f
 WHERE message_days.tenant_id = f.tenant_id AND message_days.day = f.day AND message_days.channel = f.channel
   AND message_days.direction = 'outbound' AND message_days.action = f.action;
INSERT INTO message_days (tenant_id, day, channel, direction, action, n)
SELECT m.tenant_id, (m.created_at + COALESCE(t.utc_offset_minutes, 0) * 60000) / 86400000, m.channel,
       'outbound', 'delivery_failed', COUNT(*)
  FROM messages m JOIN tenants t ON t.id = m.tenant_id
 WHERE m.direction = 'outbound' AND m.status = 'failed' AND m.action IS NOT 'send_failed'
 GROUP BY 1, 2, 3;

-- The rules' counts of the replies already stored and delivered (no waits were recorded before).
INSERT INTO insight_days (tenant_id, day, metric, key, n)
SELECT m.tenant_id, (m.created_at + COALESCE(t.utc_offset_minutes, 0) * 60000) / 86400000, 'rule',
       m.rule_id || ' ' || COALESCE(m.action, ''), COUNT(*)
  FROM messages m JOIN tenants t ON t.id = m.tenant_id
 WHERE m.direction = 'outbound' AND m.rule_id IS NOT NULL AND m.status IS NOT 'failed'
 GROUP BY 1, 2, 4;

-- A delivery status that arrived before the outbound row it is about (the webhook can beat the
-- write that follows the send): kept, at its furthest status, and applied when the row is written
-- (storage messages.ts recordMessages). One that never finds its row (a send from outside
-- Concierge on the same number) is removed after an hour by the pipeline's cron.
CREATE TABLE early_statuses (
  tenant_id           TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  account_id          TEXT NOT NULL,
  channel             TEXT NOT NULL,
  provider_message_id TEXT NOT NULL,
  status              TEXT NOT NULL CHECK (status IN ('sent', 'delivered', 'read', 'failed')),
  status_at           INTEGER NOT NULL,
  error_code          INTEGER,
  error_title         TEXT,
  created_at          INTEGER NOT NULL,
  PRIMARY KEY (account_id, channel, provider_message_id)
) WITHOUT ROWID;
CREATE INDEX early_statuses_time ON early_statuses (created_at);
CREATE INDEX early_statuses_tenant ON early_statuses (tenant_id);
