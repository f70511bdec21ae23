-- Automatic mail (issue 17, items 1 and 15): auto-replies and forwards go out only to
-- authenticated senders, at most a daily number per tenant, and a forward is sent at most once.

-- The operator's daily cap on a tenant's automatic mail (auto-replies + forwards). One row, like
-- demo_settings; edited on /manage/email with an audit row.
CREATE TABLE email_automatic_settings (
  id          INTEGER PRIMARY KEY CHECK (id = 1),
  daily_limit INTEGER NOT NULL DEFAULT 200 CHECK (daily_limit BETWEEN 0 AND 100000),
  updated_at  INTEGER NOT NULL,
  -- The operator's email; NULL for the seeded default.
  updated_by  TEXT
);
INSERT INTO email_automatic_settings (id, daily_limit, updated_at, updated_by) VALUES (1, 200, 0, NULL);

-- A tenant's automatic mail per UTC day: how many went out, and when the cap first held one back.
CREATE TABLE email_automatic_days (
  tenant_id   TEXT NOT NULL REFERENCES tenants(id),
  day         TEXT NOT NULL CHECK (length(day) = 10),
  sent        INTEGER NOT NULL DEFAULT 0 CHECK (sent >= 0),
  limited_at  INTEGER,
  PRIMARY KEY (tenant_id, day)
);

-- Each mail's one answer from the cap (keyed by its Message-ID), so a redelivery of the same mail
-- gets the same answer and is never counted twice. Pruned after a few days.
CREATE TABLE email_automatic_claims (
  tenant_id           TEXT NOT NULL REFERENCES tenants(id),
  account_id          TEXT NOT NULL,
  provider_message_id TEXT NOT NULL,
  day                 TEXT NOT NULL,
  allowed             INTEGER NOT NULL CHECK (allowed IN (0, 1)),
  -- Which attempt wrote the claim: only that attempt counts it.
  nonce               TEXT NOT NULL,
  created_at          INTEGER NOT NULL,
  PRIMARY KEY (account_id, provider_message_id)
);
CREATE INDEX email_automatic_claims_created ON email_automatic_claims (created_at);
CREATE INDEX email_automatic_claims_tenant ON email_automatic_claims (tenant_id);

-- A forward, claimed before it is sent: 'sending' while the send is under way (or its outcome is
-- unknown), 'sent' after. A retry that finds a claim never sends again.
CREATE TABLE email_forward_sends (
  tenant_id           TEXT NOT NULL REFERENCES tenants(id),
  account_id          TEXT NOT NULL,
  provider_message_id TEXT NOT NULL,
  address_id          TEXT NOT NULL,
  status              TEXT NOT NULL CHECK (status IN ('sending', 'sent')),
  claimed_at          INTEGER NOT NULL,
  sent_at             INTEGER,
  PRIMARY KEY (account_id, provider_message_id, address_id)
);
CREATE INDEX email_forward_sends_tenant ON email_forward_sends (tenant_id);
CREATE INDEX email_forward_sends_claimed ON email_forward_sends (claimed_at);
