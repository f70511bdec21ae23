/**
 * The onboarding wizard's state (migrations/0019_onboarding.sql): the business basics it asks
 * first, how far the tenant got, and whether it has launched. The wizard is resumable because
 * every step is saved here as it is completed; a launched tenant is never sent to it again.
 */
import {
  AppError,
  BUSINESS_KINDS,
  type BusinessKind,
  type DigestCadence,
  type NotifyCadence,
  TimeZoneSchema,
} from "@concierge/core";
import * as v from "valibot";
import { zoneOffset } from "./tenants.ts";
import { TENANT_CURRENCIES, TENANT_LOCALES } from "./preferences.ts";
import { saveTenantFields, type VersionedSave } from "./settings.ts";

export type Onboarding = {
  name: string;
  businessKind: BusinessKind | null;
  locale: (typeof TENANT_LOCALES)[number];
  currency: (typeof TENANT_CURRENCIES)[number];
  timeZone: string;
  /** The last step completed: 0 (none) to 4; 5 once launched. */
  wizardStep: number;
  launchedAt: number | null;
  notifyCadence: NotifyCadence;
  digest: DigestCadence;
};

export async function getOnboarding(db: D1Database, tenantId: string): Promise<Onboarding | null> {
  return db
    .prepare(
      `SELECT name, business_kind AS businessKind, locale, currency, time_zone AS timeZone,
              wizard_step AS wizardStep, launched_at AS launchedAt, notify_cadence AS notifyCadence,
              digest
         FROM tenants WHERE id = ?`,
    )
    .bind(tenantId)
    .first<Onboarding>();
}

/** Step 1's answers. Validated here again: invalid input changes nothing. */
export const BusinessBasicsSchema = v.object({
  name: v.pipe(
    v.string(),
    v.trim(),
    v.minLength(1, "Give a name."),
    v.maxLength(80, "At most 80 characters."),
  ),
  businessKind: v.picklist(BUSINESS_KINDS, "Choose a kind of business."),
  locale: v.picklist(TENANT_LOCALES, "Choose en-IN or en-US."),
  currency: v.picklist(TENANT_CURRENCIES, "Choose INR or USD."),
  timeZone: TimeZoneSchema,
});
export type BusinessBasics = v.InferOutput<typeof BusinessBasicsSchema>;

/**
 * Saves step 1 and marks it completed (the furthest step never goes back). A changed time zone
 * clears digest_next_at, so the digest's next boundary is worked out again in the new zone.
 * Returns false when there is no such tenant.
 */
export async function saveBusinessBasics(
  db: D1Database,
  tenantId: string,
  input: BusinessBasics,
): Promise<boolean> {
  const parsed = v.safeParse(BusinessBasicsSchema, input);
  if (!parsed.success) throw new AppError(400, "invalid_basics", parsed.issues[0]!.message);
  const b = parsed.output;
  const res = await db
    .prepare(
      `UPDATE tenants SET name = ?, business_kind = ?, locale = ?, currency = ?,
              digest_next_at = CASE WHEN time_zone = ? THEN digest_next_at ELSE NULL END,
              time_zone = ?, utc_offset_minutes = ?, wizard_step = MAX(wizard_step, 1),
              -- The settings page edits these fields too: a page open meanwhile is now stale.
              settings_version = settings_version + 1
        WHERE id = ?`,
    )
    .bind(
      b.name,
      b.businessKind,
      b.locale,
      b.currency,
      b.timeZone,
      b.timeZone,
      zoneOffset(b.timeZone),
      tenantId,
    )
    .run();
  return res.meta.changes > 0;
}

/** Marks wizard step `step` (1..4) completed; completing an earlier step again changes nothing. */
export async function completeWizardStep(db: D1Database, tenantId: string, step: number): Promise<void> {
  if (!Number.isInteger(step) || step < 1 || step > 4) throw new Error(`bad wizard step ${step}`);
  await db
    .prepare("UPDATE tenants SET wizard_step = MAX(wizard_step, ?) WHERE id = ?")
    .bind(step, tenantId)
    .run();
}

/** Launch: the wizard is done. Only the first launch counts (a second one changes nothing). */
export async function launchTenant(db: D1Database, tenantId: string, now: number): Promise<boolean> {
  const res = await db
    .prepare("UPDATE tenants SET launched_at = ?, wizard_step = 5 WHERE id = ? AND launched_at IS NULL")
    .bind(now, tenantId)
    .run();
  return res.meta.changes > 0;
}

/** The tenant's time zone on its own (settings, insights). */
export async function setTenantTimeZone(
  db: D1Database,
  tenantId: string,
  timeZone: string,
): Promise<boolean> {
  const parsed = v.safeParse(TimeZoneSchema, timeZone);
  if (!parsed.success) throw new AppError(400, "invalid_time_zone", parsed.issues[0]!.message);
  const res = await db
    .prepare(
      `UPDATE tenants SET digest_next_at = CASE WHEN time_zone = ?1 THEN digest_next_at ELSE NULL END,
              time_zone = ?1, utc_offset_minutes = ?3, settings_version = settings_version + 1 WHERE id = ?2`,
    )
    .bind(parsed.output, tenantId, zoneOffset(parsed.output))
    .run();
  return res.meta.changes > 0;
}

export const BusinessProfileSchema = v.object({
  name: BusinessBasicsSchema.entries.name,
  businessKind: BusinessBasicsSchema.entries.businessKind,
});
export type BusinessProfile = v.InferOutput<typeof BusinessProfileSchema>;

/** The business's name and kind, changed in settings after the wizard. False: no such tenant. */
export async function saveBusinessProfile(
  db: D1Database,
  tenantId: string,
  input: BusinessProfile,
  expected: number | null = null,
): Promise<VersionedSave> {
  const parsed = v.safeParse(BusinessProfileSchema, input);
  if (!parsed.success) throw new AppError(400, "invalid_business", parsed.issues[0]!.message);
  return saveTenantFields(db, tenantId, expected, "name = ?3, business_kind = ?4", [
    parsed.output.name,
    parsed.output.businessKind,
  ]);
}
