-- The tenant-wide AI persona and its safety verdict. A verdict belongs to one exact persona
-- (its hash): any change goes back to 'pending' until the classifier approves the new text.
CREATE TABLE personas (
  tenant_id      TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
  persona_json   TEXT NOT NULL,
  hash           TEXT NOT NULL,
  safety_status  TEXT NOT NULL DEFAULT 'pending'
                 CHECK (safety_status IN ('pending', 'approved', 'rejected', 'needs_review')),
  safety_reason  TEXT,
  updated_at     INTEGER NOT NULL
);
