// Notices about held drafts and handoffs: at once, or gathered for the tenant's cadence and sent
// by the 15-minute cron as one summary; where they may go (a verified notification email only).
import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { getTenantSettings } from "@concierge/storage";
import { sentEmails, uniqueCustomer } from "@concierge/testing/sandbox-client";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { APPROVALS_CRON } from "../src/crons.ts";
import worker from "../src/index.ts";
import { notifyTenant } from "../src/tenants/notify.ts";
import { approvePersona, newAccount, repliesTo, setBalance, tenantApi, tenantId } from "./helpers.ts";
import {
  discordMessages,
  failNextDiscordPost,
  mailText,
  uniqueChannel,
  verifiedAddress,
} from "./notify-helpers.ts";

const cron = (scheduledTime: number, mailFails = false) =>
  worker.scheduled(
    createScheduledController({ cron: APPROVALS_CRON, scheduledTime }),
    mailFails ? brokenMail() : env,
  );

/** The pipeline's env with an outbox that refuses every mail (a send worth retrying). */
function brokenMail(): typeof env {
  return { ...env, EMAIL_OUTBOX_URL: `${env.SANDBOX_URL}/__sandbox/no-such-outbox` };
}

/** Mails to `address` other than its verification link. */
async function noticeMails(address: string) {
  return (await sentEmails(env.SANDBOX_URL, address)).filter(
    (m) => !mailText(m.raw).includes("verify?token"),
  );
}

type Batch = { kind: string; channel: string; count: number; first_at: number; due_at: number };
async function batches(): Promise<Batch[]> {
  const { results } = await env.DB.prepare(
    "SELECT kind, channel, count, first_at, due_at FROM notification_batches WHERE tenant_id = ? ORDER BY kind",
  )
    .bind(tenantId)
    .all<Batch>();
  return results;
}

function handoffAccount() {
  return newAccount({
    wait_seconds: 0,
    rules: [],
    default_rule: { response: { kind: "prompt", text: "Answer kindly." } },
  });
}
function approvalAccount() {
  return newAccount({
    wait_seconds: 0,
    rules: [],
    default_rule: { response: { kind: "prompt", text: "Answer kindly." }, approval: "always" },
  });
}

/** A customer asks for a person: the turn ends in a handoff. */
async function handoff(text = "I need a human, canary-nt-1 is my order") {
  const acc = await handoffAccount();
  const c = uniqueCustomer();
  await acc.send(c, text);
  await repliesTo(c, 1);
  return c;
}

/** A draft held for approval (nothing reaches the customer). */
async function heldDraft(text = "Do you have oat milk? canary-nt-2") {
  const acc = await approvalAccount();
  const c = uniqueCustomer();
  await acc.send(c, text);
  await vi.waitUntil(
    async () => (await tenantApi.listApprovals(tenantId)).some((a) => a.accountId === acc.id),
    {
      timeout: 5000,
    },
  );
  return c;
}

beforeAll(() => approvePersona({ kind: "raw", prompt: "Friendly." }));
beforeEach(() => setBalance(50));
afterEach(async () => {
  await tenantApi.setNotifications(tenantId, {
    discordChannelId: null,
    email: null,
    cadence: "instant",
    digest: "off",
  });
  await env.DB.prepare("DELETE FROM notification_batches WHERE tenant_id = ?").bind(tenantId).run();
});

