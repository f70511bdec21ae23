-- A reply the Graph API refused outright (a permanent error, retries used up, or outside
-- WhatsApp's 24-hour window): Meta's error code, so the tenant sees why. Null for everything else.
-- Failures Meta reports later by webhook, after accepting a send, are `status_error_code`.
ALTER TABLE messages ADD COLUMN error_code INTEGER;
