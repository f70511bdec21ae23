// The channels' reply windows for what is not a person typing now (issue 19, item 5): an automatic
// reply to a message that arrives after WhatsApp's 24 hours (Meta redelivers for days) is not
// attempted, and an approved draft goes only while a person's reply could: WhatsApp 24 hours,
// Instagram 7 days with the HUMAN_AGENT tag past 24 hours, refused after with the reason.
// Through the real entry points (MetaIngestEntrypoint.ingest, TenantEntrypoint.decideApproval).
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { InboundMessage } from "@concierge/core";
import {
  createChannelAccount,
  createRelay,
  creditBalance,
  getApproval,
  getRelay,
  saveReplyConfig,
} from "@concierge/storage";
import { newMid, uniqueIgsid } from "@concierge/testing/instagram-fixtures";
import {
  graphAttempts,
  injectGraphFault,
  instagramSentTo,
  sentTo,
  uniqueCustomer,
} from "@concierge/testing/sandbox-client";
import { inboundText } from "@concierge/testing/tenant-fixtures";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { savePageToken } from "../src/channels/instagram/page-tokens.ts";
import {
  approvePersona,
  discordApi,
  ingestApi,
  newAccount,
  setBalance,
  setTurnField,
  tenantApi,
  tenantId,
  setBufferedField,
} from "./helpers.ts";

const HOUR = 3600_000;
const DAY = 24 * HOUR;

async function actions(customerId: string) {
  const { results } = await env.DB.prepare(
    "SELECT direction, action FROM messages WHERE sender_id = ? OR recipient_id = ? ORDER BY id",
  )
    .bind(customerId, customerId)
    .all<{ direction: string; action: string }>();
  return results;
}

function cannedAccount() {
  return newAccount({
    wait_seconds: 0,
    rules: [],
    default_rule: { response: { kind: "canned", text: "Thanks!" } },
  });
}

/** The customer's message, as Meta (re)delivers it: written `ageMs` ago. */
function written(externalId: string, customer: string, text: string, ageMs: number): InboundMessage {
  return { ...inboundText(externalId, customer, text), sentAt: Date.now() - ageMs };
}

/**
 * Moves the customer's newest message `ms` into the past: the time the turn's row keeps and the
 * send time of any message still buffered (a turn being retried still holds its own).
 */
function lastInboundAgo(stub: DurableObjectStub, ms: number) {
  return runInDurableObject(stub, (_o, state) => {
    setTurnField(state, "last_inbound_at", Date.now() - ms);
    // Nothing buffered is fine: a turn that finished holds no message.
    setBufferedField(state, "sent_at", "MIN($old, ?)", [Date.now() - ms], { atLeast: 0 });
  });
}

/** A draft held for approval for a new WhatsApp customer. */
async function heldDraft() {
  const acc = await newAccount({
    wait_seconds: 0,
    rules: [],
    default_rule: { response: { kind: "prompt", text: "Answer kindly." }, approval: "always" },
  });
  const customer = uniqueCustomer();
  await acc.send(customer, "Do you cater for 40?");
  const approval = await vi.waitUntil(
    async () => (await tenantApi.listApprovals(tenantId)).find((a) => a.accountId === acc.id),
    { timeout: 5000 },
  );
  return { acc, customer, id: approval.id, stub: acc.conversation(customer) };
}

beforeEach(async () => {
  await approvePersona({ kind: "raw", prompt: "Friendly." });
  await setBalance(5);
});