describe("setNotifications", () => {
  it("refuses an unverified email and saves nothing; a verified one is kept, lower-case", async () => {
    const channel = await uniqueChannel(tenantId);
    const before = await getTenantSettings(env.DB, tenantId);
    const address = `pending-${Date.now()}@chai.example`;
    expect(await tenantApi.addForwardAddress(tenantId, address)).toMatchObject({ ok: true });
    for (const email of [address, `nobody-${Date.now()}@chai.example`]) {
      expect(
        await tenantApi.setNotifications(tenantId, { discordChannelId: channel, email, cadence: "hourly" }),
      ).toMatchObject({ ok: false, error: { code: "email_unverified", message: expect.any(String) } });
    }
    const row = () =>
      env.DB.prepare("SELECT notify_cadence AS cadence FROM tenants WHERE id = ?").bind(tenantId).first();
    expect(await getTenantSettings(env.DB, tenantId)).toEqual(before);
    expect(await row()).toEqual({ cadence: "instant" });

    const confirmed = `owner-${Date.now()}@chai.example`;
    await verifiedAddress(tenantId, confirmed);
    expect(
      await tenantApi.setNotifications(tenantId, {
        email: ` ${confirmed.toUpperCase()} `,
        cadence: "hourly",
      }),
    ).toEqual({ ok: true });
    expect(await getTenantSettings(env.DB, tenantId)).toMatchObject({ notifyEmail: confirmed });
    expect(await row()).toEqual({ cadence: "hourly" });
    // Left out: kept. Cleared: always allowed.
    expect(await tenantApi.setNotifications(tenantId, { discordChannelId: channel })).toEqual({ ok: true });
    expect(await getTenantSettings(env.DB, tenantId)).toMatchObject({
      notifyEmail: confirmed,
      notifyDiscordChannelId: channel,
    });
    expect(await tenantApi.setNotifications(tenantId, { email: null })).toEqual({ ok: true });
    expect(await getTenantSettings(env.DB, tenantId)).toMatchObject({ notifyEmail: null });
  });

  it("refuses an unknown cadence or digest with invalid_cadence and saves nothing", async () => {
    const channel = await uniqueChannel(tenantId);
    for (const to of [
      { discordChannelId: channel, cadence: "weekly" },
      { discordChannelId: channel, digest: "hourly" },
    ]) {
      expect(await tenantApi.setNotifications(tenantId, to as never)).toMatchObject({
        ok: false,
        error: { code: "invalid_cadence" },
      });
    }
    expect(await getTenantSettings(env.DB, tenantId)).toMatchObject({ notifyDiscordChannelId: null });
  });
});

describe("setNotifications: the digest needs a target", () => {
  it("refuses a digest with neither an email nor a Discord channel after the update (no_target), saving nothing", async () => {
    const channel = await uniqueChannel(tenantId);
    expect(await tenantApi.setNotifications(tenantId, { digest: "daily", cadence: "hourly" })).toMatchObject({
      ok: false,
      error: { code: "no_target", message: expect.any(String) },
    });
    const row = () =>
      env.DB.prepare("SELECT digest, notify_cadence AS cadence FROM tenants WHERE id = ?")
        .bind(tenantId)
        .first();
    expect(await row()).toEqual({ digest: "off", cadence: "instant" });
    expect(
      await tenantApi.setNotifications(tenantId, { digest: "weekly", discordChannelId: channel }),
    ).toEqual({
      ok: true,
    });
    expect(await tenantApi.setNotifications(tenantId, { discordChannelId: null })).toMatchObject({
      ok: false,
      error: { code: "no_target" },
    });
    expect(await getTenantSettings(env.DB, tenantId)).toMatchObject({ notifyDiscordChannelId: channel });
  });
});

describe("a deleted forward address", () => {
  it("stops being the notification email: deleted, added again unverified, it gets no notice", async () => {
    const channel = await uniqueChannel(tenantId);
    const email = `deleted-${Date.now()}@chai.example`;
    await verifiedAddress(tenantId, email);
    await tenantApi.setNotifications(tenantId, { email, discordChannelId: channel });
    // Cached: the settings are read once here, so a stale cache would still hold the address.
    expect(await notifyTenant(env, tenantId, { kind: "low_balance", balance: 3 })).toBe(true);
    expect(await noticeMails(email)).toHaveLength(1);
    const id = (await tenantApi.listForwardAddresses(tenantId)).find((a) => a.address === email)!.id;
    expect(await tenantApi.deleteForwardAddress(tenantId, id)).toEqual({ ok: true });
    expect(await getTenantSettings(env.DB, tenantId)).toMatchObject({
      notifyEmail: null,
      notifyDiscordChannelId: channel,
    });
    expect(await tenantApi.addForwardAddress(tenantId, email)).toMatchObject({ ok: true });
    expect(await notifyTenant(env, tenantId, { kind: "low_balance", balance: 2 })).toBe(true);
    expect(await noticeMails(email)).toHaveLength(1);
    expect(await discordMessages(channel)).toHaveLength(2);
  });

  it("the verification mail names the business in its locale and fits both uses; the link is as before", async () => {
    const email = `wording-${Date.now()}@chai.example`;
    expect(await tenantApi.addForwardAddress(tenantId, email)).toMatchObject({ ok: true, sent: true });
    const mail = mailText((await sentEmails(env.SANDBOX_URL, email)).at(-1)!.raw);
    expect(mail).toContain("wants to send mail to");
    expect(mail).toContain("notifications");
    expect(mail).toContain("forward");
    expect(mail).not.toContain("forward some of its mail");
    expect(mail).toMatch(/https:\/\/dash\.test\/email\/verify\?token=[A-Za-z0-9_-]+/);
  });
});

