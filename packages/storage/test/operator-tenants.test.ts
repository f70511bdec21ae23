import { newId } from "@concierge/core";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { insertOrder } from "../src/billing.ts";
import { grantCredits } from "../src/credits.ts";
import { insertEmailSubdomain } from "../src/email-config.ts";
import { type MessageMeta, recordMessages } from "../src/messages.ts";
import {
  getOperatorTenant,
  getTenantOverview,
  reactivateTenantStatement,
  searchTenants,
  setEmailSubdomainQuotaStatement,
  suspendTenantStatement,
} from "../src/operator-tenants.ts";
import { insertUserIfAbsent } from "../src/users.ts";
import { db, newAccount, newTenant } from "./fixtures.ts";

const NOW = 1_900_000_000_000;

function meta(tenantId: string, accountId: string, over: Partial<MessageMeta> = {}): MessageMeta {
  return {
    tenantId,
    accountId,
    channel: "whatsapp",
    direction: "inbound",
    providerMessageId: newId("pm"),
    conversationId: null,
    senderId: "c1",
    recipientId: "biz",
    action: null,
    ruleId: null,
    at: NOW,
    ...over,
  };
}

async function addUser(tenantId: string, email: string | null) {
  await insertUserIfAbsent(db(), {
    id: newId("u"),
    tenantId,
    provider: "google",
    subject: newId("sub"),
    email,
    name: "Owner",
    createdAt: NOW,
  });
}

const ids = (r: { tenants: { id: string }[] }) => r.tenants.map((t) => t.id);

describe("operator tenant search", () => {
  it("finds a tenant by name (any case, a substring), user email, id, phone number, display name and subdomain", async () => {
    const tag = crypto.randomUUID().slice(0, 8);
    const a = await newTenant(`Chai Point ${tag}`);
    const b = await newTenant(`Bike Hub ${tag}`);
    const wa = await newAccount(a.id, "whatsapp", `9198${tag.replace(/\D/g, "7").padEnd(8, "1")}`);
    await env.DB.prepare("UPDATE channel_accounts SET display_name = ? WHERE id = ?")
      .bind(`Front desk ${tag}`, wa.id)
      .run();
    await addUser(b.id, `Owner.${tag}@Example.test`);
    const sd = await insertEmailSubdomain(db(), {
      accountId: newId("acc"),
      tenantId: b.id,
      name: `bike${tag}`,
      domain: `bike${tag}.cncg.test`,
    });
    expect(sd.ok).toBe(true);

    expect(ids(await searchTenants(db(), { q: `chai point ${tag.toUpperCase()}` }))).toEqual([a.id]);
    expect(ids(await searchTenants(db(), { q: tag }))).toEqual([b.id, a.id]);
    expect(ids(await searchTenants(db(), { q: `owner.${tag}@example.TEST` }))).toEqual([b.id]);
    expect(ids(await searchTenants(db(), { q: a.id }))).toEqual([a.id]);
    expect(ids(await searchTenants(db(), { q: wa.externalId }))).toEqual([a.id]);
    // Typed as a phone number: with + and spaces.
    expect(
      ids(await searchTenants(db(), { q: `+${wa.externalId.slice(0, 4)} ${wa.externalId.slice(4)}` })),
    ).toEqual([a.id]);
    expect(ids(await searchTenants(db(), { q: `front DESK ${tag}` }))).toEqual([a.id]);
    expect(ids(await searchTenants(db(), { q: `bike${tag}` }))).toEqual([b.id]);
    expect(ids(await searchTenants(db(), { q: `bike${tag}.cncg.test` }))).toEqual([b.id]);
    // LIKE wildcards are taken literally; a partial email matches nothing.
    expect(ids(await searchTenants(db(), { q: "%" }))).toEqual([]);
    expect(ids(await searchTenants(db(), { q: `owner.${tag}` }))).toEqual([]);
  });

  it("lists newest first with status, balance and last activity, filtered by status, a page at a time", async () => {
    const tag = crypto.randomUUID().slice(0, 8);
    const made = [];
    for (let i = 0; i < 5; i++) {
      made.push(await newTenant(`Page ${tag} ${i}`));
      await new Promise((r) => setTimeout(r, 2)); // distinct created_at
    }
    const [t0, t1, t2] = made;
    await grantCredits(db(), { tenantId: t0!.id, amount: 30, source: "purchase", reference: "p", now: NOW });
    await grantCredits(db(), {
      tenantId: t0!.id,
      amount: 5,
      source: "grant",
      reference: "g",
      expiresAt: NOW + 10,
      now: NOW,
    });
    const acc = await newAccount(t0!.id);
    await recordMessages(db(), [
      meta(t0!.id, acc.id, { at: NOW - 500 }),
      meta(t0!.id, acc.id, { at: NOW - 100, direction: "outbound" }),
    ]);
    await env.DB.batch([suspendTenantStatement(db(), t1!.id, "chargeback", NOW)]);

    const page = await searchTenants(db(), { q: `Page ${tag}`, now: NOW + 5 });
    expect(ids(page)).toEqual([...made].reverse().map((t) => t.id));
    expect(page.tenants.find((t) => t.id === t0!.id)).toMatchObject({
      name: `Page ${tag} 0`,
      status: "active",
      balance: 35,
      lastActivityAt: NOW - 100,
    });
    expect(page.tenants.find((t) => t.id === t2!.id)).toMatchObject({ balance: 0, lastActivityAt: null });
    // The grant lapses at its expiry.
    const later = await searchTenants(db(), { q: `Page ${tag} 0`, now: NOW + 10 });
    expect(later.tenants[0]?.balance).toBe(30);

    const suspended = await searchTenants(db(), { q: `Page ${tag}`, status: "suspended" });
    expect(ids(suspended)).toEqual([t1!.id]);
    expect(suspended.tenants[0]?.status).toBe("suspended");

    const seen: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 5; i++) {
      const p = await searchTenants(db(), { q: `Page ${tag}`, cursor, limit: 2 });
      seen.push(...ids(p));
      cursor = p.next;
      if (!cursor) break;
    }
    expect(seen).toEqual([...made].reverse().map((t) => t.id));

    // Without a query: the whole list, newest first (these five are the newest).
    const all = await searchTenants(db(), { limit: 5 });
    expect(ids(all)).toEqual([...made].reverse().map((t) => t.id));
    expect(all.next).not.toBeNull();
  });
});

