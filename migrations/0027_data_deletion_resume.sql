-- Issue 17 items 6 and 13: Meta's data deletion request deletes what belongs to the person (the
-- Instagram accounts they connected and their data, their Facebook sign-in), never the business,
-- and it is resumable. The request row records its targets first, as internal ids only (tenant,
-- channel account and user ids, the Facebook Page id its unsubscribe names), never a name, an
-- address or the Facebook user id; the 15-minute cron resumes a request that was cut off.
ALTER TABLE data_deletions ADD COLUMN targets TEXT;
-- When a run first started on it: pending with started_at set reads "in progress".
ALTER TABLE data_deletions ADD COLUMN started_at INTEGER;
-- The cron's list of requests still to finish, oldest first.
CREATE INDEX data_deletions_pending ON data_deletions (requested_at) WHERE status = 'pending';
-- The cron's list of tenant deletions that stopped midway (tenants.deleting_at set, rows left).
CREATE INDEX tenants_deleting ON tenants (deleting_at) WHERE deleting_at IS NOT NULL;
