-- AI drafts held for a person's approval. The index only: the draft's text lives encrypted in
-- the conversation's Durable Object until it is decided or expires.
CREATE TABLE approvals (
  id            TEXT PRIMARY KEY,
  tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  account_id    TEXT NOT NULL,
  thread_key    TEXT NOT NULL,
  conversation_id TEXT,
  rule_id       TEXT,
  credit_ref    TEXT NOT NULL,
  reasons       TEXT NOT NULL,
  status        TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'sending', 'sent', 'rejected', 'expired', 'failed')),
  created_at    INTEGER NOT NULL,
  expires_at    INTEGER NOT NULL,
  decided_at    INTEGER,
  decided_by    TEXT
);
CREATE INDEX approvals_pending ON approvals (tenant_id, status, created_at);
CREATE INDEX approvals_expiry ON approvals (status, expires_at);
