import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { InboundMessage } from "@concierge/core";
import { createChannelAccount, saveReplyConfig } from "@concierge/storage";
import { newMid, uniqueIgsid } from "@concierge/testing/instagram-fixtures";
import { injectInstagramFault, instagramSentTo } from "@concierge/testing/sandbox-client";
import { describe, expect, it } from "vitest";
import { savePageToken } from "../src/channels/instagram/page-tokens.ts";
import { ingestApi, setTurnField, tenantApi, tenantId, setBufferedField } from "./helpers.ts";

// Instagram replies through the real entry point and ConversationDO against the sandbox's fake
// Send API (`/{page-id}/messages`). Every alarm is driven by hand; faults are scoped to each customer.

const CANNED = "Open 7 to 7.";
const DAY = 24 * 3600_000;

/** A new Instagram account of the demo tenant with its own page token and a 30 s buffer. */
async function igAccount() {
  const externalId = uniqueIgsid();
  const account = await createChannelAccount(env.DB, { tenantId, channel: "instagram", externalId });
  await saveReplyConfig(env.DB, tenantId, account.id, {
    wait_seconds: 30,
    rules: [
      {
        id: "hours",
        matcher: { kind: "static_text", keywords: ["hours"] },
        response: { kind: "canned", text: CANNED },
      },
    ],
    default_rule: { response: { kind: "canned", text: "Thanks!" } },
  });
  const pageToken = `EAAG-page-${crypto.randomUUID()}`;
  const pageId = uniqueIgsid();
  await savePageToken(env, {
    accountId: account.id,
    tenantId,
    pageId,
    token: pageToken,
    expiresAt: null,
  });
  return { ...account, pageId, pageToken };
}

type Account = Awaited<ReturnType<typeof igAccount>>;

async function customerWrites(acc: Account, text: string) {
  const customer = uniqueIgsid();
  const m: InboundMessage = {
    channel: "instagram",
    accountExternalId: acc.externalId,
    providerMessageId: newMid(),
    customerId: customer,
    sentAt: Date.now(),
    kind: "text",
    text,
    hasAttachment: false,
  };
  expect(await ingestApi.ingest([m])).toMatchObject({ ok: true, results: [{ status: "accepted" }] });
  const stub = env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(`${tenantId}/${acc.id}/${customer}`));
  return {
    customer,
    stub,
    runAlarm: () => runDurableObjectAlarm(stub),
    lastInboundAgo: (ms: number) =>
      runInDurableObject(stub, (_o, state) => {
        setTurnField(state, "last_inbound_at", Date.now() - ms);
        // A message still buffered (a turn being retried) is as old.
        setBufferedField(state, "sent_at", "MIN($old, ?)", [Date.now() - ms], { atLeast: 0 });
      }),
  };
}

const sent = (customer: string) => instagramSentTo(env.SANDBOX_URL, customer);

async function tokenRow(accountId: string) {
  return env.DB.prepare("SELECT status, dead_reason FROM channel_tokens WHERE account_id = ?")
    .bind(accountId)
    .first<{ status: string; dead_reason: string | null }>();
}

