-- Discord (PRODUCT.md §1): the bot installed in a tenant's server, and each item relayed to its
-- inbox channel. Ids and states only: the preview text lives in Discord, never here.

-- A guild belongs to one tenant (UNIQUE); a tenant has at most one installation.
CREATE TABLE discord_installs (
  tenant_id        TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
  guild_id         TEXT NOT NULL UNIQUE,
  guild_name       TEXT,
  -- NULL until the tenant picks them after the install.
  inbox_channel_id TEXT,
  staff_role_id    TEXT,
  -- all: every inbound message; needs_human: only handoffs, held drafts and email relays.
  relay_mode       TEXT NOT NULL DEFAULT 'needs_human' CHECK (relay_mode IN ('all', 'needs_human')),
  -- After a person's reply from the inbox: 'silent' ends the AI's holding pattern for that
  -- conversation (the person has it), 'keep' leaves automatic replies as they were.
  after_human_reply TEXT NOT NULL DEFAULT 'silent' CHECK (after_human_reply IN ('silent', 'keep')),
  installed_by     TEXT,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL
);

-- One row per message posted to the inbox channel. The status change from 'open' is the lock that
-- makes a second click say "already handled".
CREATE TABLE discord_relays (
  id               TEXT PRIMARY KEY,
  tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  account_id       TEXT NOT NULL,
  channel          TEXT NOT NULL,
  customer_id      TEXT NOT NULL,
  thread_key       TEXT NOT NULL,
  -- message (relay_mode all), handoff, approval (a held draft), email (an email routed to relay).
  kind             TEXT NOT NULL CHECK (kind IN ('message', 'handoff', 'approval', 'email')),
  approval_id      TEXT,
  -- The inbound message this item is about (threading for email replies).
  provider_message_id TEXT,
  guild_id         TEXT NOT NULL,
  channel_id       TEXT NOT NULL,
  -- NULL until Discord accepted the post.
  discord_message_id TEXT,
  status           TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'replied', 'approved', 'dropped')),
  handled_by       TEXT,
  handled_at       INTEGER,
  created_at       INTEGER NOT NULL
);
CREATE INDEX discord_relays_tenant ON discord_relays (tenant_id, created_at);
CREATE INDEX discord_relays_approval ON discord_relays (approval_id);
