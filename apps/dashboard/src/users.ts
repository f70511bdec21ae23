import { newId } from "@concierge/core";

export type Identity = {
  provider: "google" | "facebook" | "dev";
  subject: string;
  email: string | null;
  name: string | null;
};

export type User = { id: string; tenantId: string };

export async function findUser(db: D1Database, who: Identity): Promise<User | null> {
  return db
    .prepare("SELECT id, tenant_id AS tenantId FROM users WHERE provider = ? AND subject = ?")
    .bind(who.provider, who.subject)
    .first<User>();
}

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
  const existing = await findUser(db, who);
  if (existing) return existing;
  let tenantId = signup.tenantId;
  if (!tenantId) {
    const created = await pipeline.createTenant({ name: signup.businessName, locale: signup.locale });
    if (!created.ok) throw new Error(`tenant not created: ${created.error.code}`);
    tenantId = created.tenantId;
  }
  const id = newId("u");
  // Two sign-ins racing for the same new identity: the UNIQUE constraint keeps one user.
  await db
    .prepare(
      `INSERT INTO users (id, tenant_id, provider, subject, email, name, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (provider, subject) DO NOTHING`,
    )
    .bind(id, tenantId, who.provider, who.subject, who.email, who.name, Date.now())
    .run();
  return (await findUser(db, who))!;
}
