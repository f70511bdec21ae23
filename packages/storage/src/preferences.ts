import { AppError } from "@concierge/core";
import * as v from "valibot";

/** The locales and currencies a tenant can choose (each shipped locale has its Fluent folder). */
export const TENANT_LOCALES = ["en-IN", "en-US"] as const;
export const TENANT_CURRENCIES = ["INR", "USD"] as const;

export const TenantPreferencesSchema = v.object({
  locale: v.picklist(TENANT_LOCALES, "Choose en-IN or en-US."),
  currency: v.picklist(TENANT_CURRENCIES, "Choose INR or USD."),
});
export type TenantPreferences = v.InferOutput<typeof TenantPreferencesSchema>;

export async function getTenantPreferences(
  db: D1Database,
  tenantId: string,
): Promise<TenantPreferences | null> {
  return db
    .prepare("SELECT locale, currency FROM tenants WHERE id = ?")
    .bind(tenantId)
    .first<TenantPreferences>();
}

/**
 * The tenant's language and number format (locale) and currency. Validated here again; invalid
 * input changes nothing. Returns false when there is no such tenant.
 */
export async function saveTenantPreferences(
  db: D1Database,
  tenantId: string,
  input: TenantPreferences,
): Promise<boolean> {
  const parsed = v.safeParse(TenantPreferencesSchema, input);
  if (!parsed.success) throw new AppError(400, "invalid_preferences", parsed.issues[0]!.message);
  const res = await db
    .prepare("UPDATE tenants SET locale = ?, currency = ? WHERE id = ?")
    .bind(parsed.output.locale, parsed.output.currency, tenantId)
    .run();
  return res.meta.changes > 0;
}
