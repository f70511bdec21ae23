// Suspension (issue 14): a suspended tenant's customers get no reply of any kind, on every
// channel and from every path (rules, AI drafts, a person's reply), while what they send is still
// accepted and its metadata logged; after reactivation the next message is answered. Everything
// goes through the real entry points: the operator's binding suspends, the ingest bindings
// deliver, the conversation object's alarm runs the turn, the sandbox shows what was sent.
import { createScheduledController, runDurableObjectAlarm } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { conversationKey, type InboundMessage } from "@concierge/core";
import {
  createChannelAccount,
  createRelay,
  getApproval,
  getRelay,
  saveDiscordInstall,
  saveReplyConfig,
} from "@concierge/storage";
import { sentEmails, sentTo, uniqueCustomer } from "@concierge/testing/sandbox-client";
import { inboundEmail } from "@concierge/testing/tenant-fixtures";
import { afterEach, describe, expect, it, vi } from "vitest";
import wranglerConfig from "../wrangler.jsonc?raw";
import { PIPELINE_CRONS } from "../src/crons.ts";
import worker from "../src/index.ts";
import {
  approvePersona,
  inboundText,
  ingestApi,
  newAccount,
  operatorApi,
  setBalance,
  tenantApi,
  tenantId,
} from "./helpers.ts";

const OPS = { email: "ops@example.test" };
const CANNED = "We're open 7 to 7.";
const emailApi = exports.EmailIngestEntrypoint;

function suspend() {
  return operatorApi.suspendTenant(OPS, { tenantId, reason: "Payment dispute" });
}
function reactivate() {
  return operatorApi.reactivateTenant(OPS, { tenantId });
}

afterEach(async () => {
  await reactivate();
});

/** The metadata rows of one customer, oldest first: [direction, action]. */
async function metadata(customer: string) {
  const { results } = await env.DB.prepare(
    "SELECT direction, action FROM messages WHERE sender_id = ? OR recipient_id = ? ORDER BY id",
  )
    .bind(customer, customer)
    .all<{ direction: string; action: string }>();
  return results.map((r) => [r.direction, r.action]);
}

/** A WhatsApp number of the demo tenant answering everything with CANNED after a 30 s buffer. */
function whatsapp() {
  return newAccount({
    wait_seconds: 30,
    rules: [],
    default_rule: { response: { kind: "canned", text: CANNED } },
  });
}

/** An active email subdomain of the demo tenant whose mail is answered automatically with CANNED. */
async function emailSubdomain() {
  const domain = `s${crypto.randomUUID().slice(0, 8)}.cncg.test`;
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
  await saveReplyConfig(env.DB, tenantId, account.id, {
    wait_seconds: 30,
    rules: [],
    default_rule: { response: { kind: "canned", text: CANNED } },
  });
  return { domain, account };
}

/** A mail as email-inbound hands it over after routing chose auto_reply. */
const mail = (domain: string, from: string, subject: string): InboundMessage =>
  inboundEmail(domain, from, { text: "Are you open on Sunday?", subject, route: "auto_reply" });

const stubOf = (accountId: string, customer: string) =>
  env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(conversationKey(tenantId, accountId, customer)));

