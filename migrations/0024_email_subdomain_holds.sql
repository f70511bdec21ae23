-- Issue 17, item 7: a deleted email subdomain's name is held for 30 days. Mail sent to
-- anything@<name>.cncg.email (customers' replies, old signatures, password resets) must not reach
-- another business that claims the name the moment it is free. The tenant that deleted it may
-- take it back; nobody else may until `held_until`.
CREATE TABLE email_subdomain_holds (
  -- The label ("acme"), as email_subdomains.name.
  name        TEXT PRIMARY KEY,
  -- The tenant that may take the name back. NULL once that tenant is deleted itself: then nobody
  -- may until the hold ends (and the deleted tenant's id is kept nowhere). Not called tenant_id:
  -- the row is not the tenant's and outlives it (the tenant-deletion test lists tenant_id tables).
  held_for    TEXT,
  held_until  INTEGER NOT NULL
);
CREATE INDEX email_subdomain_holds_held_for ON email_subdomain_holds (held_for);
-- Ended holds are removed at the next deletion (packages/storage/src/email-subdomain-holds.ts).
CREATE INDEX email_subdomain_holds_until ON email_subdomain_holds (held_until);

-- The claim's check inside the INSERT itself, so a claim racing the deletion that writes the hold
-- cannot slip through between a check and the insert. "Now" is the row's own created_at, which
-- every insert sets to its clock. The pipeline turns this message into a form error.
CREATE TRIGGER email_subdomains_held BEFORE INSERT ON email_subdomains
WHEN EXISTS (
  SELECT 1 FROM email_subdomain_holds h
   WHERE h.name = NEW.name AND h.held_until > NEW.created_at
     AND (h.held_for IS NULL OR h.held_for <> NEW.tenant_id)
)
BEGIN
  SELECT RAISE(ABORT, 'email_subdomain_held');
END;
