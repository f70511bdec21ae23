-- Conversation settings per tenant (PRODUCT.md §3 defaults) and where the tenant is told about
-- handoffs and a low balance.
ALTER TABLE tenants ADD COLUMN idle_gap_minutes INTEGER NOT NULL DEFAULT 360 CHECK (idle_gap_minutes BETWEEN 30 AND 10080);
ALTER TABLE tenants ADD COLUMN handoff_cooldown_minutes INTEGER NOT NULL DEFAULT 60 CHECK (handoff_cooldown_minutes BETWEEN 5 AND 1440);
ALTER TABLE tenants ADD COLUMN history_turns INTEGER NOT NULL DEFAULT 20 CHECK (history_turns BETWEEN 1 AND 50);
ALTER TABLE tenants ADD COLUMN default_wait_seconds INTEGER NOT NULL DEFAULT 5 CHECK (default_wait_seconds BETWEEN 0 AND 30);
ALTER TABLE tenants ADD COLUMN notify_discord_channel_id TEXT;