describe("a suspended tenant", () => {
  it("WhatsApp: the message is accepted and logged, nothing is sent; after reactivation the next one is answered", async () => {
    const acc = await whatsapp();
    const customer = uniqueCustomer();
    expect(await suspend()).toEqual({ ok: true, changed: true });

    const first = inboundText(acc.externalId, customer, "hello, open today?");
    expect(await ingestApi.ingest([first])).toMatchObject({ ok: true, results: [{ status: "accepted" }] });
    expect(await runDurableObjectAlarm(acc.conversation(customer))).toBe(true);
    expect(await sentTo(env.SANDBOX_URL, customer)).toEqual([]);
    expect(await metadata(customer)).toEqual([["inbound", "tenant_suspended"]]);

    expect(await reactivate()).toEqual({ ok: true, changed: true });
    await ingestApi.ingest([inboundText(acc.externalId, customer, "anyone there?")]);
    expect(await runDurableObjectAlarm(acc.conversation(customer))).toBe(true);
    const sent = await sentTo(env.SANDBOX_URL, customer);
    expect(sent.map((s) => s.text)).toEqual([CANNED]);
    expect(await metadata(customer)).toEqual([
      ["inbound", "tenant_suspended"],
      ["inbound", "canned_reply"],
      ["outbound", "canned_reply"],
    ]);
  });

  it("email: the mail is accepted and logged, no automatic reply; after reactivation the next mail is answered", async () => {
    const { domain, account } = await emailSubdomain();
    const customer = `c${crypto.randomUUID().slice(0, 8)}@mail.example`;
    await suspend();

    expect(await emailApi.ingest([mail(domain, customer, "Sunday?")])).toMatchObject({
      ok: true,
      results: [{ status: "accepted" }],
    });
    expect(await runDurableObjectAlarm(stubOf(account.id, customer))).toBe(true);
    expect(await sentEmails(env.SANDBOX_URL, customer)).toEqual([]);
    expect(await metadata(customer)).toEqual([["inbound", "tenant_suspended"]]);

    await reactivate();
    // The same sender: the suspended turn sent nothing, so no auto-reply cooldown holds it back.
    await emailApi.ingest([mail(domain, customer, "Sunday, again?")]);
    expect(await runDurableObjectAlarm(stubOf(account.id, customer))).toBe(true);
    const sent = await sentEmails(env.SANDBOX_URL, customer);
    expect(sent).toHaveLength(1);
    // The automatic reply to the second mail, threaded under it; the body is base64.
    const [head, body] = sent[0]!.raw.split("\r\n\r\n");
    expect(head).toMatch(/^Auto-Submitted: auto-replied$/m);
    expect(head).toContain("In-Reply-To: <m_");
    expect(atob(body!.replace(/\s/g, ""))).toBe(CANNED);
    expect(await metadata(customer)).toEqual([
      ["inbound", "tenant_suspended"],
      ["inbound", "canned_reply"],
      ["outbound", "canned_reply"],
    ]);
  });

  it("a held AI draft cannot be approved or edited out (tenant_suspended), stays pending, and is sent after reactivation", async () => {
    await approvePersona({
      kind: "builder",
      voice: "concise",
      businessName: "Chai & Co.",
      businessType: "tea shop",
      catchPhrases: [],
      offTopics: [],
      never: [],
      handoffConditions: [],
    });
    await setBalance(5);
    const acc = await newAccount({
      wait_seconds: 0,
      rules: [],
      default_rule: { response: { kind: "prompt", text: "Answer kindly." }, approval: "always" },
    });
    const customer = uniqueCustomer();
    await acc.send(customer, "Do you have oat milk?");
    await vi.waitUntil(
      async () => (await tenantApi.listApprovals(tenantId)).some((a) => a.accountId === acc.id),
      { timeout: 5000 },
    );
    const { id } = (await tenantApi.listApprovals(tenantId)).find((a) => a.accountId === acc.id)!;

    await suspend();
    for (const decision of [{ action: "approve" as const }, { action: "edit" as const, text: "Yes!" }]) {
      expect(await tenantApi.decideApproval(tenantId, id, decision, "asha")).toMatchObject({
        ok: false,
        error: { code: "tenant_suspended" },
      });
    }
    expect(await getApproval(env.DB, tenantId, id)).toMatchObject({ status: "pending" });
    expect(await sentTo(env.SANDBOX_URL, customer)).toEqual([]);
    expect(await tenantApi.readApprovalDraft(tenantId, id)).toMatchObject({ ok: true });

    await reactivate();
    expect(await tenantApi.decideApproval(tenantId, id, { action: "approve" }, "asha")).toEqual({
      ok: true,
      status: "sent",
    });
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(1);
  });

  it("a person's reply is refused with tenant_suspended and nothing is sent; it goes once reactivated", async () => {
    const acc = await whatsapp();
    const customer = uniqueCustomer();
    await ingestApi.ingest([inboundText(acc.externalId, customer, "hi")]);
    await runDurableObjectAlarm(acc.conversation(customer));
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(1);

    await suspend();
    expect(
      await tenantApi.sendHumanReply(tenantId, acc.id, customer, "Hello from Asha", "asha"),
    ).toMatchObject({
      ok: false,
      error: { code: "tenant_suspended" },
    });
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(1);

    await reactivate();
    expect(
      await tenantApi.sendHumanReply(tenantId, acc.id, customer, "Hello from Asha", "asha"),
    ).toMatchObject({
      ok: true,
    });
    expect((await sentTo(env.SANDBOX_URL, customer)).map((s) => s.text)).toEqual([CANNED, "Hello from Asha"]);
  });
  it("a person's reply from the Discord inbox is refused with tenant_suspended; the item stays open", async () => {
    const guildId = "910000000000000777";
    await saveDiscordInstall(env.DB, { tenantId, guildId, guildName: null, installedBy: null });
    const acc = await whatsapp();
    const customer = uniqueCustomer();
    const relayId = `rl_susp${Date.now().toString(36)}`;
    await createRelay(env.DB, {
      id: relayId,
      tenantId,
      accountId: acc.id,
      channel: "whatsapp",
      customerId: customer,
      threadKey: conversationKey(tenantId, acc.id, customer),
      kind: "message",
      approvalId: null,
      providerMessageId: null,
      guildId,
      channelId: "910000000000000778",
    });
    await ingestApi.ingest([inboundText(acc.externalId, customer, "hi")]);
    await suspend();
    await runDurableObjectAlarm(acc.conversation(customer));
    const asha = { id: "810000000000000009", name: "Asha" };
    expect(
      await exports.DiscordEntrypoint.relayAction(
        tenantId,
        relayId,
        { kind: "reply", text: "Asha here" },
        asha,
      ),
    ).toMatchObject({ ok: false, error: { code: "tenant_suspended" } });
    expect(await sentTo(env.SANDBOX_URL, customer)).toEqual([]);
    expect(await getRelay(env.DB, tenantId, relayId)).toMatchObject({ status: "open" });
    await reactivate();
    expect(
      await exports.DiscordEntrypoint.relayAction(
        tenantId,
        relayId,
        { kind: "reply", text: "Asha here" },
        asha,
      ),
    ).toMatchObject({ ok: true, status: "replied" });
    expect((await sentTo(env.SANDBOX_URL, customer)).map((m) => m.text)).toEqual(["Asha here"]);
  });
});

