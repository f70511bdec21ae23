// The email ingest API's claim on a tenant's daily automatic mail (issue 17, item 1), through the
// real EmailIngestEntrypoint: bad input is refused with a clear error and counts nothing; a mail
// is counted once however often it is claimed; past the operator's limit the answer is no.
import { env, exports } from "cloudflare:workers";
import { createChannelAccount } from "@concierge/storage";
import { describe, expect, it } from "vitest";
import { operatorApi } from "./helpers.ts";

const emailApi = exports.EmailIngestEntrypoint;
const OPS = { email: "ops@example.test" };

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
      { domain, providerMessageId: "" },
      { domain: "x", providerMessageId: "<a@b>" },
      { domain, providerMessageId: 42 },
    ]) {
      const r = await emailApi.claimAutomaticMail(bad as never);
      expect(r).toMatchObject({ ok: false, error: { code: "invalid_input" } });
      expect((r as { error: { message: string } }).error.message.length).toBeGreaterThan(0);
    }
    expect(
      await emailApi.claimAutomaticMail({ domain: "nobody.cncg.test", providerMessageId: "<a@b>" }),
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
      const claim = (id: string) => emailApi.claimAutomaticMail({ domain, providerMessageId: id });
      expect(await claim("<1@c>")).toMatchObject({ ok: true, allowed: true, sent: 1, limit: 2 });
      expect(await claim("<1@c>")).toMatchObject({ ok: true, allowed: true, sent: 1 });
      expect(await claim("<2@c>")).toMatchObject({ ok: true, allowed: true, sent: 2 });
      expect(await claim("<3@c>")).toMatchObject({ ok: true, allowed: false, sent: 2, limit: 2 });
      expect(await sentToday(tenantId)).toBe(2);
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
