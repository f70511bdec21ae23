-- Prepaid reply credits. A lot is one purchase or grant; the ledger is every change, each with a
-- reference unique per tenant, so a replayed payment, a retried debit or a double restore can
-- never apply twice. The trigger is the only thing that moves a lot's balance: every change is a
-- ledger row, and every debit is one conditional INSERT (never read-then-write).

CREATE TABLE credit_lots (
  id          TEXT PRIMARY KEY,
  tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  source      TEXT NOT NULL CHECK (source IN ('purchase', 'grant')),
  granted     INTEGER NOT NULL CHECK (granted > 0),
  remaining   INTEGER NOT NULL DEFAULT 0 CHECK (remaining >= 0 AND remaining <= granted),
  -- NULL: never expires (purchased credits); operator grants may expire.
  expires_at  INTEGER,
  created_at  INTEGER NOT NULL
);
CREATE INDEX credit_lots_spendable ON credit_lots (tenant_id, expires_at) WHERE remaining > 0;

CREATE TABLE credit_ledger (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  lot_id      TEXT NOT NULL REFERENCES credit_lots (id) ON DELETE CASCADE,
  delta       INTEGER NOT NULL CHECK (delta <> 0),
  reason      TEXT NOT NULL CHECK (reason IN ('purchase', 'grant', 'ai_reply', 'restore')),
  reference   TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  UNIQUE (tenant_id, reference)
);

CREATE TRIGGER credit_ledger_applies AFTER INSERT ON credit_ledger
BEGIN
  UPDATE credit_lots SET remaining = remaining + NEW.delta WHERE id = NEW.lot_id;
END;

ALTER TABLE tenants ADD COLUMN low_balance_threshold INTEGER NOT NULL DEFAULT 20 CHECK (low_balance_threshold >= 0);