describe("operator tenant page and tenant writes", () => {
  it("gathers the tenant, its channels with health, users, balance, ledger, orders and 30-day usage", async () => {
    const t = await newTenant("Overview Co");
    const wa = await newAccount(t.id, "whatsapp");
    const ig = await newAccount(t.id, "instagram");
    await addUser(t.id, "owner@overview.test");
    await grantCredits(db(), {
      tenantId: t.id,
      amount: 40,
      source: "purchase",
      reference: "pay_1",
      now: NOW,
    });
    await insertOrder(
      db(),
      {
        id: newId("ord"),
        tenantId: t.id,
        packId: "inr-100",
        credits: 100,
        amount: 49900,
        currency: "INR",
        razorpayOrderId: newId("order"),
      },
      NOW,
    );
    await recordMessages(db(), [
      meta(t.id, wa.id, { at: NOW - 1000 }),
      meta(t.id, wa.id, { at: NOW - 900, direction: "outbound", action: "canned_reply" }),
    ]);

    const o = await getTenantOverview(db(), t.id, NOW);
    expect(o?.tenant).toEqual({
      id: t.id,
      name: "Overview Co",
      locale: "en-IN",
      currency: "INR",
      status: "active",
      suspendedReason: null,
      suspendedAt: null,
      emailSubdomainQuota: 3,
      createdAt: expect.any(Number),
    });
    expect(o?.channels.map((c) => [c.id, c.health.level, c.health.reason])).toEqual([
      [wa.id, "ok", "working"],
      [ig.id, "warn", "no_messages"],
    ]);
    expect(o?.channels[0]?.activity).toMatchObject({ lastInboundAt: NOW - 1000, lastOutboundAt: NOW - 900 });
    expect(o?.users.map((u) => u.email)).toEqual(["owner@overview.test"]);
    expect(o?.balance).toBe(40);
    expect(o?.ledger.entries.map((e) => [e.delta, e.reason, e.reference])).toEqual([
      [40, "purchase", "pay_1"],
    ]);
    expect(o?.lots).toHaveLength(1);
    expect(o?.orders).toMatchObject([{ packId: "inr-100", credits: 100, amount: 49900, status: "created" }]);
    expect(o?.payments).toEqual([]);
    expect(o?.usage.totals).toMatchObject({ receivedAll: 1, canned: 1 });
    expect(o?.usage.days).toHaveLength(30);
    expect(await getTenantOverview(db(), "t_missing", NOW)).toBeNull();
  });

  it("suspends with a reason once, reactivates and forgets the reason, and sets the subdomain quota", async () => {
    const t = await newTenant();
    const [s1] = await env.DB.batch([suspendTenantStatement(db(), t.id, "fraud report", NOW)]);
    expect(s1?.meta.changes).toBe(1);
    // A second suspension changes nothing: the first reason and time stand.
    const [s2] = await env.DB.batch([suspendTenantStatement(db(), t.id, "again", NOW + 5)]);
    expect(s2?.meta.changes).toBe(0);
    expect(await getOperatorTenant(db(), t.id)).toMatchObject({
      status: "suspended",
      suspendedReason: "fraud report",
      suspendedAt: NOW,
    });
    const [r1] = await env.DB.batch([reactivateTenantStatement(db(), t.id)]);
    expect(r1?.meta.changes).toBe(1);
    const [r2] = await env.DB.batch([reactivateTenantStatement(db(), t.id)]);
    expect(r2?.meta.changes).toBe(0);
    expect(await getOperatorTenant(db(), t.id)).toMatchObject({
      status: "active",
      suspendedReason: null,
      suspendedAt: null,
    });
    await setEmailSubdomainQuotaStatement(db(), t.id, 7).run();
    expect((await getOperatorTenant(db(), t.id))?.emailSubdomainQuota).toBe(7);
    await expect(setEmailSubdomainQuotaStatement(db(), t.id, 1001).run()).rejects.toThrow(/CHECK/);
    expect((await suspendTenantStatement(db(), "t_missing", "x", NOW).run()).meta.changes).toBe(0);
  });
});
