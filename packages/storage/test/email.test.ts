import { newId } from "@concierge/core";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  createEmailAlias,
  deleteExpiredEmailAliases,
  type EmailAlias,
  getEmailAlias,
} from "../src/email-aliases.ts";
import {
  consumeForwardToken,
  deleteForwardAddressRow,
  emailSubdomainNameTaken,
  getEmailSubdomain,
  getForwardAddress,
  insertEmailSubdomain,
  insertForwardAddress,
  listEmailSubdomains,
  listForwardAddresses,
  renewForwardToken,
  saveEmailRoutingJson,
  setEmailSubdomainState,
} from "../src/email-config.ts";
import { getEmailRoute } from "../src/email-routes.ts";
import { db, newTenant, rows, scalar } from "./fixtures.ts";

const NOW = 1_800_000_000_000;

async function subdomain(tenantId: string, name = newId("sd").replace("_", "-")) {
  const accountId = newId("acc");
  const r = await insertEmailSubdomain(db(), { accountId, tenantId, name, domain: `${name}.cncg.test` }, NOW);
  if (!r.ok) throw new Error(r.code);
  return r.subdomain;
}

describe("email subdomains", () => {
  it("creates the channel account and the subdomain together, provisioning, with the default routing", async () => {
    const t = (await newTenant()).id;
    const s = await subdomain(t, "acme");
    expect(s).toMatchObject({
      tenantId: t,
      name: "acme",
      domain: "acme.cncg.test",
      status: "provisioning",
      routingJson: '{"rules":[],"defaultAction":{"kind":"relay"}}',
      routingVersion: 1,
    });
    expect(await rows("SELECT channel, external_id FROM channel_accounts WHERE id = ?", s.accountId)).toEqual(
      [{ channel: "email", external_id: "acme.cncg.test" }],
    );
    expect(await emailSubdomainNameTaken(db(), "acme")).toBe(true);
    expect(await emailSubdomainNameTaken(db(), "acme2")).toBe(false);
  });

  it("a name is global: another tenant gets name_taken and nothing half-made is left", async () => {
    const a = (await newTenant()).id;
    const b = (await newTenant()).id;
    await subdomain(a, "shared");
    const accountId = newId("acc");
    expect(
      await insertEmailSubdomain(db(), {
        accountId,
        tenantId: b,
        name: "shared",
        domain: "shared.cncg.test",
      }),
    ).toEqual({ ok: false, code: "name_taken" });
    expect(await scalar("SELECT COUNT(*) FROM channel_accounts WHERE id = ?", accountId)).toBe(0);
  });

  it("the quota is checked inside the insert: concurrent creates cannot pass it", async () => {
    const t = (await newTenant()).id;
    // Default quota: 3.
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => {
        const name = `q${i}-${t.slice(-8)}`;
        return insertEmailSubdomain(db(), {
          accountId: newId("acc"),
          tenantId: t,
          name,
          domain: `${name}.cncg.test`,
        });
      }),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(3);
    expect(results.filter((r) => !r.ok).map((r) => !r.ok && r.code)).toEqual([
      "quota_reached",
      "quota_reached",
      "quota_reached",
    ]);
    expect(await scalar("SELECT COUNT(*) FROM email_subdomains WHERE tenant_id = ?", t)).toBe(3);
    expect(await scalar("SELECT COUNT(*) FROM channel_accounts WHERE tenant_id = ?", t)).toBe(3);
    expect(
      await insertEmailSubdomain(db(), {
        accountId: newId("acc"),
        tenantId: "t_nobody",
        name: "x-nobody",
        domain: "x-nobody.cncg.test",
      }),
    ).toEqual({ ok: false, code: "no_tenant" });
  });

  it("lists and reads only the tenant's own subdomains", async () => {
    const t = (await newTenant()).id;
    const other = (await newTenant()).id;
    const s = await subdomain(t);
    expect((await listEmailSubdomains(db(), t)).map((x) => x.accountId)).toEqual([s.accountId]);
    expect(await getEmailSubdomain(db(), other, s.accountId)).toBeNull();
    expect(await listEmailSubdomains(db(), other)).toEqual([]);
  });

  it("state changes keep the Cloudflare rule id unless a new one is given", async () => {
    const t = (await newTenant()).id;
    const s = await subdomain(t);
    await setEmailSubdomainState(
      db(),
      s.accountId,
      { status: "active", cfRuleId: "rule-1", statusError: null },
      NOW + 1,
    );
    await setEmailSubdomainState(db(), s.accountId, { status: "failed", statusError: "cf_refused" }, NOW + 2);
    expect(await getEmailSubdomain(db(), t, s.accountId)).toMatchObject({
      status: "failed",
      cfRuleId: "rule-1",
      statusError: "cf_refused",
      updatedAt: NOW + 2,
    });
  });

  it("a routing save with a stale version is refused; each save bumps the version", async () => {
    const t = (await newTenant()).id;
    const s = await subdomain(t);
    expect(await saveEmailRoutingJson(db(), t, s.accountId, '{"v":2}', 1)).toBe(2);
    expect(await saveEmailRoutingJson(db(), t, s.accountId, '{"stale":true}', 1)).toBeNull();
    expect(await saveEmailRoutingJson(db(), (await newTenant()).id, s.accountId, '{"x":1}', 2)).toBeNull();
    expect(await getEmailSubdomain(db(), t, s.accountId)).toMatchObject({
      routingJson: '{"v":2}',
      routingVersion: 2,
    });
  });
});

