-- Money (PRODUCT.md §7): prices as data (credit packs, the email-subdomain plan, trial credits),
-- the orders our server creates, Razorpay's payments, refunds and subscriptions, the webhook
-- event ids that make delivery idempotent, and the billing details printed on receipts.
-- Amounts are integers in the currency's minor unit (paise, cents), as Razorpay sends them.
-- Times are Unix milliseconds, as everywhere else in D1.

-- D1 enforces foreign keys in every migration (it runs each one as one transaction, like
-- PRAGMA foreign_keys = on). Rebuilding credit_ledger below drops and renames a table; deferring
-- the checks to the end of this migration's transaction is what D1's foreign-key docs prescribe
-- for schema changes (https://developers.cloudflare.com/d1/sql-api/foreign-keys/). Every
-- constraint is still checked at commit, so nothing invalid can be left behind.
PRAGMA defer_foreign_keys = on;

-- Credit packs, as priced now. An order copies credits and amount from its pack when it is
-- created, so editing a pack (the /manage panel) never changes a past order or what it grants.
CREATE TABLE credit_packs (
  id          TEXT PRIMARY KEY,
  currency    TEXT NOT NULL CHECK (currency IN ('INR', 'USD')),
  credits     INTEGER NOT NULL CHECK (credits > 0),
  -- Razorpay's minimum is 100 subunits (₹1.00, and $1.00 for USD).
  amount      INTEGER NOT NULL CHECK (amount >= 100),
  active      INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  sort        INTEGER NOT NULL DEFAULT 0,
  updated_at  INTEGER NOT NULL
);
-- The billing page lists the active packs of the tenant's currency, in order.
CREATE INDEX credit_packs_offered ON credit_packs (currency, active, sort);

INSERT INTO credit_packs (id, currency, credits, amount, active, sort, updated_at) VALUES
  ('inr-100', 'INR', 100, 49900, 1, 1, 0),
  ('inr-500', 'INR', 500, 199900, 1, 2, 0),
  ('inr-2000', 'INR', 2000, 699900, 1, 3, 0),
  ('usd-100', 'USD', 100, 900, 1, 1, 0),
  ('usd-500', 'USD', 500, 2900, 1, 2, 0),
  ('usd-2000', 'USD', 2000, 9900, 1, 3, 0);

-- The email-subdomain plan: the monthly price of one subdomain beyond the free quota. Razorpay
-- plans are immutable, so the plan is created at Razorpay on first use (POST /v1/plans) and its
-- id kept here; a price change clears it, so the next subscription gets a new plan at the new
-- price while existing subscriptions keep theirs.
CREATE TABLE subdomain_plans (
  currency          TEXT PRIMARY KEY CHECK (currency IN ('INR', 'USD')),
  amount            INTEGER NOT NULL CHECK (amount >= 100),
  razorpay_plan_id  TEXT,
  updated_at        INTEGER NOT NULL
);
INSERT INTO subdomain_plans (currency, amount, razorpay_plan_id, updated_at) VALUES
  ('INR', 49900, NULL, 0),
  ('USD', 900, NULL, 0);

-- Trial credits: one row. Every new tenant gets `credits` expiring after `days`, once
-- (a `grant` lot whose ledger reference is `trial`). 0 credits turns the trial off.
CREATE TABLE trial_credits (
  id          INTEGER PRIMARY KEY CHECK (id = 1),
  credits     INTEGER NOT NULL DEFAULT 50 CHECK (credits >= 0),
  days        INTEGER NOT NULL DEFAULT 30 CHECK (days BETWEEN 1 AND 3650),
  updated_at  INTEGER NOT NULL
);
INSERT INTO trial_credits (id, credits, days, updated_at) VALUES (1, 50, 30, 0);

-- Orders our server created (id 'ord_…'), each at Razorpay too (razorpay_order_id). Credits,
-- amount and currency are copied from the pack at creation: a payment grants exactly these, never
-- what the browser or a webhook's notes say. No foreign key to credit_packs: a pack may change or
-- go, its orders stay as they were.
CREATE TABLE orders (
  id                 TEXT PRIMARY KEY,
  tenant_id          TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  pack_id            TEXT NOT NULL,
  credits            INTEGER NOT NULL CHECK (credits > 0),
  amount             INTEGER NOT NULL CHECK (amount >= 100),
  currency           TEXT NOT NULL CHECK (currency IN ('INR', 'USD')),
  -- UNIQUE: the webhook and the Checkout callback find the order by it.
  razorpay_order_id  TEXT UNIQUE,
  -- failed: a payment attempt failed; a later capture (a UPI retry) still makes it paid.
  status             TEXT NOT NULL DEFAULT 'created' CHECK (status IN ('created', 'paid', 'failed')),
  created_at         INTEGER NOT NULL,
  updated_at         INTEGER NOT NULL
);
-- The tenant's orders, newest first (and tenant deletion). `id` breaks ties in the same order.
CREATE INDEX orders_tenant_time ON orders (tenant_id, created_at, id);

-- Payments as Razorpay names them (id 'pay_…'): PRIMARY KEY makes each recorded once, whether the
-- Checkout callback or any copy of the webhook gets there first. A credit pack's payment names
-- our order; a subscription's names the subscription. Status only moves forward: failed →
-- captured → partially_refunded → refunded.
CREATE TABLE payments (
  id                  TEXT PRIMARY KEY,
  tenant_id           TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  order_id            TEXT,
  subscription_id     TEXT,
  kind                TEXT NOT NULL CHECK (kind IN ('credits', 'subscription')),
  -- The credits this payment granted (0 for a subscription charge).
  credits             INTEGER NOT NULL DEFAULT 0 CHECK (credits >= 0),
  amount              INTEGER NOT NULL CHECK (amount > 0),
  currency            TEXT NOT NULL CHECK (currency IN ('INR', 'USD')),
  status              TEXT NOT NULL CHECK (status IN ('captured', 'failed', 'refunded', 'partially_refunded')),
  -- card, upi, netbanking, wallet, emi: what the receipt says was used.
  method              TEXT,
  amount_refunded     INTEGER NOT NULL DEFAULT 0 CHECK (amount_refunded >= 0 AND amount_refunded <= amount),
  -- What refunds took back of `credits` (never more than was unspent).
  credits_taken_back  INTEGER NOT NULL DEFAULT 0 CHECK (credits_taken_back >= 0 AND credits_taken_back <= credits),
  created_at          INTEGER NOT NULL,
  updated_at          INTEGER NOT NULL
);
-- The payments page, newest first (and tenant deletion).
CREATE INDEX payments_tenant_time ON payments (tenant_id, created_at, id);

-- Refunds (id 'rfnd_…'): PRIMARY KEY makes each apply once. What it took back is also a ledger
-- row (reason 'refund', reference = the refund id).
CREATE TABLE refunds (
  id                  TEXT PRIMARY KEY,
  tenant_id           TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  payment_id          TEXT NOT NULL,
  amount              INTEGER NOT NULL CHECK (amount > 0),
  credits_taken_back  INTEGER NOT NULL DEFAULT 0 CHECK (credits_taken_back >= 0),
  created_at          INTEGER NOT NULL
);
-- A payment's refunds (receipts) and tenant deletion.
CREATE INDEX refunds_tenant_payment ON refunds (tenant_id, payment_id);

-- The email-subdomain subscription (id 'sub_…'): `quantity` subdomains beyond the free quota.
-- Webhooks arrive in any order, so `updated_at` is the time of the event that set `status`: an
-- older event never overwrites a newer state.
CREATE TABLE subscriptions (
  id           TEXT PRIMARY KEY,
  tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  status       TEXT NOT NULL CHECK (status IN ('created', 'authenticated', 'active', 'pending', 'halted',
                                               'cancelled', 'completed', 'expired', 'paused')),
  quantity     INTEGER NOT NULL CHECK (quantity > 0),
  -- Per cycle, for all of `quantity`, at the plan's price when the subscription was created.
  amount       INTEGER NOT NULL CHECK (amount > 0),
  currency     TEXT NOT NULL CHECK (currency IN ('INR', 'USD')),
  current_end  INTEGER,
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL
);
-- The tenant's current subscription (and tenant deletion).
CREATE INDEX subscriptions_tenant ON subscriptions (tenant_id, updated_at);

-- Razorpay delivers webhooks at least once: X-Razorpay-Event-Id seen before is a duplicate. Kept
-- 30 days (Razorpay retries for 24 h and replays up to 7 days), then purged daily.
CREATE TABLE webhook_events (
  id           TEXT PRIMARY KEY,
  event        TEXT NOT NULL,
  received_at  INTEGER NOT NULL
);
CREATE INDEX webhook_events_received ON webhook_events (received_at);

-- Printed on every receipt; entered once in settings. GSTIN is optional (not every tenant is
-- registered for GST, and tenants outside India have none).
CREATE TABLE tenant_billing_details (
  tenant_id   TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
  legal_name  TEXT NOT NULL,
  address     TEXT NOT NULL,
  gstin       TEXT,
  updated_at  INTEGER NOT NULL
);

-- 1: a subdomain beyond the tenant's free quota, paid for by the subscription. Its automatic
-- replies and forwards work only while a subscription covers it; mail is accepted regardless.
ALTER TABLE email_subdomains ADD COLUMN paid INTEGER NOT NULL DEFAULT 0 CHECK (paid IN (0, 1));
-- Creating a subdomain (free or paid) inserts its channel account with INSERT … SELECT, and
-- SQLite then checks email_aliases.account_id (a foreign key to channel_accounts) for it; without
-- an index that check scanned every alias of every tenant, as did deleting an account.
CREATE INDEX email_aliases_account ON email_aliases (account_id);

-- The ledger gains reason 'refund' (a refund takes back unspent credits). SQLite cannot alter a
-- CHECK constraint, so the table is rebuilt: same columns and constraints, every row copied with
-- its id (the ledger page's cursor; AUTOINCREMENT continues after the highest copied id), the old
-- table dropped (its trigger goes with it), the new one renamed, and the trigger recreated
-- exactly as 0002 made it. The trigger fires on INSERT only, so copying the rows moves no balance.
CREATE TABLE credit_ledger_new (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  lot_id      TEXT NOT NULL REFERENCES credit_lots (id) ON DELETE CASCADE,
  delta       INTEGER NOT NULL CHECK (delta <> 0),
  reason      TEXT NOT NULL CHECK (reason IN ('purchase', 'grant', 'ai_reply', 'restore', 'refund')),
  reference   TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  UNIQUE (tenant_id, reference)
);
INSERT INTO credit_ledger_new (id, tenant_id, lot_id, delta, reason, reference, created_at)
SELECT id, tenant_id, lot_id, delta, reason, reference, created_at FROM credit_ledger;
DROP TABLE credit_ledger;
ALTER TABLE credit_ledger_new RENAME TO credit_ledger;
-- New with the rebuild: lot_id is a foreign key to credit_lots, and SQLite checks a parent's
-- children through it (deleting a lot, inserting a lot with INSERT … SELECT); without an index
-- every such check scanned the whole ledger.
CREATE INDEX credit_ledger_lot ON credit_ledger (lot_id);

CREATE TRIGGER credit_ledger_applies AFTER INSERT ON credit_ledger
BEGIN
  UPDATE credit_lots SET remaining = remaining + NEW.delta WHERE id = NEW.lot_id;
END;

PRAGMA defer_foreign_keys = off;
