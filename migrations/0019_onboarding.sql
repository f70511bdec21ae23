-- The onboarding wizard (/dashboard/wizard, PRODUCT.md §4), the tenant's time zone, how often it
-- is told about approvals and handoffs, and its summary digest.

-- An IANA zone name, checked by the dashboard and the pipeline (Intl knows it) before it is saved.
-- Tenants that existed before this default to India's, like their locale and currency.
ALTER TABLE tenants ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'Asia/Kolkata';
-- What kind of business this is: the wizard proposes starter reply rules for it.
ALTER TABLE tenants ADD COLUMN business_kind TEXT
  CHECK (business_kind IN ('cafe', 'restaurant', 'salon', 'clinic', 'shop', 'services', 'other'));
-- The wizard's progress: the last step completed (0 = none, 1..4), and when the tenant launched.
-- A tenant with launched_at set is never sent to the wizard again.
ALTER TABLE tenants ADD COLUMN wizard_step INTEGER NOT NULL DEFAULT 0 CHECK (wizard_step BETWEEN 0 AND 5);
ALTER TABLE tenants ADD COLUMN launched_at INTEGER;
-- Tenants from before the wizard are never forced through it.
UPDATE tenants SET launched_at = created_at, wizard_step = 5;

-- Approval and handoff notices: at once, or gathered and sent every 15 minutes, hourly or daily.
ALTER TABLE tenants ADD COLUMN notify_cadence TEXT NOT NULL DEFAULT 'instant'
  CHECK (notify_cadence IN ('instant', '15m', 'hourly', 'daily'));
-- The summary digest: off, daily or weekly, in the tenant's time zone. digest_next_at is the UTC
-- instant of the next period boundary (the moment the digest of the period before is due); NULL
-- means "work it out on the next cron run" (set whenever the cadence or the time zone changes).
ALTER TABLE tenants ADD COLUMN digest TEXT NOT NULL DEFAULT 'off' CHECK (digest IN ('off', 'daily', 'weekly'));
ALTER TABLE tenants ADD COLUMN digest_next_at INTEGER;
CREATE INDEX tenants_digest_due ON tenants (digest_next_at) WHERE digest <> 'off';

-- Notices waiting for the tenant's cadence: counts per kind and channel, never a customer's words.
-- One row per (tenant, kind, channel); a new notice adds to the count; the cron sends and deletes
-- rows whose due_at has passed.
CREATE TABLE notification_batches (
  tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  kind       TEXT NOT NULL CHECK (kind IN ('handoff', 'approval')),
  channel    TEXT NOT NULL,
  count      INTEGER NOT NULL CHECK (count > 0),
  first_at   INTEGER NOT NULL,
  due_at     INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, kind, channel)
);
CREATE INDEX notification_batches_due ON notification_batches (due_at);
