/**
 * The onboarding wizard's vocabulary (/dashboard/wizard, PRODUCT.md §4), shared by the dashboard
 * (which shows and validates it), the pipeline (notices, the digest) and storage (which keeps it):
 * kinds of business, notice cadences, digest cadences and time zones.
 */
import * as v from "valibot";

/** The kinds of business the wizard offers; each has its own starter reply rules. */
export const BUSINESS_KINDS = ["cafe", "restaurant", "salon", "clinic", "shop", "services", "other"] as const;
export type BusinessKind = (typeof BUSINESS_KINDS)[number];

/** How approval and handoff notices reach the tenant: at once, or gathered per period. */
export const NOTIFY_CADENCES = ["instant", "15m", "hourly", "daily"] as const;
export type NotifyCadence = (typeof NOTIFY_CADENCES)[number];

/** How often the summary digest goes out (in the tenant's time zone). */
export const DIGEST_CADENCES = ["off", "daily", "weekly"] as const;
export type DigestCadence = (typeof DIGEST_CADENCES)[number];

/** The wizard's steps, in order; `wizard_step` in D1 is the number of the last one completed. */
export const WIZARD_STEPS = ["basics", "channels", "notifications", "replies", "launch"] as const;
export type WizardStep = (typeof WIZARD_STEPS)[number];

/** The time zone a tenant starts with when nothing better is known (its locale's country). */
export const DEFAULT_TIME_ZONE: Record<"en-IN" | "en-US", string> = {
  "en-IN": "Asia/Kolkata",
  "en-US": "America/New_York",
};

/**
 * Whether `tz` is an IANA time zone this runtime knows (Intl throws a RangeError on any other).
 * Offsets ("+05:30") and abbreviations ("IST") are refused: they do not follow daylight saving.
 */
export function isTimeZone(tz: string): boolean {
  // IANA's own spelling only: every part starts with a capital ("America/Port-au-Prince"). Intl
  // also takes "asia/kolkata", which would be stored as typed, differ from the same zone spelled
  // right, and grow every per-zone cache.
  if (tz.length > 64 || (tz !== "UTC" && !/^[A-Z][A-Za-z0-9_+-]*(?:\/[A-Z][A-Za-z0-9_+-]*){1,2}$/.test(tz)))
    return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const TimeZoneSchema = v.pipe(
  v.string(),
  v.trim(),
  v.check(isTimeZone, "Choose a time zone from the list, such as Asia/Kolkata."),
);
