-- Instagram: each connected account's page access token, sealed with the tenant's data key
-- (AES-256-GCM, the same versioned format as conversation text; the associated data binds it to
-- its account). The daily cron refreshes tokens nearing expiry and marks dead ones, which the
-- dashboard shows. Deleting the tenant deletes the row and, with its key, any copy in backups.
CREATE TABLE channel_tokens (
  account_id    TEXT PRIMARY KEY REFERENCES channel_accounts (id) ON DELETE CASCADE,
  tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  -- The Facebook Page the Instagram account is linked to: the send path posts to
  -- /{page_id}/messages; one page belongs to one tenant (checked on connect).
  page_id       TEXT NOT NULL,
  sealed_token  TEXT NOT NULL,
  -- The long-lived user token the page token came from, sealed the same way: the daily cron
  -- re-derives the page token from it. NULL when not kept.
  sealed_user_token TEXT,
  -- NULL: the token does not expire (a page token derived from a long-lived user token).
  expires_at    INTEGER,
  status        TEXT NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'dead')),
  -- A short reason code when dead (expired, revoked, permissions): never provider text.
  dead_reason   TEXT,
  -- The Facebook user who connected the page: Meta's data deletion callback names them.
  facebook_user_id TEXT,
  refreshed_at  INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
);
CREATE INDEX channel_tokens_expiry ON channel_tokens (status, expires_at);
CREATE UNIQUE INDEX channel_tokens_page ON channel_tokens (page_id);
CREATE INDEX channel_tokens_facebook_user ON channel_tokens (facebook_user_id);
