import { newId } from "@concierge/core";
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

/**
 * The user for this identity, signing them up on first sight: a new tenant (created by the
 * pipeline, which holds the master key for its data key) and the user as its owner. `tenantId`
 * attaches a new identity to an existing tenant instead (the development sign-in's demo).
 */
export async function findOrCreateUser(
  db: D1Database,
  pipeline: Env["PIPELINE"],
  who: Identity,
  signup: { businessName: string; locale: "en-IN" | "en-US"; tenantId?: string },
): Promise<User> {
  const existing = await findUserByIdentity(db, who.provider, who.subject);
  if (existing) return existing;
  let tenantId = signup.tenantId;
  if (!tenantId) {
    const created = await pipeline.createTenant({ name: signup.businessName, locale: signup.locale });
    if (!created.ok) throw new Error(`tenant not created: ${created.error.code}`);
    tenantId = created.tenantId;
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
  return (await findUserByIdentity(db, who.provider, who.subject))!;
}
