import { importMasterKey, unwrapDataKey } from "@concierge/crypto";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { keyRotationAuditStatement, listAudit } from "../src/audit-log.ts";
import {
  createTenant,
  getTenant,
  getWrappedTenantKey,
  getWrappedTenantKeys,
  markTenantDeletingStatement,
  newTenantDataKey,
  rotateTenantKeyStatement,
} from "../src/tenants.ts";
import { db, MASTER_KEY, newTenant, scalar } from "./fixtures.ts";

/** Rotates the tenant's key as the operator does: the insert and its audit row in one batch. */
async function rotate(tenantId: string, operatorEmail = "ops@example.test"): Promise<number | null> {
  const wrapped = await newTenantDataKey(MASTER_KEY, tenantId);
  const [insert] = await env.DB.batch([
    rotateTenantKeyStatement(db(), tenantId, wrapped, 1),
    keyRotationAuditStatement(db(), { at: 1, operatorEmail, tenantId }),
  ]);
  return (insert?.results[0] as { version: number } | undefined)?.version ?? null;
}

describe("tenants", () => {
  it("creates the tenant with defaults and a data key that unwraps under the master key for this tenant only", async () => {
    const t = await createTenant(db(), MASTER_KEY, { name: "Chai & Co." });
    expect(t).toMatchObject({ name: "Chai & Co.", locale: "en-IN", status: "active", currency: "INR" });
    expect(await getTenant(db(), t.id)).toEqual({
      id: t.id,
      name: "Chai & Co.",
      locale: "en-IN",
      status: "active",
    });
    const key = await getWrappedTenantKey(db(), t.id);
    expect(key?.version).toBe(1);
    const master = await importMasterKey(MASTER_KEY);
    await expect(unwrapDataKey(master, key!.wrapped, t.id)).resolves.toBeDefined();
    // The wrapped key is bound to its tenant.
    await expect(unwrapDataKey(master, key!.wrapped, "t_someone_else")).rejects.toThrow();
  });

  it("a tenant never exists without a key: when the key insert fails, no tenant row is left", async () => {
    const id = `t_failkey_${crypto.randomUUID().slice(0, 8)}`;
    // Make only this tenant's key insert fail, after its tenant INSERT has run in the same batch.
    await env.DB.exec(
      `CREATE TRIGGER fail_key BEFORE INSERT ON tenant_keys WHEN NEW.tenant_id = '${id}' BEGIN SELECT RAISE(ABORT, 'no key'); END`,
    );
    try {
      await expect(createTenant(db(), MASTER_KEY, { id, name: "Half made" })).rejects.toThrow(/no key/);
    } finally {
      await env.DB.exec("DROP TRIGGER fail_key");
    }
    expect(await getTenant(db(), id)).toBeNull();
    expect(await scalar("SELECT COUNT(*) FROM tenant_keys WHERE tenant_id = ?", id)).toBe(0);
  });

  it("rotation adds the next version; every version stays listed so old ciphertext still opens", async () => {
    const t = await newTenant();
    expect(await rotate(t.id)).toBe(2);
    expect(await rotate(t.id)).toBe(3);
    expect((await getWrappedTenantKeys(db(), t.id)).map((k) => k.version)).toEqual([1, 2, 3]);
    expect((await getWrappedTenantKey(db(), t.id))?.version).toBe(3);
    // Each audit row names the version its own insert took, read in the batch after the insert.
    const audit = await listAudit(db(), { tenantId: t.id });
    expect(audit.entries.map((e) => [e.action, e.summary])).toEqual([
      ["tenant.rotate_key", { version: 3 }],
      ["tenant.rotate_key", { version: 2 }],
    ]);
  });

  it("rotation for a tenant without keys (deleted, unknown) creates nothing and records nothing", async () => {
    expect(await rotate("t_unknown")).toBeNull();
    expect((await listAudit(db(), { tenantId: "t_unknown" })).entries).toEqual([]);
    expect(await getWrappedTenantKeys(db(), "t_unknown")).toEqual([]);
    expect(await getWrappedTenantKey(db(), "t_unknown")).toBeNull();
  });

  it("marks the start of a deletion once: a second mark keeps the first time and changes nothing", async () => {
    const t = await newTenant();
    expect((await markTenantDeletingStatement(db(), t.id, 10).run()).meta.changes).toBe(1);
    expect((await markTenantDeletingStatement(db(), t.id, 20).run()).meta.changes).toBe(0);
    expect(await scalar("SELECT deleting_at FROM tenants WHERE id = ?", t.id)).toBe(10);
    expect((await markTenantDeletingStatement(db(), "t_unknown", 10).run()).meta.changes).toBe(0);
  });
});