describe("an automatic reply and WhatsApp's 24 hours", () => {
  it("is not attempted for a message that arrives already older than the window, and says so", async () => {
    const acc = await cannedAccount();
    const late = uniqueCustomer();
    await ingestApi.ingest([written(acc.externalId, late, "hello from Tuesday", 25 * HOUR)]);
    await vi.waitUntil(async () => (await actions(late)).length > 0, { timeout: 5000 });
    expect(await actions(late)).toEqual([{ direction: "inbound", action: "outside_window" }]);
    expect(await graphAttempts(env.SANDBOX_URL, late)).toBe(0);

    // Just inside: answered as usual.
    const inside = uniqueCustomer();
    await ingestApi.ingest([written(acc.externalId, inside, "hello from yesterday", 23 * HOUR)]);
    await vi.waitUntil(async () => (await sentTo(env.SANDBOX_URL, inside)).length === 1, { timeout: 5000 });
    expect((await actions(inside)).map((a) => a.action)).toEqual(["canned_reply", "canned_reply"]);
  });

  it("counts from the customer's newest message: a late redelivery of an old one is still answered", async () => {
    const acc = await cannedAccount();
    const customer = uniqueCustomer();
    await acc.send(customer, "hi");
    await vi.waitUntil(async () => (await sentTo(env.SANDBOX_URL, customer)).length === 1, { timeout: 5000 });
    await ingestApi.ingest([written(acc.externalId, customer, "the one from two days ago", 2 * DAY)]);
    await vi.waitUntil(async () => (await sentTo(env.SANDBOX_URL, customer)).length === 2, { timeout: 5000 });
    expect((await actions(customer)).filter((a) => a.action === "outside_window")).toEqual([]);
  });
});

describe("an approved draft and the channel's window", () => {
  it("expires when the window closes, not a full day after it was held, so the cron gives its credit back", async () => {
    const acc = await newAccount({
      wait_seconds: 0,
      rules: [],
      default_rule: { response: { kind: "prompt", text: "Answer kindly." }, approval: "always" },
    });
    const customer = uniqueCustomer();
    const message = written(acc.externalId, customer, "Is the terrace free tonight?", 23 * HOUR);
    await ingestApi.ingest([message]);
    const approval = await vi.waitUntil(
      async () => (await tenantApi.listApprovals(tenantId)).find((a) => a.accountId === acc.id),
      { timeout: 5000 },
    );
    expect(approval.expiresAt).toBe(message.sentAt + DAY);
    expect(approval.expiresAt).toBeLessThan(approval.createdAt + DAY);
  });

  it("is refused on WhatsApp after 24 hours: nothing attempted, the approver told why, the credit back", async () => {
    const { customer, id, stub } = await heldDraft();
    expect(await creditBalance(env.DB, tenantId)).toBe(4);
    await lastInboundAgo(stub, DAY + 60_000);
    const r = await tenantApi.decideApproval(tenantId, id, { action: "approve" }, "asha");
    expect(r).toMatchObject({ ok: false, error: { code: "outside_window" } });
    if (r.ok) throw new Error("expected a refusal");
    expect(r.error.message).toMatch(/24 hours/);
    expect(await graphAttempts(env.SANDBOX_URL, customer)).toBe(0);
    expect(await getApproval(env.DB, tenantId, id)).toMatchObject({ status: "failed" });
    expect(await creditBalance(env.DB, tenantId)).toBe(5);
    // The draft's text is gone from the conversation object, and a second click changes nothing.
    const drafts = await runInDurableObject(stub, (_o, state) =>
      state.storage.sql.exec("SELECT COUNT(*) AS n FROM drafts").one(),
    );
    expect(drafts).toEqual({ n: 0 });
    expect(await tenantApi.decideApproval(tenantId, id, { action: "approve" }, "asha")).toMatchObject({
      ok: false,
      error: { code: "already_decided" },
    });
  });

  it("goes on WhatsApp just inside the 24 hours", async () => {
    const { customer, id, stub } = await heldDraft();
    await lastInboundAgo(stub, DAY - 5 * 60_000);
    expect(await tenantApi.decideApproval(tenantId, id, { action: "approve" }, "asha")).toEqual({
      ok: true,
      status: "sent",
    });
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(1);
  });

  it("goes on Instagram tagged HUMAN_AGENT after 24 hours, and is refused after 7 days", async () => {
    const externalId = uniqueIgsid();
    const acc = await createChannelAccount(env.DB, { tenantId, channel: "instagram", externalId });
    await saveReplyConfig(env.DB, tenantId, acc.id, {
      wait_seconds: 0,
      rules: [],
      default_rule: { response: { kind: "prompt", text: "Answer kindly." }, approval: "always" },
    });
    const pageToken = `EAAG-page-${crypto.randomUUID()}`;
    await savePageToken(env, {
      accountId: acc.id,
      tenantId,
      pageId: uniqueIgsid(),
      token: pageToken,
      expiresAt: null,
    });
    const draftFor = async () => {
      const customer = uniqueIgsid();
      await ingestApi.ingest([
        {
          channel: "instagram",
          accountExternalId: externalId,
          providerMessageId: newMid(),
          customerId: customer,
          sentAt: Date.now(),
          kind: "text",
          text: "Can I book the terrace?",
          hasAttachment: false,
        },
      ]);
      const approval = await vi.waitUntil(
        async () =>
          (await tenantApi.listApprovals(tenantId)).find(
            (a) => a.accountId === acc.id && a.threadKey.endsWith(`/${customer}`),
          ),
        { timeout: 5000 },
      );
      const stub = env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(`${tenantId}/${acc.id}/${customer}`));
      return { customer, id: approval.id, stub };
    };

    const late = await draftFor();
    await lastInboundAgo(late.stub, 3 * DAY);
    expect(await tenantApi.decideApproval(tenantId, late.id, { action: "approve" }, "asha")).toMatchObject({
      ok: true,
    });
    expect((await instagramSentTo(env.SANDBOX_URL, late.customer)).sent).toEqual([
      expect.objectContaining({ messagingType: "MESSAGE_TAG", tag: "HUMAN_AGENT" }),
    ]);

    const gone = await draftFor();
    await lastInboundAgo(gone.stub, 7 * DAY + 60_000);
    const r = await tenantApi.decideApproval(tenantId, gone.id, { action: "approve" }, "asha");
    expect(r).toMatchObject({
      ok: false,
      error: { code: "outside_window", message: expect.stringMatching(/7 days/) },
    });
    expect((await instagramSentTo(env.SANDBOX_URL, gone.customer)).attempts).toBe(0);
  });
});

