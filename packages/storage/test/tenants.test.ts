import { importMasterKey, unwrapDataKey } from "@concierge/crypto";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  createTenant,
  getTenant,
  getWrappedTenantKey,
  getWrappedTenantKeys,
  rotateTenantKey,
} from "../src/tenants.ts";
import { db, MASTER_KEY, newTenant, scalar } from "./fixtures.ts";

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
    expect(await rotateTenantKey(db(), MASTER_KEY, t.id)).toBe(2);
    expect(await rotateTenantKey(db(), MASTER_KEY, t.id)).toBe(3);
    expect((await getWrappedTenantKeys(db(), t.id)).map((k) => k.version)).toEqual([1, 2, 3]);
    expect((await getWrappedTenantKey(db(), t.id))?.version).toBe(3);
  });

  it("rotation for a tenant without keys (deleted, unknown) creates nothing", async () => {
    expect(await rotateTenantKey(db(), MASTER_KEY, "t_unknown")).toBeNull();
    expect(await getWrappedTenantKeys(db(), "t_unknown")).toEqual([]);
    expect(await getWrappedTenantKey(db(), "t_unknown")).toBeNull();
  });
});
