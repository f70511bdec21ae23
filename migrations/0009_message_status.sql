-- WhatsApp receive, complete: what kind of message arrived, and how far each of our sends got.
-- Still metadata only: never the text, the caption, the media id or the provider's error message.

-- Inbound: text, media, interactive, location, contacts or unsupported, and whether a file came.
-- NULL on rows written before this migration.
ALTER TABLE messages ADD COLUMN kind TEXT;
ALTER TABLE messages ADD COLUMN has_attachment INTEGER CHECK (has_attachment IN (0, 1));

-- Outbound: the provider's latest delivery status. It only moves forward (sent → delivered →
-- read), whatever order the webhooks arrive in; failed is terminal and keeps the provider's error
-- code and short title (`status_error_*`: a failure Meta reported after accepting the send, as
-- opposed to a send the Graph API refused outright).
ALTER TABLE messages ADD COLUMN status TEXT CHECK (status IN ('sent', 'delivered', 'read', 'failed'));
ALTER TABLE messages ADD COLUMN status_at INTEGER;
ALTER TABLE messages ADD COLUMN status_error_code INTEGER;
ALTER TABLE messages ADD COLUMN status_error_title TEXT;