describe("what closes the window while a turn or an inbox item waits", () => {
  it("a reply kept for a retry is not sent once the window has closed, and its credit comes back", async () => {
    const acc = await newAccount({
      wait_seconds: 0,
      rules: [],
      default_rule: { response: { kind: "prompt", text: "Answer kindly." } },
    });
    const customer = uniqueCustomer();
    // Meta is down for this customer: the AI reply is kept for a retry, its credit taken.
    for (let i = 0; i < 5; i++) {
      await injectGraphFault(env.SANDBOX_URL, {
        status: 500,
        code: 1,
        message: "(#1) Unknown error",
        to: customer,
      });
    }
    await acc.send(customer, "Do you open on Sundays?");
    await vi.waitUntil(async () => (await graphAttempts(env.SANDBOX_URL, customer)) >= 1, { timeout: 5000 });
    expect(await creditBalance(env.DB, tenantId)).toBe(4);
    const stub = acc.conversation(customer);
    await lastInboundAgo(stub, DAY + 60_000);
    const attempts = await graphAttempts(env.SANDBOX_URL, customer);
    await runDurableObjectAlarm(stub);
    expect(await graphAttempts(env.SANDBOX_URL, customer)).toBe(attempts);
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(0);
    expect(await actions(customer)).toEqual([{ direction: "inbound", action: "outside_window" }]);
    expect(await creditBalance(env.DB, tenantId)).toBe(5);
  });

  it("approving from the Discord inbox after the window closed is refused and closes the item", async () => {
    const { acc, customer, id, stub } = await heldDraft();
    const approval = (await tenantApi.listApprovals(tenantId)).find((a) => a.id === id)!;
    const relayId = `rl_win${Date.now().toString(36)}`;
    await createRelay(env.DB, {
      id: relayId,
      tenantId,
      accountId: acc.id,
      channel: "whatsapp",
      customerId: customer,
      threadKey: approval.threadKey,
      kind: "approval",
      approvalId: approval.id,
      providerMessageId: null,
      guildId: "910000000000000001",
      channelId: "910000000000000003",
    });
    await lastInboundAgo(stub, DAY + 60_000);
    const r = await discordApi.relayAction(
      tenantId,
      relayId,
      { kind: "approve" },
      { id: "810000000000000001", name: "Asha" },
    );
    expect(r).toMatchObject({ ok: false, error: { code: "outside_window" } });
    // Closed as failed, not reopened with an Approve that can never work again.
    expect(await getRelay(env.DB, tenantId, relayId)).toMatchObject({ status: "dropped" });
    expect(await getApproval(env.DB, tenantId, approval.id)).toMatchObject({ status: "failed" });
    expect(await graphAttempts(env.SANDBOX_URL, customer)).toBe(0);
  });
});
