-- Issue 18: one D1 row less per message (two per reply). The index messages_tenant_time
-- (tenant_id, created_at) repeated the prefix of messages_account_time (tenant_id, account_id,
-- direction, created_at), and every message row wrote an entry in each. A tenant-wide read by time
-- now walks the tenant's accounts in messages_account_time (a recursive skip over its distinct
-- account ids, one index seek each: storage message-accounts.ts) and reads each account's range,
-- so it stays bounded by the tenant's own rows in the window, as before.
--
-- Deploy the code first: its statements work with or without the index, while the code before it
-- would read whole tenants for the inbox, the digest and the retention purge once it is gone.
DROP INDEX messages_tenant_time;
