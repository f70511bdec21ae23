import { newId } from "@concierge/core";
import { describe, expect, it } from "vitest";
import { insertSession } from "../src/sessions.ts";
import { getSessionTenantSuspension } from "../src/tenant-status.ts";
import { insertUserIfAbsent } from "../src/users.ts";
import { db, newTenant } from "./fixtures.ts";
import { scansOf } from "./plans.ts";

/** A tenant with one person signed in: the session's token hash. */
async function signedIn(): Promise<{ tenantId: string; tokenHash: string }> {
  const tenant = await newTenant("Suspendable");
  const userId = newId("u");
  await insertUserIfAbsent(db(), {
    id: userId,
    tenantId: tenant.id,
    provider: "dev",
    subject: `${userId}@example.com`,
    email: `${userId}@example.com`,
    name: null,
    createdAt: 1,
  });
  const tokenHash = `h_${crypto.randomUUID()}`;
  await insertSession(db(), {
    tokenHash,
    userId,
    tenantId: tenant.id,
    csrfToken: "csrf",
    createdAt: 1,
    expiresAt: Date.now() + 60_000,
  });
  return { tenantId: tenant.id, tokenHash };
}

/** What the pipeline's suspension writes (migrations/0018_operator.sql's columns). */
const setStatus = (tenantId: string, status: string, reason: string | null, at: number | null) =>
  db()
    .prepare("UPDATE tenants SET status = ?, suspended_reason = ?, suspended_at = ? WHERE id = ?")
    .bind(status, reason, at, tenantId)
    .run();

describe("the signed-in tenant's suspension", () => {
  it("is null while the tenant is active, and the operator's reason and time while suspended", async () => {
    const { tenantId, tokenHash } = await signedIn();
    expect(await getSessionTenantSuspension(db(), tokenHash)).toBeNull();
    await setStatus(tenantId, "suspended", "Chargebacks under review", 1_700_000_000_000);
    expect(await getSessionTenantSuspension(db(), tokenHash)).toEqual({
      reason: "Chargebacks under review",
      at: 1_700_000_000_000,
    });
    await setStatus(tenantId, "active", null, null);
    expect(await getSessionTenantSuspension(db(), tokenHash)).toBeNull();
  });

  it("is null for a token hash with no session, and never another tenant's", async () => {
    const a = await signedIn();
    const b = await signedIn();
    await setStatus(a.tenantId, "suspended", "A's reason", 1);
    expect(await getSessionTenantSuspension(db(), "h_no_such_session")).toBeNull();
    expect(await getSessionTenantSuspension(db(), b.tokenHash)).toBeNull();
    expect(await getSessionTenantSuspension(db(), a.tokenHash)).toEqual({ reason: "A's reason", at: 1 });
  });

  it("is one lookup by primary key on sessions and tenants", async () => {
    const { tokenHash } = await signedIn();
    expect(await scansOf((d) => getSessionTenantSuspension(d, tokenHash))).toEqual([]);
  });
});
