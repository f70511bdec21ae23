// Suspension (issue 14) reaches replies already on their way: a message accepted while the
// tenant was active is not answered once it is suspended, and the forwarded-to person's answer
// through a reverse alias is refused like any other person's reply. Through the real entry
// points: the operator's binding suspends, the ingest bindings deliver, the conversation's alarm
// runs the turn, the sandbox shows what was sent.
import { runDurableObjectAlarm } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { newId } from "@concierge/core";
import { sha256Hex } from "@concierge/crypto";
import { createChannelAccount, createEmailAlias } from "@concierge/storage";
import { sentEmails, sentTo, uniqueCustomer } from "@concierge/testing/sandbox-client";
import { afterEach, describe, expect, it } from "vitest";
import { inboundText, ingestApi, newAccount, operatorApi, tenantId } from "./helpers.ts";

const OPS = { email: "ops@example.test" };
const emailApi = exports.EmailIngestEntrypoint;

const suspend = () => operatorApi.suspendTenant(OPS, { tenantId, reason: "Payment dispute" });
const reactivate = () => operatorApi.reactivateTenant(OPS, { tenantId });

afterEach(async () => {
  await reactivate();
});

async function metadata(customer: string) {
  const { results } = await env.DB.prepare(
    "SELECT direction, action FROM messages WHERE sender_id = ? OR recipient_id = ? ORDER BY id",
  )
    .bind(customer, customer)
    .all<{ direction: string; action: string }>();
  return results.map((r) => [r.direction, r.action]);
}

describe("a suspension reaches replies already on their way", () => {
  it("a message accepted while active is not answered when its turn runs after the suspension", async () => {
    const acc = await newAccount({
      wait_seconds: 30,
      rules: [],
      default_rule: { response: { kind: "canned", text: "We're open 7 to 7." } },
    });
    const customer = uniqueCustomer();
    // Accepted while the tenant is active: its turn waits out the 30 s buffer.
    expect(await ingestApi.ingest([inboundText(acc.externalId, customer, "open today?")])).toMatchObject({
      ok: true,
      results: [{ status: "accepted" }],
    });
    expect(await suspend()).toEqual({ ok: true, changed: true });
    // The buffer ends after the suspension: nothing is sent, the message is logged as such.
    expect(await runDurableObjectAlarm(acc.conversation(customer))).toBe(true);
    expect(await sentTo(env.SANDBOX_URL, customer)).toEqual([]);
    expect(await metadata(customer)).toEqual([["inbound", "tenant_suspended"]]);
  });

  it("the forwarded-to person's reply through a reverse alias is refused with tenant_suspended, and goes once reactivated", async () => {
    const domain = `a${crypto.randomUUID().slice(0, 8)}.cncg.test`;
    const account = await createChannelAccount(env.DB, {
      tenantId,
      channel: "email",
      externalId: domain,
      displayName: domain,
    });
    const now = Date.now();
    await env.DB.prepare(
      `INSERT INTO email_subdomains (account_id, tenant_id, name, domain, status, routing_json, created_at, updated_at)
       VALUES (?, ?, ?, ?, 'active', '{"rules":[],"defaultAction":{"kind":"relay"}}', ?, ?)`,
    )
      .bind(account.id, tenantId, domain.split(".")[0], domain, now, now)
      .run();
    // A mail the tenant's routing forwarded to a member of staff, with its reverse alias.
    const token = crypto.randomUUID().replaceAll("-", "");
    const customer = `c${crypto.randomUUID().slice(0, 8)}@customer.example`;
    const staff = "staff@team.example";
    await createEmailAlias(env.DB, {
      tokenHash: await sha256Hex(token),
      tenantId,
      accountId: account.id,
      originalSender: customer,
      replyFrom: `orders@${domain}`,
      forwardedTo: staff,
      originalMessageId: "<original-1@customer.example>",
      originalReferences: "",
      createdAt: now,
      expiresAt: now + 86_400_000,
    });
    const reply = () => ({
      domain,
      token,
      envelopeFrom: staff,
      providerMessageId: `<${newId("ans")}@team.example>`,
      subject: "Re: your order",
      text: "It ships tomorrow.",
      html: null,
      sentAt: Date.now(),
    });

    await suspend();
    expect(await emailApi.replyViaAlias(reply())).toEqual({
      ok: false,
      error: { code: "tenant_suspended", message: expect.any(String) },
    });
    expect(await sentEmails(env.SANDBOX_URL, customer)).toEqual([]);

    await reactivate();
    expect(await emailApi.replyViaAlias(reply())).toEqual({ ok: true, sent: true });
    expect(await sentEmails(env.SANDBOX_URL, customer)).toHaveLength(1);
  });
});
