-- Email (PRODUCT.md §1): tenant subdomains of EMAIL_DOMAIN, their routing rules, verified forward
-- addresses and reverse aliases. Metadata and configuration only: no subject or body anywhere.

-- Message ids are unique per account, not per channel: one email (one Message-ID) sent to two
-- tenants' subdomains is two inbound messages. SQLite cannot change a UNIQUE constraint in place,
-- so the table is rebuilt with every column it has gained since 0001.
CREATE TABLE messages_new (
  id                  INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant_id           TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  account_id          TEXT NOT NULL,
  channel             TEXT NOT NULL,
  direction           TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
  provider_message_id TEXT NOT NULL,
  conversation_id     TEXT,
  sender_id           TEXT NOT NULL,
  recipient_id        TEXT NOT NULL,
  action              TEXT,
  rule_id             TEXT,
  created_at          INTEGER NOT NULL,
  kind                TEXT,
  has_attachment      INTEGER CHECK (has_attachment IN (0, 1)),
  status              TEXT CHECK (status IN ('sent', 'delivered', 'read', 'failed')),
  status_at           INTEGER,
  status_error_code   INTEGER,
  status_error_title  TEXT,
  error_code          INTEGER,
  UNIQUE (account_id, direction, provider_message_id)
);
INSERT INTO messages_new
  (id, tenant_id, account_id, channel, direction, provider_message_id, conversation_id, sender_id,
   recipient_id, action, rule_id, created_at, kind, has_attachment, status, status_at,
   status_error_code, status_error_title, error_code)
SELECT id, tenant_id, account_id, channel, direction, provider_message_id, conversation_id, sender_id,
   recipient_id, action, rule_id, created_at, kind, has_attachment, status, status_at,
   status_error_code, status_error_title, error_code
FROM messages;
DROP TABLE messages;
ALTER TABLE messages_new RENAME TO messages;
CREATE INDEX messages_tenant_time ON messages (tenant_id, created_at);

-- How many subdomains a tenant may have; the platform team raises it per tenant.
ALTER TABLE tenants ADD COLUMN email_subdomain_quota INTEGER NOT NULL DEFAULT 3 CHECK (email_subdomain_quota BETWEEN 0 AND 1000);

-- One row per subdomain; the subdomain is also a channel account (channel 'email', external_id =
-- the full domain, e.g. acme.cncg.email), so its reply rules, metadata and deletion work as for
-- every other channel.
CREATE TABLE email_subdomains (
  account_id    TEXT PRIMARY KEY REFERENCES channel_accounts (id) ON DELETE CASCADE,
  tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  -- The label the tenant chose ("acme"), and the full domain; both globally unique.
  name          TEXT NOT NULL UNIQUE,
  domain        TEXT NOT NULL UNIQUE,
  -- provisioning: the Cloudflare route is being created; active: mail arrives; failed: the
  -- Cloudflare API refused (status_error says why, the tenant may retry).
  status        TEXT NOT NULL DEFAULT 'provisioning' CHECK (status IN ('provisioning', 'active', 'failed')),
  -- The Cloudflare Email Routing rule that sends the subdomain's mail to email-inbound.
  cf_rule_id    TEXT,
  -- A short code and the Cloudflare API's own message when provisioning failed (never mail text).
  status_error  TEXT,
  -- The routing rules and default action, validated by packages/rules (EmailRoutingSchema) before
  -- they are written; `routing_version` refuses a stale edit.
  routing_json  TEXT NOT NULL DEFAULT '{"rules":[],"defaultAction":{"kind":"relay"}}',
  routing_version INTEGER NOT NULL DEFAULT 1,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
);
CREATE INDEX email_subdomains_tenant ON email_subdomains (tenant_id);

-- Where a tenant may forward mail: only addresses that followed the link we emailed them.
CREATE TABLE email_forward_addresses (
  id            TEXT PRIMARY KEY,
  tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  address       TEXT NOT NULL,
  -- SHA-256 of the single-use verification token (the link carries the token itself).
  token_hash    TEXT,
  token_expires_at INTEGER,
  verified_at   INTEGER,
  created_at    INTEGER NOT NULL,
  UNIQUE (tenant_id, address)
);

-- Reverse aliases: reply+<token>@<subdomain> on forwarded mail routes the forwarded-to person's
-- reply back to the original sender, threaded. Kept here rather than in KV so that deleting the
-- tenant provably removes them (the addresses are personal data).
CREATE TABLE email_aliases (
  token_hash    TEXT PRIMARY KEY,
  tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  account_id    TEXT NOT NULL REFERENCES channel_accounts (id) ON DELETE CASCADE,
  -- The customer who wrote, the address on the subdomain they wrote to, and who the mail went to.
  original_sender TEXT NOT NULL,
  reply_from    TEXT NOT NULL,
  forwarded_to  TEXT NOT NULL,
  -- Threading: the original Message-ID and its References chain (ids, not text).
  original_message_id TEXT NOT NULL,
  original_references TEXT NOT NULL DEFAULT '',
  created_at    INTEGER NOT NULL,
  expires_at    INTEGER NOT NULL
);
CREATE INDEX email_aliases_expiry ON email_aliases (expires_at);
CREATE INDEX email_aliases_tenant ON email_aliases (tenant_id);
