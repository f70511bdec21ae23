-- Issue 19 item 9 (channel health): an account that got customer messages every day and then
-- none for the tenant's chosen number of hours alerts the tenant once (0: never). Checked hourly
-- by the pipeline's cron from message metadata (messages_account_time); no per-message write.
ALTER TABLE tenants ADD COLUMN silence_alert_hours INTEGER NOT NULL DEFAULT 24
  CHECK (silence_alert_hours BETWEEN 0 AND 168);
-- When the account's current silence was alerted: another alert needs a newer customer message
-- first, so one silence is told once however many cron runs see it.
ALTER TABLE channel_accounts ADD COLUMN silence_alerted_at INTEGER;