describe("Instagram replies", () => {
  it("answers through the linked page's messages endpoint with its own page token, marked seen first", async () => {
    const acc = await igAccount();
    const c = await customerWrites(acc, "what are your hours?");
    await c.runAlarm();
    const r = await sent(c.customer);
    expect(r.sent).toHaveLength(1);
    expect(r.sent[0]).toMatchObject({
      text: CANNED,
      messagingType: "RESPONSE",
      tag: null,
      pageId: acc.pageId,
      pageToken: acc.pageToken,
    });
    // A canned answer is instant: seen, without the typing bubble.
    expect(r.actions.map((a) => a.action)).toEqual(["mark_seen"]);
    const row = await env.DB.prepare(
      "SELECT channel, action FROM messages WHERE direction = 'outbound' AND provider_message_id = ?",
    )
      .bind(r.sent[0]!.id)
      .first();
    expect(row).toEqual({ channel: "instagram", action: "canned_reply" });
  });

  it("retries a 5xx and sends once it passes", async () => {
    const acc = await igAccount();
    const c = await customerWrites(acc, "hours?");
    await injectInstagramFault(env.SANDBOX_URL, {
      status: 500,
      code: 1,
      message: "An unknown error occurred",
      to: c.customer,
    });
    await c.runAlarm();
    expect((await sent(c.customer)).sent).toHaveLength(0);
    await c.runAlarm();
    const r = await sent(c.customer);
    expect(r.attempts).toBe(2);
    expect(r.sent.map((s) => s.text)).toEqual([CANNED]);
  });

  it("marks the page token dead on 190, never retries, and sends nothing more with it", async () => {
    const acc = await igAccount();
    const c = await customerWrites(acc, "hours?");
    await injectInstagramFault(env.SANDBOX_URL, {
      status: 401,
      code: 190,
      message: "Error validating access token: The session has been invalidated.",
      to: c.customer,
    });
    await c.runAlarm();
    expect(await tokenRow(acc.id)).toEqual({ status: "dead", dead_reason: "invalid_token" });
    // Whatever the next alarm is for, it does not send this turn again.
    await c.runAlarm();
    expect((await sent(c.customer)).attempts).toBe(1);
    const failed = await env.DB.prepare(
      "SELECT action, error_code FROM messages WHERE direction = 'outbound' AND recipient_id = ?",
    )
      .bind(c.customer)
      .first();
    expect(failed).toEqual({ action: "send_failed", error_code: 190 });
    const r = await tenantApi.sendHumanReply(tenantId, acc.id, c.customer, "Hello?", "u_asha");
    expect(r).toMatchObject({ ok: false, error: { code: "send_failed" } });
    expect((await sent(c.customer)).attempts).toBe(1);
  });
});

describe("a person's Instagram reply (sendHumanReply)", () => {
  async function answered() {
    const acc = await igAccount();
    const c = await customerWrites(acc, "hours?");
    await c.runAlarm();
    expect((await sent(c.customer)).sent).toHaveLength(1);
    return { acc, c };
  }

  it("goes plain within 24 hours", async () => {
    const { acc, c } = await answered();
    const r = await tenantApi.sendHumanReply(tenantId, acc.id, c.customer, "Asha here!", "u_asha");
    expect(r).toMatchObject({ ok: true });
    expect((await sent(c.customer)).sent[1]).toMatchObject({
      text: "Asha here!",
      messagingType: "RESPONSE",
      tag: null,
      pageToken: acc.pageToken,
    });
  });

  it("is tagged HUMAN_AGENT between 24 hours and 7 days", async () => {
    const { acc, c } = await answered();
    await c.lastInboundAgo(3 * DAY);
    const r = await tenantApi.sendHumanReply(tenantId, acc.id, c.customer, "Sorry for the wait!", "u_asha");
    expect(r).toMatchObject({ ok: true });
    expect((await sent(c.customer)).sent[1]).toMatchObject({
      text: "Sorry for the wait!",
      messagingType: "MESSAGE_TAG",
      tag: "HUMAN_AGENT",
    });
  });

  it("is refused after 7 days with outside_window and a message naming the 7 days", async () => {
    const { acc, c } = await answered();
    await c.lastInboundAgo(7 * DAY + 60_000);
    const before = (await sent(c.customer)).attempts;
    const r = await tenantApi.sendHumanReply(tenantId, acc.id, c.customer, "Still there?", "u_asha");
    expect(r).toMatchObject({ ok: false, error: { code: "outside_window" } });
    if (r.ok) throw new Error("expected a refusal");
    expect(r.error.message).toMatch(/7 days/);
    expect(r.error.message).toMatch(/Instagram/);
    expect((await sent(c.customer)).attempts).toBe(before);
  });

  it("treats Meta's 10/2018278 (outside the allowed window) as the same refusal", async () => {
    const { acc, c } = await answered();
    await injectInstagramFault(env.SANDBOX_URL, {
      status: 400,
      code: 10,
      error_subcode: 2018278,
      message: "(#10) This message is sent outside of allowed window.",
      to: c.customer,
    });
    const r = await tenantApi.sendHumanReply(tenantId, acc.id, c.customer, "Hello", "u_asha");
    expect(r).toMatchObject({ ok: false, error: { code: "outside_window" } });
  });
});
