-- Issue 17 (nothing stuck): a conversation object whose alarm kept failing outside a turn and
-- stopped retrying after a bounded number of attempts, for the operator's health page. Ids,
-- counts and times only; the row goes when an alarm of that object succeeds again, or with the
-- tenant. Its accepted messages stay in the object, and the next one re-arms it.
CREATE TABLE stuck_alarms (
  tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  thread_key  TEXT NOT NULL,
  account_id  TEXT NOT NULL,
  attempts    INTEGER NOT NULL,
  failed_at   INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, thread_key)
) WITHOUT ROWID;
-- The health page reads the newest few and the count.
CREATE INDEX stuck_alarms_at ON stuck_alarms (failed_at);
