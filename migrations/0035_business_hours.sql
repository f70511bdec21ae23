-- Issue 19 item 3: the tenant's business hours, a weekly schedule in its time zone with holidays
-- (packages/rules/src/hours.ts, validated on the way in). NULL: none set, always open. What each
-- channel does outside them is in its reply config (`outside_hours`).
ALTER TABLE tenants ADD COLUMN business_hours TEXT;
