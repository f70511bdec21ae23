-- Where the tenant is emailed about handoffs and a low balance (besides or instead of Discord).
ALTER TABLE tenants ADD COLUMN notify_email TEXT;
