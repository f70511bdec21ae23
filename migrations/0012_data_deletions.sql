-- Data deletion requests from Meta (the app's data deletion callback). Only the confirmation
-- code and the outcome are kept: nothing that identifies the person or the deleted tenant.
CREATE TABLE data_deletions (
  code          TEXT PRIMARY KEY,
  status        TEXT NOT NULL CHECK (status IN ('pending', 'completed', 'nothing_found', 'failed')),
  requested_at  INTEGER NOT NULL,
  completed_at  INTEGER
);