describe("approval notices", () => {
  it("tells the tenant's Discord channel and email once when a draft is held: channel and masked customer only", async () => {
    const channel = await uniqueChannel(tenantId);
    const email = `approvals-${Date.now()}@chai.example`;
    await verifiedAddress(tenantId, email);
    await tenantApi.setNotifications(tenantId, { discordChannelId: channel, email });
    const c = await heldDraft();
    await vi.waitUntil(async () => (await discordMessages(channel)).length > 0, { timeout: 5000 });
    await vi.waitUntil(async () => (await sentEmails(env.SANDBOX_URL, email)).length > 1, { timeout: 5000 });
    const posts = await discordMessages(channel);
    expect(posts).toHaveLength(1);
    expect(posts[0]!.content).toContain("waiting for your approval");
    expect(posts[0]!.content).toContain("WhatsApp");
    expect(posts[0]!.content).toContain(`…${c.slice(-4)}`);
    const mail = mailText((await sentEmails(env.SANDBOX_URL, email)).at(-1)!.raw);
    expect(mail).toContain(
      `A reply to a customer on WhatsApp (…${c.slice(-4)}) is waiting for your approval.`,
    );
    for (const text of [posts[0]!.content, mail]) {
      expect(text).not.toContain("canary-nt-2");
      expect(text).not.toContain("offline AI");
      expect(text).not.toContain(c);
    }
  });
});

