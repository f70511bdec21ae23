-- Issue 19 item 6: insights count per day in the tenant's time zone, not per UTC day. The per-day
-- rollups (0029) are keyed by the local day at the time of each row: the trigger adds the tenant's
-- UTC offset in minutes, kept on the tenant row (written with the time zone, and refreshed hourly
-- by the pipeline's cron across daylight-saving changes). Days counted before a time zone change
-- stay on the days of the zone they were counted in; NULL (a zone not known yet) counts as UTC
-- until the cron sets the offset and recounts that tenant's days (storage tenants.ts).
ALTER TABLE tenants ADD COLUMN utc_offset_minutes INTEGER DEFAULT 330
  CHECK (utc_offset_minutes BETWEEN -720 AND 840);
-- Every zone but the default is worked out by the cron's first run (the offset needs Intl).
UPDATE tenants SET utc_offset_minutes = NULL WHERE time_zone <> 'Asia/Kolkata';

-- An AI-reply debit's local day, written with it (packages/storage credits.ts) and copied to its
-- restore: the restore takes off from the very day the debit was counted on, whatever the offset
-- is by then (a daylight-saving change, a new time zone).
ALTER TABLE credit_ledger ADD COLUMN day INTEGER;
UPDATE credit_ledger
   SET day = (created_at + COALESCE((SELECT t.utc_offset_minutes FROM tenants t WHERE t.id = credit_ledger.tenant_id), 0) * 60000) / 86400000
 WHERE reason = 'ai_reply';

DROP TRIGGER message_days_insert;
CREATE TRIGGER message_days_insert AFTER INSERT ON messages
BEGIN
  INSERT INTO message_days (tenant_id, day, channel, direction, action, n)
  VALUES (NEW.tenant_id,
          (NEW.created_at + COALESCE((SELECT t.utc_offset_minutes FROM tenants t WHERE t.id = NEW.tenant_id), 0) * 60000) / 86400000,
          NEW.channel, NEW.direction, COALESCE(NEW.action, ''), 1)
  ON CONFLICT (tenant_id, day, channel, direction, action) DO UPDATE SET n = n + 1;
END;

DROP TRIGGER credit_days_debit;
CREATE TRIGGER credit_days_debit AFTER INSERT ON credit_ledger WHEN NEW.reason = 'ai_reply'
BEGIN
  INSERT INTO credit_days (tenant_id, day, n)
  VALUES (NEW.tenant_id,
          COALESCE(NEW.day, (NEW.created_at + COALESCE((SELECT t.utc_offset_minutes FROM tenants t WHERE t.id = NEW.tenant_id), 0) * 60000) / 86400000),
          -NEW.delta)
  ON CONFLICT (tenant_id, day) DO UPDATE SET n = n - NEW.delta;
END;

DROP TRIGGER credit_days_restore;
CREATE TRIGGER credit_days_restore AFTER INSERT ON credit_ledger
  WHEN NEW.reason = 'restore' AND substr(NEW.reference, 1, 8) = 'restore:'
BEGIN
  UPDATE credit_days SET n = n - NEW.delta
   WHERE tenant_id = NEW.tenant_id
     AND day = (SELECT d.day FROM credit_ledger d
                 WHERE d.tenant_id = NEW.tenant_id AND d.reference = substr(NEW.reference, 9)
                   AND d.reason = 'ai_reply');
END;

-- The rollups again, by local day where the zone is known (the default's), else as before.
DELETE FROM message_days;
INSERT INTO message_days (tenant_id, day, channel, direction, action, n)
SELECT m.tenant_id, (m.created_at + COALESCE(t.utc_offset_minutes, 0) * 60000) / 86400000, m.channel,
       m.direction, COALESCE(m.action, ''), COUNT(*)
  FROM messages m JOIN tenants t ON t.id = m.tenant_id
 GROUP BY 1, 2, 3, 4, 5;

DELETE FROM credit_days;
INSERT INTO credit_days (tenant_id, day, n)
SELECT d.tenant_id, d.day, SUM(-d.delta)
  FROM credit_ledger d
 WHERE d.reason = 'ai_reply'
   AND NOT EXISTS (SELECT 1 FROM credit_ledger r
                    WHERE r.tenant_id = d.tenant_id AND r.reference = 'restore:' || d.reference)
 GROUP BY 1, 2;
