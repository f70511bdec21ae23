-- WhatsApp connection self-test: after connecting, the dashboard posts a signed test webhook
-- through meta-webhooks; the pipeline records its arrival. The token ties an arrival to one
-- attempt, so a replayed old test webhook cannot turn a fresh failure green.
ALTER TABLE channel_accounts ADD COLUMN self_test_token TEXT;
ALTER TABLE channel_accounts ADD COLUMN self_test_at INTEGER;
ALTER TABLE channel_accounts ADD COLUMN self_test_ok_at INTEGER;
-- A reason code (signature_refused, not_received, webhook_error, timeout, unreachable), never text.
ALTER TABLE channel_accounts ADD COLUMN self_test_error TEXT;
