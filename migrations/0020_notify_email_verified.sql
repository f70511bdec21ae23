-- A tenant's notify_email must be one of its verified forward addresses (saveNotificationPrefs
-- checks it when it is set). Deleting the address did not clear it, so a notify_email could point
-- at an address that is gone, or that was deleted and added again unverified: such values are
-- cleared. From now on deleteForwardAddressRow clears it in the same batch as the delete.
UPDATE tenants SET notify_email = NULL
 WHERE notify_email IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM email_forward_addresses f
                    WHERE f.tenant_id = tenants.id
                      AND f.address = lower(tenants.notify_email)
                      AND f.verified_at IS NOT NULL);