describe("gathered notices", () => {
  it("a 15-minute tenant gets no page at once, then one summary after the due time and none before", async () => {
    const channel = await uniqueChannel(tenantId);
    await tenantApi.setNotifications(tenantId, { discordChannelId: channel, cadence: "15m" });
    const start = Date.now();
    await handoff();
    await handoff("a person please, canary-nt-3");
    await heldDraft();
    await vi.waitUntil(async () => (await batches()).reduce((n, b) => n + b.count, 0) === 3, {
      timeout: 5000,
    });
    const rows = await batches();
    expect(rows.map((b) => [b.kind, b.channel, b.count])).toEqual([
      ["approval", "whatsapp", 1],
      ["handoff", "whatsapp", 2],
    ]);
    for (const b of rows) {
      expect(b.due_at - b.first_at).toBe(15 * 60_000);
      expect(b.first_at).toBeGreaterThanOrEqual(start);
    }
    expect(await discordMessages(channel)).toEqual([]);

    const due = Math.max(...rows.map((b) => b.due_at));
    await cron(Math.min(...rows.map((b) => b.due_at)) - 1);
    expect(await discordMessages(channel)).toEqual([]);
    await cron(due);
    const posts = await discordMessages(channel);
    expect(posts).toHaveLength(1);
    expect(posts[0]!.content).toContain("2 handoffs and 1 approval are waiting for you.");
    expect(posts[0]!.content).toContain("WhatsApp: 2 handoffs, 1 approval");
    expect(posts[0]!.content).not.toContain("canary-nt");
    expect(await batches()).toEqual([]);
    await cron(due + 15 * 60_000);
    expect(await discordMessages(channel)).toHaveLength(1);
  });

  it("a summary that could not be sent keeps its notices for the next run", async () => {
    const channel = await uniqueChannel(tenantId);
    await tenantApi.setNotifications(tenantId, { discordChannelId: channel, cadence: "hourly" });
    await handoff();
    await vi.waitUntil(async () => (await batches()).length === 1, { timeout: 5000 });
    const [row] = await batches();
    expect(row!.due_at - row!.first_at).toBe(3600_000);
    await failNextDiscordPost(channel);
    await cron(row!.due_at);
    expect(await discordMessages(channel)).toEqual([]);
    expect(await batches()).toMatchObject([{ kind: "handoff", count: 1 }]);
    await cron(row!.due_at + 15 * 60_000);
    const posts = await discordMessages(channel);
    expect(posts).toHaveLength(1);
    expect(posts[0]!.content).toContain("1 customer is waiting for a person.");
    expect(await batches()).toEqual([]);
  });

  it("a summary one target got (the other failing, worth retrying) counts as sent: not sent again", async () => {
    const channel = await uniqueChannel(tenantId);
    const email = `partial-${Date.now()}@chai.example`;
    await verifiedAddress(tenantId, email);
    await tenantApi.setNotifications(tenantId, { discordChannelId: channel, email, cadence: "hourly" });
    await handoff();
    await vi.waitUntil(async () => (await batches()).length === 1, { timeout: 5000 });
    const [row] = await batches();
    await cron(row!.due_at, true);
    expect(await discordMessages(channel)).toHaveLength(1);
    expect(await noticeMails(email)).toEqual([]);
    expect(await batches()).toEqual([]);
    for (const at of [row!.due_at + 15 * 60_000, row!.due_at + 30 * 60_000]) await cron(at, true);
    expect(await discordMessages(channel)).toHaveLength(1);
  });

  it("a summary no target got is retried 15 minutes later, not on every run, and dropped after cadence + 24 h", async () => {
    const email = `failing-${Date.now()}@chai.example`;
    await verifiedAddress(tenantId, email);
    await tenantApi.setNotifications(tenantId, { email, cadence: "hourly" });
    await handoff();
    await vi.waitUntil(async () => (await batches()).length === 1, { timeout: 5000 });
    const [row] = await batches();
    await cron(row!.due_at, true);
    expect(await batches()).toMatchObject([{ count: 1, due_at: row!.due_at + 15 * 60_000 }]);
    // A run before the retry time (mail working again) does not send it yet.
    await cron(row!.due_at + 5 * 60_000);
    expect(await noticeMails(email)).toEqual([]);
    await cron(row!.due_at + 15 * 60_000, true);
    expect(await batches()).toMatchObject([{ due_at: row!.due_at + 30 * 60_000 }]);
    // Still failing a day after the cadence: dropped, never sent.
    const late = row!.first_at + 3600_000 + 24 * 3600_000;
    await cron(late, true);
    expect(await batches()).toEqual([]);
    await cron(late + 15 * 60_000);
    expect(await noticeMails(email)).toEqual([]);
  });

  it("an instant notice one target got is delivered (no retry that would repeat it in the other)", async () => {
    const channel = await uniqueChannel(tenantId);
    const email = `instant-${Date.now()}@chai.example`;
    await verifiedAddress(tenantId, email);
    await tenantApi.setNotifications(tenantId, { discordChannelId: channel, email });
    const notice = { kind: "approval", channel: "whatsapp", customer: "…1234" } as const;
    expect(await notifyTenant(brokenMail(), tenantId, notice)).toBe(true);
    expect(await discordMessages(channel)).toHaveLength(1);
    // Neither got it: worth retrying.
    await failNextDiscordPost(channel);
    expect(await notifyTenant(brokenMail(), tenantId, notice)).toBe(false);
  });

  it("a low balance is told at once whatever the cadence", async () => {
    const channel = await uniqueChannel(tenantId);
    await env.DB.prepare("UPDATE credit_lots SET remaining = 0 WHERE tenant_id = ?").bind(tenantId).run();
    await setBalance(3);
    await tenantApi.saveConversationSettings(tenantId, {
      idleGapMinutes: 360,
      handoffCooldownMinutes: 60,
      historyTurns: 20,
      defaultWaitSeconds: 5,
      lowBalanceThreshold: 2,
    });
    try {
      await tenantApi.setNotifications(tenantId, { discordChannelId: channel, cadence: "daily" });
      const acc = await handoffAccount();
      const c = uniqueCustomer();
      await acc.send(c, "first question");
      await repliesTo(c, 1);
      await vi.waitUntil(async () => (await discordMessages(channel)).length > 0, { timeout: 5000 });
      expect((await discordMessages(channel))[0]!.content).toContain("down to 2 AI replies");
    } finally {
      await tenantApi.saveConversationSettings(tenantId, {
        idleGapMinutes: 360,
        handoffCooldownMinutes: 60,
        historyTurns: 20,
        defaultWaitSeconds: 5,
        lowBalanceThreshold: 20,
      });
    }
  });
});
