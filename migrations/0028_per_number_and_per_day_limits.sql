-- Issue 17 item 3: a number's code requests are capped across tenants, not only per tenant (each
-- request is an SMS or a call to the number's owner, each code a handful of guesses): the number's
-- pending verifications are read by phone_number_id.
CREATE INDEX whatsapp_verifications_phone ON whatsapp_verifications (phone_number_id, expires_at);

-- The number's codes asked for in its current 24-hour window, by all tenants together. Not a
-- tenant's row: deleting the account that asked (and its pending verifications) must not give
-- the number a fresh day of texts and guesses. Ids and counts only; swept by age.
CREATE TABLE whatsapp_code_requests (
  phone_number_id TEXT PRIMARY KEY,
  window_start    INTEGER NOT NULL,
  requests        INTEGER NOT NULL CHECK (requests >= 0)
);
CREATE INDEX whatsapp_code_requests_window ON whatsapp_code_requests (window_start);

-- The cron's prune of past days of the automatic-mail cap (pruneAutomaticMail) reads by day.
CREATE INDEX email_automatic_days_day ON email_automatic_days (day);

-- Confirmation links mailed for a tenant per UTC day (forward addresses, the notification email):
-- each goes to an address the tenant typed, so they are capped per day as well as per minute. In
-- the day's row of the tenant's automatic mail, pruned and deleted with it.
ALTER TABLE email_automatic_days ADD COLUMN verify_sent INTEGER NOT NULL DEFAULT 0 CHECK (verify_sent >= 0);
