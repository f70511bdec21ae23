-- Issue 19 item 8 (no lost updates): the tenant's settings forms (business, preferences,
-- retention, conversation settings, the low-balance threshold) and each account's reply rules
-- carry the version they were shown at, and the save statement itself refuses a stale one
-- (`... WHERE settings_version = ?`), as email routing does with routing_version. A check before
-- the statement would let two saves both pass it and the later one silently undo the earlier.
ALTER TABLE tenants ADD COLUMN settings_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE reply_configs ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
