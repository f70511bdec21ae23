-- The operator panel (PRODUCT.md §6, issue 14): the append-only audit log of every operator
-- write, why a tenant is suspended, a safety verdict per archetype version, the public demo's
-- settings, each cron's last run, and the indexes the panel's reads need. Metadata only.

-- Every operator write, one row each, written by the pipeline in the same batch as the change.
-- No foreign key on tenant_id: the rows outlive the tenant (a deleted tenant's rows keep only
-- its id, never its name). `summary` is JSON of what changed (ids, numbers, statuses, the
-- operator's reason), never message text.
CREATE TABLE audit_log (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  at              INTEGER NOT NULL,
  operator_email  TEXT NOT NULL,
  action          TEXT NOT NULL,
  tenant_id       TEXT,
  target          TEXT,
  summary         TEXT NOT NULL
);
-- The audit page lists newest first, filtered by one of these; `id` (the rowid) follows `at` in
-- each index, so (at, id) keyset pagination reads the index in order.
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_operator ON audit_log (operator_email, at);
CREATE INDEX audit_log_action ON audit_log (action, at);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, at);

-- Append-only, enforced by the database itself: no code path (and no mistaken one) can rewrite
-- or remove what an operator did.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only');
END;

-- Suspension: the operator's reason (shown on the tenant's dashboard) and when. NULL while active.
ALTER TABLE tenants ADD COLUMN suspended_reason TEXT;
ALTER TABLE tenants ADD COLUMN suspended_at INTEGER;
-- When a deletion of the tenant began; NULL otherwise. A deletion is many steps (purging
-- conversation objects page by page, then one batch of rows), so one that stops midway leaves
-- the tenant here, marked: it answers no one (the pipeline treats it as suspended) and the next
-- attempt resumes. A column rather than a third `status` value: that CHECK is inline in 0001's
-- CREATE TABLE, SQLite cannot alter a CHECK, and rebuilding `tenants` means dropping a table
-- that every tenant-owned table references with ON DELETE CASCADE.
ALTER TABLE tenants ADD COLUMN deleting_at INTEGER;
-- The operator's tenant list, newest first, paginated by (created_at, id).
CREATE INDEX tenants_created ON tenants (created_at, id);
-- The operator's search by name: a prefix of the name in any (ASCII) case, an index range.
CREATE INDEX tenants_name ON tenants (lower(name));

-- A WhatsApp number as digits only ("+91 98765 43210" -> "919876543210"), for the operator's
-- search by phone number: `external_id` is Meta's phone_number_id, not the number, and the number
-- itself is only in the formatted `display_name`. Set when a number is connected; NULL for other
-- channels. Rows connected before this migration are filled from their display name, kept only
-- when nothing but digits is left.
ALTER TABLE channel_accounts ADD COLUMN phone_digits TEXT;
UPDATE channel_accounts
   SET phone_digits = replace(replace(replace(replace(replace(display_name, ' ', ''), '+', ''), '-', ''), '(', ''), ')', '')
 WHERE channel = 'whatsapp' AND display_name IS NOT NULL;
UPDATE channel_accounts SET phone_digits = NULL
 WHERE phone_digits IS NOT NULL AND (phone_digits = '' OR phone_digits GLOB '*[^0-9]*');
CREATE INDEX channel_accounts_phone ON channel_accounts (phone_digits) WHERE phone_digits IS NOT NULL;

-- Archetype versions and their verdicts: a save bumps `version`, stores the hash of what is
-- judged and goes back to 'pending'; tenants and the demo see only approved, active entries.
-- The four seeded rows were written by the platform team with the catalog and stay approved.
ALTER TABLE archetypes ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE archetypes ADD COLUMN hash TEXT;
ALTER TABLE archetypes ADD COLUMN safety_status TEXT NOT NULL DEFAULT 'approved'
  CHECK (safety_status IN ('pending', 'approved', 'rejected', 'needs_review'));
ALTER TABLE archetypes ADD COLUMN updated_at INTEGER;
-- The persona builder's catalog (active and approved, in order); the safety backlog counts and
-- the 15-minute sweep that queues again what has been pending too long (by status, then age).
CREATE INDEX archetypes_offered ON archetypes (status, safety_status, sort_order);
CREATE INDEX archetypes_safety ON archetypes (safety_status, updated_at);
CREATE INDEX personas_safety ON personas (safety_status, updated_at);

-- The public demo (PRODUCT.md §5): which sample business it plays and its limits. One row; the
-- defaults are DEFAULT_DEMO_SETTINGS in packages/core/src/contracts/operator.ts.
CREATE TABLE demo_settings (
  id                   INTEGER PRIMARY KEY CHECK (id = 1),
  business             TEXT NOT NULL DEFAULT 'cafe' CHECK (business IN ('cafe', 'salon', 'bike-shop')),
  per_visitor_per_hour INTEGER NOT NULL DEFAULT 10 CHECK (per_visitor_per_hour BETWEEN 1 AND 1000),
  total_per_day        INTEGER NOT NULL DEFAULT 2000 CHECK (total_per_day BETWEEN 1 AND 1000000),
  max_chars            INTEGER NOT NULL DEFAULT 300 CHECK (max_chars BETWEEN 20 AND 2000),
  max_turns            INTEGER NOT NULL DEFAULT 3 CHECK (max_turns BETWEEN 1 AND 20),
  updated_at           INTEGER NOT NULL,
  -- The operator's email; NULL for the seeded defaults.
  updated_by           TEXT
);
INSERT INTO demo_settings (id, business, per_visitor_per_hour, total_per_day, max_chars, max_turns, updated_at, updated_by)
VALUES (1, 'cafe', 10, 2000, 300, 3, 0, NULL);

-- Each cron's last run (the pipeline's scheduled handler writes it), by cron expression.
CREATE TABLE cron_runs (
  name         TEXT PRIMARY KEY,
  last_run_at  INTEGER NOT NULL,
  ok           INTEGER NOT NULL CHECK (ok IN (0, 1))
);

-- Webhook traffic per channel in the last hour (the health page), without reading outbound rows.
CREATE INDEX messages_inbound_time ON messages (created_at, channel) WHERE direction = 'inbound';

-- Tenant search by a user's email: emails are stored as the provider gave them, so the search
-- compares lowercased, through this expression index.
CREATE INDEX users_email ON users (lower(email));

-- The operator's tenant page lists a tenant's newest credit lots (as the billing page does); the
-- only lot index was the partial spendable one, so both read every lot of every tenant.
CREATE INDEX credit_lots_tenant_time ON credit_lots (tenant_id, created_at);