describe("forward addresses", () => {
  const add = (
    tenantId: string,
    address: string,
    o: { tokenHash?: string; expiresAt?: number; limit?: number } = {},
  ) =>
    insertForwardAddress(db(), {
      id: newId("fwd"),
      tenantId,
      address,
      tokenHash: o.tokenHash ?? newId("hash"),
      expiresAt: o.expiresAt ?? NOW + 3_600_000,
      limit: o.limit ?? 5,
    });

  it("one address once per tenant, and the per-tenant limit holds under concurrent adds", async () => {
    const t = (await newTenant()).id;
    expect(await add(t, "a@example.test")).toEqual({ ok: true });
    expect(await add(t, "a@example.test")).toEqual({ ok: false, code: "address_exists" });
    const results = await Promise.all(
      ["b", "c", "d", "e"].map((x) => add(t, `${x}@example.test`, { limit: 3 })),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(2);
    expect(results.filter((r) => !r.ok).every((r) => !r.ok && r.code === "limit_reached")).toBe(true);
    expect((await listForwardAddresses(db(), t)).length).toBe(3);
    // Another tenant may add the same address.
    expect(await add((await newTenant()).id, "a@example.test")).toEqual({ ok: true });
  });

  it("stores only the token's hash and never exposes it", async () => {
    const t = (await newTenant()).id;
    await add(t, "h@example.test", { tokenHash: "sha256-of-token" });
    const [listed] = await listForwardAddresses(db(), t);
    expect(listed).not.toHaveProperty("tokenHash");
    expect(JSON.stringify(listed)).not.toContain("sha256-of-token");
    expect(
      await scalar("SELECT COUNT(*) FROM email_forward_addresses WHERE token_hash = ?", "sha256-of-token"),
    ).toBe(1);
  });

  it("a token verifies once; a second use of the link is invalid", async () => {
    const t = (await newTenant()).id;
    const hash = newId("hash");
    await add(t, "v@example.test", { tokenHash: hash, expiresAt: NOW + 10 });
    expect(await consumeForwardToken(db(), hash, NOW)).toEqual({
      status: "verified",
      tenantId: t,
      address: "v@example.test",
    });
    expect(await consumeForwardToken(db(), hash, NOW)).toEqual({ status: "invalid" });
    const [row] = await listForwardAddresses(db(), t);
    expect(row).toMatchObject({ verifiedAt: NOW, tokenExpiresAt: null });
    expect(await scalar("SELECT COUNT(*) FROM email_forward_addresses WHERE token_hash = ?", hash)).toBe(0);
  });

  it("an expired token is refused and stays expired; a renewed token then verifies", async () => {
    const t = (await newTenant()).id;
    const hash = newId("hash");
    await add(t, "x@example.test", { tokenHash: hash, expiresAt: NOW });
    expect(await consumeForwardToken(db(), hash, NOW)).toEqual({ status: "expired" });
    expect(await consumeForwardToken(db(), hash, NOW)).toEqual({ status: "expired" });
    const [row] = await listForwardAddresses(db(), t);
    expect(row?.verifiedAt).toBeNull();
    const fresh = newId("hash");
    expect(await renewForwardToken(db(), t, row!.id, fresh, NOW + 100)).toBe(true);
    expect(await consumeForwardToken(db(), hash, NOW)).toEqual({ status: "invalid" });
    expect((await consumeForwardToken(db(), fresh, NOW)).status).toBe("verified");
    // A verified address keeps no token: renewing it does nothing.
    expect(await renewForwardToken(db(), t, row!.id, newId("hash"), NOW + 100)).toBe(false);
  });

  it("reads and deletes only the tenant's own address", async () => {
    const t = (await newTenant()).id;
    const other = (await newTenant()).id;
    await add(t, "d@example.test");
    const [row] = await listForwardAddresses(db(), t);
    expect(await getForwardAddress(db(), other, row!.id)).toBeNull();
    expect(await deleteForwardAddressRow(db(), other, row!.id)).toBe(false);
    expect(await getForwardAddress(db(), t, row!.id)).toMatchObject({ address: "d@example.test" });
    expect(await deleteForwardAddressRow(db(), t, row!.id)).toBe(true);
    expect(await getForwardAddress(db(), t, row!.id)).toBeNull();
  });
});

describe("email routes (the ingest read)", () => {
  it("resolves a domain case-insensitively with only verified forward addresses", async () => {
    const t = (await newTenant()).id;
    const s = await subdomain(t);
    const verified = newId("hash");
    await insertForwardAddress(db(), {
      id: newId("fwd"),
      tenantId: t,
      address: "ok@example.test",
      tokenHash: verified,
      expiresAt: NOW + 10,
      limit: 5,
    });
    await insertForwardAddress(db(), {
      id: newId("fwd"),
      tenantId: t,
      address: "pending@example.test",
      tokenHash: newId("hash"),
      expiresAt: NOW + 10,
      limit: 5,
    });
    await consumeForwardToken(db(), verified, NOW);
    const route = await getEmailRoute(db(), s.domain.toUpperCase());
    expect(route).toMatchObject({
      tenantId: t,
      accountId: s.accountId,
      domain: s.domain,
      status: "provisioning",
      accountStatus: "active",
      routingVersion: 1,
    });
    expect(route?.forwardAddresses.map((a) => a.address)).toEqual(["ok@example.test"]);
    expect(await getEmailRoute(db(), "unknown.cncg.test")).toBeNull();
  });
});

describe("reverse aliases", () => {
  async function alias(o: Partial<EmailAlias> = {}): Promise<EmailAlias> {
    const t = (await newTenant()).id;
    const s = await subdomain(t);
    const a: EmailAlias = {
      tokenHash: newId("aliashash"),
      tenantId: t,
      accountId: s.accountId,
      originalSender: "customer@example.test",
      replyFrom: `hello@${s.domain}`,
      forwardedTo: "owner@example.test",
      originalMessageId: "<m1@example.test>",
      originalReferences: "<m0@example.test>",
      createdAt: NOW,
      expiresAt: NOW + 1_000,
      ...o,
    };
    await createEmailAlias(db(), a);
    return a;
  }

  it("is found by its token hash on its own account only, expired or not", async () => {
    const a = await alias({ expiresAt: NOW - 1 });
    expect(await getEmailAlias(db(), a.accountId, a.tokenHash)).toEqual(a);
    expect(await getEmailAlias(db(), "acc_other", a.tokenHash)).toBeNull();
    expect(await getEmailAlias(db(), a.accountId, "not-the-hash")).toBeNull();
  });

  it("the sweep removes aliases past their expiry and keeps live ones", async () => {
    const base = NOW + 10_000_000;
    const old = await alias({ expiresAt: base - 1 });
    const edge = await alias({ expiresAt: base });
    const live = await alias({ expiresAt: base + 1 });
    expect(await deleteExpiredEmailAliases(db(), base)).toBeGreaterThanOrEqual(1);
    expect(await getEmailAlias(db(), old.accountId, old.tokenHash)).toBeNull();
    expect(await getEmailAlias(db(), edge.accountId, edge.tokenHash)).not.toBeNull();
    expect(await getEmailAlias(db(), live.accountId, live.tokenHash)).not.toBeNull();
  });

  it("keeps addresses and Message-IDs only: the table has no column for text", async () => {
    const cols = (
      await env.DB.prepare("SELECT name FROM pragma_table_info('email_aliases')").all<{ name: string }>()
    ).results.map((c) => c.name);
    expect(cols.filter((c) => /subject|body|text|content/.test(c))).toEqual([]);
  });
});
