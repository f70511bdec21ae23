// The email ingest API's claim on a tenant's daily automatic mail (issue 17, item 1), through the
// real EmailIngestEntrypoint: bad input is refused with a clear error and counts nothing; a mail
// is counted once however often it is claimed; past the operator's limit the answer is no.
import { env, exports } from "cloudflare:workers";
import { createChannelAccount } from "@concierge/storage";
import { describe, expect, it } from "vitest";
import { operatorApi } from "./helpers.ts";

const emailApi = exports.EmailIngestEntrypoint;
const OPS = { email: "ops@example.test" };
const FROM = "customer@example.org";

async function subdomain() {
  const created = await exports.TenantEntrypoint.createTenant({ name: "Automatic mail" });
  if (!created.ok) throw new Error(created.error.message);
  const tenantId = created.tenantId;
  const domain = `am${crypto.randomUUID().slice(0, 8)}.cncg.test`;
  const account = await createChannelAccount(env.DB, {
    tenantId,
    channel: "email",
    externalId: domain,
    displayName: domain,
  });
  const now = Date.now();
  await env.DB.prepare(
    `INSERT INTO email_subdomains (account_id, tenant_id, name, domain, status, routing_json, created_at, updated_at)
     VALUES (?, ?, ?, ?, 'active', '{"rules":[],"defaultAction":{"kind":"auto_reply"}}', ?, ?)`,
  )
    .bind(account.id, tenantId, domain.split(".")[0], domain, now, now)
    .run();
  return { tenantId, domain };
}

const sentToday = async (tenantId: string) =>
  (
    await env.DB.prepare("SELECT sent FROM email_automatic_days WHERE tenant_id = ? AND day = ?")
      .bind(tenantId, new Date().toISOString().slice(0, 10))
      .first<{ sent: number }>()
  )?.sent ?? 0;

describe("claimAutomaticMail", () => {
  it("refuses bad input with a clear error and counts nothing", async () => {
    const { tenantId, domain } = await subdomain();
    for (const bad of [
      {},
      { domain, envelopeFrom: FROM, providerMessageId: "" },
      { domain: "x", envelopeFrom: FROM, providerMessageId: "<a@b>" },
      { domain, envelopeFrom: FROM, providerMessageId: 42 },
      // The sender is part of the mail's identity: without one there is no claim.
      { domain, providerMessageId: "<a@b>" },
      { domain, envelopeFrom: "", providerMessageId: "<a@b>" },
    ]) {
      const r = await emailApi.claimAutomaticMail(bad as never);
      expect(r).toMatchObject({ ok: false, error: { code: "invalid_input" } });
      expect((r as { error: { message: string } }).error.message.length).toBeGreaterThan(0);
    }
    expect(
      await emailApi.claimAutomaticMail({
        domain: "nobody.cncg.test",
        envelopeFrom: FROM,
        providerMessageId: "<a@b>",
      }),
    ).toMatchObject({
      ok: false,
      error: { code: "not_found" },
    });
    expect(await sentToday(tenantId)).toBe(0);
  });

  it("counts a mail once, and answers no past the operator's limit", async () => {
    const { tenantId, domain } = await subdomain();
    expect(await operatorApi.saveEmailAutomaticLimit(OPS, { dailyLimit: 2 })).toEqual({
      ok: true,
      dailyLimit: 2,
    });
    try {
      const claim = (id: string, envelopeFrom = FROM) =>
        emailApi.claimAutomaticMail({ domain, envelopeFrom, providerMessageId: id });
      expect(await claim("<1@c>")).toMatchObject({ ok: true, allowed: true, sent: 1, limit: 2 });
      expect(await claim("<1@c>")).toMatchObject({ ok: true, allowed: true, sent: 1 });
      expect(await claim("<2@c>")).toMatchObject({ ok: true, allowed: true, sent: 2 });
      expect(await claim("<3@c>")).toMatchObject({ ok: true, allowed: false, sent: 2, limit: 2 });
      expect(await sentToday(tenantId)).toBe(2);
    } finally {
      await operatorApi.saveEmailAutomaticLimit(OPS, { dailyLimit: 200 });
    }
  });

  it("counts one Message-ID from many senders as many mails (each would get its own auto-reply)", async () => {
    const { tenantId, domain } = await subdomain();
    expect(await operatorApi.saveEmailAutomaticLimit(OPS, { dailyLimit: 3 })).toMatchObject({ ok: true });
    try {
      const answers = [];
      for (let i = 0; i < 5; i++) {
        const r = await emailApi.claimAutomaticMail({
          domain,
          envelopeFrom: `sender${i}@spammer.example`,
          providerMessageId: "<same@spammer.example>",
        });
        answers.push(r.ok && r.allowed);
      }
      expect(answers).toEqual([true, true, true, false, false]);
      expect(await sentToday(tenantId)).toBe(3);
      // The sender is compared without case, as addresses are; a redelivery still counts once.
      expect(
        await emailApi.claimAutomaticMail({
          domain,
          envelopeFrom: "SENDER0@spammer.example",
          providerMessageId: "<same@spammer.example>",
        }),
      ).toMatchObject({ ok: true, allowed: true, sent: 3 });
      // No address in D1: the claim's key holds a hash of the sender.
      const keys = await env.DB.prepare(
        "SELECT provider_message_id AS k FROM email_automatic_claims WHERE tenant_id = ?",
      )
        .bind(tenantId)
        .all<{ k: string }>();
      expect(keys.results.length).toBe(5);
      for (const { k } of keys.results) expect(k).not.toMatch(/sender\d/i);
    } finally {
      await operatorApi.saveEmailAutomaticLimit(OPS, { dailyLimit: 200 });
    }
  });

  it("the operator's limit is validated: out of range is refused and nothing changes", async () => {
    for (const bad of [{ dailyLimit: -1 }, { dailyLimit: 100_001 }, { dailyLimit: 1.5 }, {}]) {
      expect(await operatorApi.saveEmailAutomaticLimit(OPS, bad)).toMatchObject({ ok: false });
    }
    const row = await env.DB.prepare(
      "SELECT daily_limit AS n FROM email_automatic_settings WHERE id = 1",
    ).first<{
      n: number;
    }>();
    expect(row?.n).toBe(200);
  });
});
