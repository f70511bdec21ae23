-- Concierge schema, first cut. Metadata only: no column anywhere holds message text
-- (ARCHITECTURE.md §5).

CREATE TABLE tenants (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  locale      TEXT NOT NULL DEFAULT 'en-IN',
  status      TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
  created_at  INTEGER NOT NULL
);

-- Each tenant's data key, wrapped by ENCRYPTION_KEY. Deleting the row crypto-shreds everything
-- sealed under it.
CREATE TABLE tenant_keys (
  tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  version     INTEGER NOT NULL,
  wrapped_key TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, version)
);

-- One row per connected account. An external id (phone_number_id, page id, guild id, email
-- subdomain) belongs to exactly one tenant, ever: the UNIQUE constraint is that rule.
CREATE TABLE channel_accounts (
  id           TEXT PRIMARY KEY,
  tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  channel      TEXT NOT NULL CHECK (channel IN ('whatsapp', 'instagram', 'email', 'discord')),
  external_id  TEXT NOT NULL,
  display_name TEXT,
  status       TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  created_at   INTEGER NOT NULL,
  UNIQUE (channel, external_id)
);
CREATE INDEX channel_accounts_tenant ON channel_accounts (tenant_id);

-- The reply config of one channel account, validated by packages/rules before it is written.
CREATE TABLE reply_configs (
  account_id   TEXT PRIMARY KEY REFERENCES channel_accounts (id) ON DELETE CASCADE,
  tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  config_json  TEXT NOT NULL,
  -- Copied out of config_json at save time so the ingest path reads it with the account lookup.
  wait_seconds INTEGER NOT NULL DEFAULT 5 CHECK (wait_seconds BETWEEN 0 AND 30),
  updated_at   INTEGER NOT NULL
);

-- Message metadata: who, when, which way, what we did. Never the text.
CREATE TABLE messages (
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
  UNIQUE (channel, direction, provider_message_id)
);
CREATE INDEX messages_tenant_time ON messages (tenant_id, created_at);
