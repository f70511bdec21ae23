import { AppError, TimeZoneSchema } from "@concierge/core";
import * as v from "valibot";
import { saveTenantFields, type VersionedSave } from "./settings.ts";
import { zoneOffset } from "./tenants.ts";

/** The locales and currencies a tenant can choose (each shipped locale has its Fluent folder). */
export const TENANT_LOCALES = ["en-IN", "en-US"] as const;
export const TENANT_CURRENCIES = ["INR", "USD"] as const;

export const TenantPreferencesSchema = v.object({
  locale: v.picklist(TENANT_LOCALES, "Choose en-IN or en-US."),
  currency: v.picklist(TENANT_CURRENCIES, "Choose INR or USD."),
  timeZone: TimeZoneSchema,
});
export type TenantPreferences = v.InferOutput<typeof TenantPreferencesSchema>;

export async function getTenantPreferences(
  db: D1Database,
  tenantId: string,
): Promise<TenantPreferences | null> {
  return db
    .prepare("SELECT locale, currency, time_zone AS timeZone FROM tenants WHERE id = ?")
    .bind(tenantId)
    .first<TenantPreferences>();
}

/**
 * The tenant's language and number format (locale), currency and time zone. Validated here
 * again; invalid input changes nothing. A changed time zone clears digest_next_at in the same
 * statement (as setTenantTimeZone does), so the digest's next boundary is worked out again in the
 * new zone instead of firing at the old zone's midnight. Returns false when there is no such tenant.
 */
export async function saveTenantPreferences(
  db: D1Database,
  tenantId: string,
  input: TenantPreferences,
  expected: number | null = null,
): Promise<VersionedSave> {
  const parsed = v.safeParse(TenantPreferencesSchema, input);
  if (!parsed.success) throw new AppError(400, "invalid_preferences", parsed.issues[0]!.message);
  const p = parsed.output;
  return saveTenantFields(
    db,
    tenantId,
    expected,
    `locale = ?3, currency = ?4,
     digest_next_at = CASE WHEN time_zone = ?5 THEN digest_next_at ELSE NULL END,
     time_zone = ?5, utc_offset_minutes = ?6`,
    [p.locale, p.currency, p.timeZone, zoneOffset(p.timeZone)],
  );
}
