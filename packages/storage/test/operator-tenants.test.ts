import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { newId } from "@concierge/core";
import { describe, expect, it } from "vitest";
import { createChannelAccount, phoneDigits } from "../src/accounts.ts";
import { insertOrder } from "../src/billing.ts";
import { grantCredits } from "../src/credits.ts";
import { insertEmailSubdomain } from "../src/email-config.ts";
import { type MessageMeta, recordMessages } from "../src/messages.ts";
import {
  getOperatorTenant,
  getTenantOverview,
  NAME_MATCH_LIMIT,
  reactivateTenantStatement,
  searchTenants,
  setEmailSubdomainQuotaStatement,
  suspendTenantStatement,
} from "../src/operator-tenants.ts";
import { insertUserIfAbsent } from "../src/users.ts";
import { db, messageRow, newAccount, newTenant, tenantBefore0019 } from "./fixtures.ts";

const NOW = 1_900_000_000_000;

function meta(tenantId: string, accountId: string, over: Partial<MessageMeta> = {}): MessageMeta {
  return messageRow(tenantId, accountId, {
    conversationId: null,
    senderId: "c1",
    recipientId: "biz",
    at: NOW,
    ...over,
  });
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
  it("finds a tenant by the start of its name (any case), user email, id, phone number, channel id and subdomain", async () => {
    const tag = crypto.randomUUID().slice(0, 8);
    const a = await newTenant(`${tag} Chai Point`);
    const b = await newTenant(`${tag} Bike Hub`);
    // As Meta has it: the account's external id is the phone_number_id; the number itself is only
    // the formatted display name.
    const local = String(Date.now() % 1e5).padStart(5, "0");
    const display = `+91 98765 ${local}`;
    const wa = await createChannelAccount(db(), {
      tenantId: a.id,
      channel: "whatsapp",
      externalId: `1002003${local}`,
      displayName: display,
      phoneDigits: phoneDigits(display),
    });
    await addUser(b.id, `Owner.${tag}@Example.test`);
    const sd = await insertEmailSubdomain(db(), {
      accountId: newId("acc"),
      tenantId: b.id,
      name: `bike${tag}`,
      domain: `bike${tag}.cncg.test`,
    });
    expect(sd.ok).toBe(true);
    const find = async (q: string) => ids(await searchTenants(db(), { q }));

    expect(await find(`${tag.toUpperCase()} chai`)).toEqual([a.id]);
    expect(await find(tag)).toEqual([b.id, a.id]);
    expect(await find(`owner.${tag}@example.TEST`)).toEqual([b.id]);
    expect(await find(a.id)).toEqual([a.id]);
    // The phone number as the operator types it: with or without +, spaces, dashes, brackets.
    for (const typed of [display, `+9198765${local}`, `9198765${local}`, `+91 (98765) ${local}`]) {
      expect(await find(typed), typed).toEqual([a.id]);
    }
    // Meta's phone_number_id is a channel id like any other: found exactly as it is.
    expect(await find(wa.externalId)).toEqual([a.id]);
    // Too few digits to be a phone number; part of the number is not the number.
    expect(await find(local)).toEqual([]);
    expect(await find(`98765${local}`.slice(0, 7))).toEqual([]);
    expect(await find(`bike${tag}`)).toEqual([b.id]);
    expect(await find(`bike${tag}.cncg.test`)).toEqual([b.id]);
    // The name is matched from its start, never inside it, and only the name: a display name is not.
    expect(await find(`chai point`)).toEqual([]);
    expect(await find("whatsapp test")).toEqual([]);
    // Nothing in the query is a wildcard; a partial email matches nothing.
    expect(await find("%")).toEqual([]);
    expect(await find(`${tag.slice(0, 4)}_${tag.slice(5)}`)).toEqual([]);
    expect(await find(`owner.${tag}`)).toEqual([]);
  });

  it("reads at most NAME_MATCH_LIMIT tenants by name, says so, and still sorts those newest first", async () => {
    const prefix = `Many ${crypto.randomUUID().slice(0, 6)}`;
    // More tenants with the prefix than the name range reads (rows only: no key is needed here),
    // created long ago so that they stay out of the other tests' newest-first lists.
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
       INSERT INTO tenants (id, name, created_at) SELECT 't_many_' || i, ? || ' ' || printf('%03d', i), ? + i FROM n`,
    )
      .bind(NAME_MATCH_LIMIT + 5, prefix, 1_000)
      .run();
    const many = await searchTenants(db(), { q: prefix, limit: 3 });
    expect(many.nameMatchesCapped).toBe(true);
    // The first NAME_MATCH_LIMIT by name ('001'..'200'), newest first among them.
    expect(ids(many)).toEqual(["t_many_200", "t_many_199", "t_many_198"]);
    const one = await searchTenants(db(), { q: `${prefix} 204` });
    expect(one).toMatchObject({ nameMatchesCapped: false, tenants: [{ id: "t_many_204" }] });
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

describe("migration 0018", () => {
  it("fills phone_digits of the WhatsApp numbers connected before it, from their display names", async () => {
    const mdb = env.MIGRATION_DB;
    const before = env.TEST_MIGRATIONS.filter((m) => m.name < "0018");
    expect(env.TEST_MIGRATIONS.some((m) => m.name.startsWith("0018"))).toBe(true);
    await applyD1Migrations(mdb, before);
    const t = await tenantBefore0019(mdb, "Before 0018");
    const insert = mdb.prepare(
      "INSERT INTO channel_accounts (id, tenant_id, channel, external_id, display_name, created_at) VALUES (?, ?, ?, ?, ?, 1)",
    );
    await mdb.batch([
      insert.bind("acc_spaces", t.id, "whatsapp", "100200300400501", "+91 98765 43299"),
      insert.bind("acc_us", t.id, "whatsapp", "100200300400502", "+1 (631) 555-1111"),
      insert.bind("acc_named", t.id, "whatsapp", "100200300400503", "Front desk"),
      insert.bind("acc_none", t.id, "whatsapp", "100200300400504", null),
      insert.bind("acc_ig", t.id, "instagram", "17841400000000001", "12345678"),
    ]);
    await applyD1Migrations(mdb, env.TEST_MIGRATIONS);
    const { results } = await mdb
      .prepare("SELECT id, phone_digits AS digits FROM channel_accounts ORDER BY id")
      .all<{ id: string; digits: string | null }>();
    expect(results).toEqual([
      { id: "acc_ig", digits: null },
      { id: "acc_named", digits: null },
      { id: "acc_none", digits: null },
      { id: "acc_spaces", digits: "919876543299" },
      { id: "acc_us", digits: "16315551111" },
    ]);
    // The same rule as new connections get.
    expect(phoneDigits("+91 98765 43299")).toBe("919876543299");
    expect(phoneDigits("+1 (631) 555-1111")).toBe("16315551111");
    expect(phoneDigits("Front desk")).toBeNull();
  });
});

describe("operator tenant page and tenant writes", () => {
  it("gathers the tenant, its channels with health, users, balance, ledger, orders and 30-day usage", async () => {
    const t = await newTenant("Overview Co");
    const wa = await newAccount(t.id, "whatsapp");
    const ig = await newAccount(t.id, "instagram");
    // Connected just before NOW and silent since: new, waiting for its first message.
    await db()
      .prepare("UPDATE channel_accounts SET created_at = ? WHERE id = ?")
      .bind(NOW - 1000, ig.id)
      .run();
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
      deletingAt: null,
      emailSubdomainQuota: 3,
      createdAt: expect.any(Number),
    });
    expect(o?.channels.map((c) => [c.id, c.health.level, c.health.reason])).toEqual([
      [wa.id, "ok", "working"],
      [ig.id, "ok", "no_messages"],
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
