-- The customer's WhatsApp Business Account a number came with (Embedded Signup): our app is
-- subscribed to its webhooks, and Meta's account-level notices name it. NULL for numbers in the
-- platform's own account (the manual fallback).
ALTER TABLE channel_accounts ADD COLUMN waba_id TEXT;