describe("cron runs", () => {
  it("the pipeline's crons are exactly wrangler.jsonc's triggers", () => {
    const crons = /"crons"\s*:\s*(\[[^\]]*\])/.exec(wranglerConfig)?.[1];
    expect(JSON.parse(crons ?? "null")).toEqual(PIPELINE_CRONS.map((c) => c.cron));
  });

  it("each cron's interval is what its expression says (the health page calls it late by that)", () => {
    /** The forms the pipeline uses: every N minutes, and once a day at a fixed time. */
    const intervalOf = (cron: string): number => {
      const every = /^\*\/(\d+) \* \* \* \*$/.exec(cron);
      if (every) return Number(every[1]) * 60_000;
      if (/^\d+ \d+ \* \* \*$/.test(cron)) return 24 * 3600_000;
      throw new Error(`teach this test the interval of "${cron}"`);
    };
    for (const { cron, intervalMs } of PIPELINE_CRONS) expect(intervalMs, cron).toBe(intervalOf(cron));
  });

  it("records each run under its cron expression; a failed run is recorded as failed and still throws", async () => {
    const [{ cron: approvals }] = PIPELINE_CRONS;
    const at = Date.now();
    await worker.scheduled(createScheduledController({ cron: approvals, scheduledTime: at }), env);
    const row = () =>
      env.DB.prepare("SELECT last_run_at AS at, ok FROM cron_runs WHERE name = ?").bind(approvals).first();
    expect(await row()).toEqual({ at, ok: 1 });

    // The job's first read fails (a broken binding); recording the run still works.
    const broken = new Proxy(env.DB, {
      get(target, prop) {
        if (prop === "prepare") {
          return (sql: string) => {
            if (sql.includes("approvals")) throw new Error("D1 is unavailable");
            return target.prepare(sql);
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    await expect(
      worker.scheduled(createScheduledController({ cron: approvals, scheduledTime: at + 1 }), {
        ...env,
        DB: broken,
      }),
    ).rejects.toThrow(/cron jobs failed: expire_approvals/);
    expect(await row()).toEqual({ at: at + 1, ok: 0 });
  });
});
