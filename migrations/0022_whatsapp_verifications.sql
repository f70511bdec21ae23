-- Proof of control for the manual WhatsApp connect (issue 17 item 3): a tenant asks Meta to send
-- a code to the number (POST /{phone_number_id}/request_code) and must type it back (verify_code)
-- before the number is theirs. One row per tenant and number while a code is outstanding: ids and
-- counters only, never the code (Meta checks it). Bound to the tenant, so another tenant's pending
-- request proves nothing; attempts per code and code requests per day are capped here, before Meta.
CREATE TABLE whatsapp_verifications (
  tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  phone_number_id TEXT NOT NULL,
  -- Wrong codes typed against the current code (capped; a new code starts again at 0).
  attempts        INTEGER NOT NULL DEFAULT 0,
  -- Codes requested since window_start (capped per 24 hours).
  requests        INTEGER NOT NULL,
  window_start    INTEGER NOT NULL,
  requested_at    INTEGER NOT NULL,
  -- The current code may be typed until then (Meta's codes last about 10 minutes).
  expires_at      INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, phone_number_id)
);
-- Old rows are swept by age when a new code is requested.
CREATE INDEX whatsapp_verifications_window ON whatsapp_verifications (window_start);
-- Releasing a number unsubscribes our app from its WABA only when no connected number still uses
-- it: that count is read by WABA.
CREATE INDEX channel_accounts_waba ON channel_accounts (waba_id) WHERE waba_id IS NOT NULL;
