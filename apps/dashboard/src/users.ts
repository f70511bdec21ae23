import { DEFAULT_TIME_ZONE, isTimeZone, newId } from "@concierge/core";
import {
  findUserByIdentity,
  insertUserIfAbsent,
  type SignInProvider,
  type UserRow,
} from "@concierge/storage";

export type Identity = {
  provider: SignInProvider;
  subject: string;
  email: string | null;
  name: string | null;
};

export type User = UserRow;

export type SignupDefaults = { locale: "en-IN" | "en-US"; currency: "INR" | "USD"; timeZone: string };

/**
 * A new tenant's starting preferences, from the browser: its negotiated locale, that locale's
 * currency, and the time zone Cloudflare located the request in (request.cf.timezone) when it is
 * a real IANA zone, else the locale's country's. Step 1 of the wizard shows all three to confirm.
 */
export function signupDefaults(locale: string, cfTimeZone: unknown): SignupDefaults {
  const l = locale === "en-US" ? "en-US" : "en-IN";
  const timeZone =
    typeof cfTimeZone === "string" && isTimeZone(cfTimeZone) ? cfTimeZone : DEFAULT_TIME_ZONE[l];
  return { locale: l, currency: l === "en-US" ? "USD" : "INR", timeZone };
}

/**
 * The user for this identity, signing them up on first sight: a new tenant (created by the
 * pipeline, which holds the master key for its data key) and the user as its owner. `tenantId`
 * attaches a new identity to an existing tenant instead (the development sign-in's demo).
 * `createdTenant` says whether this call made the tenant (its owner then starts the wizard).
 */
export async function findOrCreateUser(
  db: D1Database,
  pipeline: Env["PIPELINE"],
  who: Identity,
  signup: SignupDefaults & { businessName: string; tenantId?: string },
): Promise<{ user: User; createdTenant: boolean }> {
  const existing = await findUserByIdentity(db, who.provider, who.subject);
  if (existing) return { user: existing, createdTenant: false };
  let tenantId = signup.tenantId;
  let made: string | null = null;
  if (!tenantId) {
    const created = await pipeline.createTenant({
      name: signup.businessName,
      locale: signup.locale,
      currency: signup.currency,
      timeZone: signup.timeZone,
    });
    if (!created.ok) throw new Error(`tenant not created: ${created.error.code}`);
    tenantId = created.tenantId;
    made = tenantId;
  }
  // Two sign-ins racing for the same new identity: the UNIQUE constraint keeps one user, which
  // both then read back.
  await insertUserIfAbsent(db, {
    id: newId("u"),
    tenantId,
    provider: who.provider,
    subject: who.subject,
    email: who.email,
    name: who.name,
    createdAt: Date.now(),
  });
  const user = (await findUserByIdentity(db, who.provider, who.subject))!;
  // A racing sign-in that won the insert owns its own tenant; this one's stays unused.
  return { user, createdTenant: made !== null && user.tenantId === made };
}
