-- Side effects outside our database that must happen for a deletion or a disconnect to be complete
-- (issue 17 item 14): releasing a WhatsApp number at Meta, unsubscribing an Instagram page, the
-- bot leaving a Discord server, removing Cloudflare email routes. Each is recorded before it is
-- tried, tried at once, and retried with back-off by the 15-minute cron until it is done or gives
-- up (status 'failed', shown to the operator). No foreign key on tenant_id: the rows outlive the
-- tenant they belonged to, so a deletion's pending effects stay visible. `target` is JSON of ids
-- only (a phone_number_id, a guild id, a zone's rule id), never a secret or message text.
CREATE TABLE side_effects (
  id          TEXT PRIMARY KEY,
  -- One row per effect on one target (e.g. 'whatsapp_release:<phone_number_id>'): recording the
  -- same effect again reopens the row rather than adding a second one.
  dedupe_key  TEXT NOT NULL UNIQUE,
  tenant_id   TEXT,
  kind        TEXT NOT NULL,
  target      TEXT NOT NULL,
  status      TEXT NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
  attempts    INTEGER NOT NULL DEFAULT 0,
  -- When the next attempt may run (pending), a lease while one runs.
  next_at     INTEGER NOT NULL,
  -- The last failure's code (e.g. 'http_500', 'timeout'); never a response body.
  last_error  TEXT,
  created_at  INTEGER NOT NULL,
  done_at     INTEGER
);
-- The cron's due list, oldest first; and what a tenant (or a deleted tenant's id) still waits for.
CREATE INDEX side_effects_due ON side_effects (next_at) WHERE status = 'pending';
CREATE INDEX side_effects_tenant ON side_effects (tenant_id, created_at);
-- The operator's count of effects that gave up.
CREATE INDEX side_effects_failed ON side_effects (created_at) WHERE status = 'failed';
