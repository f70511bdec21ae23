-- Scale (issue 18): every dashboard page and every per-message statement is bounded by the
-- tenant's own recent data, never by the size of a table or of the tenant's whole history.
-- Measured with `npm run bench:scale` (1,000,000 messages over 1,000 tenants); each plan is
-- asserted in packages/storage/test/query-plans.test.ts.

-- The overview's channel health (listAccountActivity): an account's newest inbound and outbound
-- message is the first entry of its range here, not a walk over every message of the tenant.
CREATE INDEX messages_account_time ON messages (tenant_id, account_id, direction, created_at);

-- Customer messages whose reply failed to send, and those a turn gave up on (the overview's
-- health and alert): few rows, read by themselves instead of every message of the last 7 days.
CREATE INDEX messages_send_failed ON messages (tenant_id, account_id, created_at)
  WHERE direction = 'inbound' AND action = 'send_failed';
CREATE INDEX messages_given_up ON messages (tenant_id, created_at)
  WHERE direction = 'inbound' AND action = 'given_up';

-- Messages per UTC day, channel, direction and action (insights): what the overview's 30 days
-- read, ~15 rows a day whatever the traffic, instead of every message of those 30 days. Kept by
-- the trigger below in the same statement as the message row (an insert the UNIQUE key turns
-- away adds nothing). Counts only, no ids: the tenant's deletion deletes its rows by tenant_id,
-- retention those of the days it purged (a per-row delete trigger would double the cost of
-- every deletion chunk). `action` '' stands for none (NULL would not be one key).
CREATE TABLE message_days (
  tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  day        INTEGER NOT NULL,
  channel    TEXT NOT NULL,
  direction  TEXT NOT NULL,
  action     TEXT NOT NULL,
  n          INTEGER NOT NULL CHECK (n >= 0),
  PRIMARY KEY (tenant_id, day, channel, direction, action)
) WITHOUT ROWID;

CREATE TRIGGER message_days_insert AFTER INSERT ON messages
BEGIN
  INSERT INTO message_days (tenant_id, day, channel, direction, action, n)
  VALUES (NEW.tenant_id, NEW.created_at / 86400000, NEW.channel, NEW.direction, COALESCE(NEW.action, ''), 1)
  ON CONFLICT (tenant_id, day, channel, direction, action) DO UPDATE SET n = n + 1;
END;

-- The rollup of the messages already stored.
INSERT INTO message_days (tenant_id, day, channel, direction, action, n)
SELECT tenant_id, created_at / 86400000, channel, direction, COALESCE(action, ''), COUNT(*)
  FROM messages GROUP BY 1, 2, 3, 4, 5;

-- Credits used per UTC day (insights): AI-reply debits not given back, on the day they were
-- taken. Kept by the ledger's own inserts (the ledger is append-only): a debit adds, its restore
-- ('restore:' || the debit's reference) takes off from the debit's day. Removed with the tenant.
CREATE TABLE credit_days (
  tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  day        INTEGER NOT NULL,
  n          INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, day)
) WITHOUT ROWID;

CREATE TRIGGER credit_days_debit AFTER INSERT ON credit_ledger WHEN NEW.reason = 'ai_reply'
BEGIN
  INSERT INTO credit_days (tenant_id, day, n) VALUES (NEW.tenant_id, NEW.created_at / 86400000, -NEW.delta)
  ON CONFLICT (tenant_id, day) DO UPDATE SET n = n - NEW.delta;
END;

CREATE TRIGGER credit_days_restore AFTER INSERT ON credit_ledger
  WHEN NEW.reason = 'restore' AND substr(NEW.reference, 1, 8) = 'restore:'
BEGIN
  UPDATE credit_days SET n = n - NEW.delta
   WHERE tenant_id = NEW.tenant_id
     AND day = (SELECT d.created_at / 86400000 FROM credit_ledger d
                 WHERE d.tenant_id = NEW.tenant_id AND d.reference = substr(NEW.reference, 9)
                   AND d.reason = 'ai_reply');
END;

INSERT INTO credit_days (tenant_id, day, n)
SELECT d.tenant_id, d.created_at / 86400000, SUM(-d.delta) FROM credit_ledger d
 WHERE d.reason = 'ai_reply'
   AND NOT EXISTS (SELECT 1 FROM credit_ledger r
                    WHERE r.tenant_id = d.tenant_id AND r.reference = 'restore:' || d.reference)
 GROUP BY 1, 2;

-- The billing page's ledger, newest first, one page at a time: a range of the tenant's own
-- entries in id order (the index carries the rowid), not a walk down every tenant's ledger.
CREATE INDEX credit_ledger_tenant ON credit_ledger (tenant_id);

-- A tenant's sessions (its deletion, a user's removal): without it, each is a scan of every
-- tenant's sessions.
CREATE INDEX sessions_tenant ON sessions (tenant_id);

