// Take over, hand back, pause, and the live inbox's view of a conversation (issue 19 items 1 and 2),
// through the tenant API the dashboard calls and the real ingest path: the conversation object holds
// the state, D1's conversation_states mirrors it (ids and who, never text).
import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { createChannelAccount } from "@concierge/storage";
import { sentEmails, sentTo, uniqueCustomer } from "@concierge/testing/sandbox-client";
import { inboundEmail } from "@concierge/testing/tenant-fixtures";
import { beforeEach, describe, expect, it, vi } from "vitest";
import {
  approvePersona,
  newAccount,
  repliesTo,
  setBalance,
  setStateKey,
  setTurnField,
  tenantApi,
  tenantId,
} from "./helpers.ts";
import { mailText, verifiedAddress } from "./notify-helpers.ts";

const HOLDING = "A person will answer you here.";

function account() {
  return newAccount({
    wait_seconds: 0,
    rules: [
      {
        id: "person",
        matcher: { kind: "static_text", keywords: ["a person"] },
        response: { kind: "handoff", text: HOLDING },
      },
    ],
    default_rule: { response: { kind: "canned", text: "Open 7 to 7." } },
  });
}

/** A new customer of a new account who wrote once and got the bot's reply. */
async function answeredOnce() {
  const acc = await account();
  const customer = uniqueCustomer();
  await acc.send(customer, "hello");
  await repliesTo(customer, 1);
  return { acc, customer };
}

/** Moves a time the conversation object keeps (rather than waiting for it to pass). */
function setState(acc: Awaited<ReturnType<typeof account>>, customer: string, key: string, at: number) {
  return runInDurableObject(acc.conversation(customer), (_o, state) => {
    // The turn's own values are one row (store.ts `TurnState`).
    if (key === "last_activity_at") {
      setTurnField(state, "last_activity_at", at);
    } else setStateKey(state, key, String(at));
  });
}

/** A person's action on the customer's conversation, through the tenant API the dashboard calls. */
function control(
  acc: Awaited<ReturnType<typeof account>>,
  customer: string,
  action: Parameters<typeof tenantApi.controlConversation>[3],
  actor = "asha@example.com",
) {
  return tenantApi.controlConversation(tenantId, acc.id, customer, action, actor);
}

async function actions(customerId: string) {
  const { results } = await env.DB.prepare(
    "SELECT action FROM messages WHERE sender_id = ? AND direction = 'inbound' ORDER BY id",
  )
    .bind(customerId)
    .all<{ action: string }>();
  return results.map((r) => r.action);
}

async function mirrored(customerId: string) {
  return env.DB.prepare(
    "SELECT state, actor, paused_until AS pausedUntil FROM conversation_states WHERE customer_id = ?",
  )
    .bind(customerId)
    .first<{ state: string; actor: string; pausedUntil: number | null }>();
}

beforeEach(() => setBalance(0));

describe("a person's control of one conversation", () => {
  it("a hand-off rule's handoff shows as waiting for a person, by the rule; taking over and handing back are recorded with who", async () => {
    const acc = await account();
    const customer = uniqueCustomer();
    await acc.send(customer, "can I talk to a person?");
    await repliesTo(customer, 1);
    await vi.waitUntil(async () => (await mirrored(customer))?.state === "handed_off", { timeout: 5000 });
    expect(await mirrored(customer)).toMatchObject({ actor: "rule" });
    const read = await tenantApi.readConversation(tenantId, acc.id, customer);
    expect(read).toMatchObject({
      ok: true,
      view: {
        channel: "whatsapp",
        state: "handed_off",
        by: "rule",
        messages: [
          { from: "customer", text: "can I talk to a person?" },
          { from: "business", text: HOLDING },
        ],
        drafts: [],
        window: { open: true, humanAgent: false },
      },
    });

    expect(await control(acc, customer, { action: "take_over" })).toEqual({
      ok: true,
      state: "taken_over",
      pausedUntil: null,
    });
    expect(await mirrored(customer)).toMatchObject({ state: "taken_over", actor: "asha@example.com" });
    expect(await control(acc, customer, { action: "hand_back" }, "ravi@example.com")).toMatchObject({
      ok: true,
      state: "bot",
    });
    expect(await mirrored(customer)).toMatchObject({ state: "bot", actor: "ravi@example.com" });
    await acc.send(customer, "what time?");
    expect((await repliesTo(customer, 2))[1]!.text).toBe("Open 7 to 7.");
  });

  it("a pause silences every automatic reply until it ends, then the bot answers again", async () => {
    const { acc, customer } = await answeredOnce();
    const paused = await control(acc, customer, { action: "pause", minutes: 30 });
    expect(paused).toMatchObject({ ok: true, state: "paused" });
    const until = paused.ok ? paused.pausedUntil! : 0;
    expect(until - Date.now()).toBeGreaterThan(29 * 60_000);
    expect(await mirrored(customer)).toMatchObject({ state: "bot", pausedUntil: until });
    // Even a hand-off rule's sentence waits: nothing automatic talks during a pause.
    await acc.send(customer, "a person please");
    await vi.waitUntil(async () => (await actions(customer)).includes("paused"), { timeout: 5000 });
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(1);
    // The pause's time passes (moved back here rather than waited for).
    await setState(acc, customer, "paused_until", Date.now() - 1);
    await acc.send(customer, "still there?");
    expect((await repliesTo(customer, 2))[1]!.text).toBe("Open 7 to 7.");
  });

  it("each reply records how long the customer waited for it: the bot's at once, a person's after a takeover (item 6)", async () => {
    const { acc, customer } = await answeredOnce();
    const waits = async () => {
      const { results } = await env.DB.prepare(
        "SELECT action, reply_wait_ms AS wait FROM messages WHERE recipient_id = ? AND direction = 'outbound' ORDER BY id",
      )
        .bind(customer)
        .all<{ action: string; wait: number | null }>();
      return results;
    };
    const [bot] = await waits();
    expect(bot).toMatchObject({ action: "canned_reply" });
    expect(bot!.wait).toBeGreaterThanOrEqual(0);
    expect(bot!.wait).toBeLessThan(60_000);
    await control(acc, customer, { action: "take_over" });
    await acc.send(customer, "anyone there?");
    await acc.send(customer, "hello??");
    await vi.waitUntil(async () => (await actions(customer)).length === 3, { timeout: 5000 });
    // The customer's first unanswered message was 20 minutes ago (moved back, not waited for).
    await setState(acc, customer, "awaiting_reply_since", Date.now() - 20 * 60_000);
    const sent = await tenantApi.sendHumanReply(tenantId, acc.id, customer, "Asha here!", "asha@example.com");
    expect(sent).toMatchObject({ ok: true });
    const person = (await waits())[1]!;
    expect(person.action).toBe("human_reply");
    expect(person.wait).toBeGreaterThanOrEqual(20 * 60_000);
    expect(person.wait).toBeLessThan(25 * 60_000);
    // The wait ended with that reply: a second reply right after has none to report.
    await tenantApi.sendHumanReply(tenantId, acc.id, customer, "How can I help?", "asha@example.com");
    expect((await waits())[2]).toMatchObject({ action: "human_reply", wait: null });
  });

  it("a wait outlives the idle gap until a reply ends it; a new conversation starts a new wait (item 6)", async () => {
    const { acc, customer } = await answeredOnce();
    const lastWait = async () =>
      (await env.DB.prepare(
        "SELECT action, reply_wait_ms AS wait FROM messages WHERE recipient_id = ? AND direction = 'outbound' ORDER BY id DESC LIMIT 1",
      )
        .bind(customer)
        .first<{ action: string; wait: number | null }>())!;
    // Taken over: the customer's question waits for a person, past the idle gap (six hours).
    await control(acc, customer, { action: "take_over" });
    await acc.send(customer, "do you deliver?");
    await vi.waitUntil(async () => (await actions(customer)).length === 2, { timeout: 5000 });
    await setState(acc, customer, "awaiting_reply_since", Date.now() - 7 * 3_600_000);
    await setState(acc, customer, "last_activity_at", Date.now() - 7 * 3_600_000);
    expect(
      await tenantApi.sendHumanReply(tenantId, acc.id, customer, "Yes!", "asha@example.com"),
    ).toMatchObject({
      ok: true,
    });
    expect((await lastWait()).wait).toBeGreaterThanOrEqual(7 * 3_600_000);
    // Paused: a message nobody answers; then the conversation idles out (moved back, not waited).
    await control(acc, customer, { action: "pause", minutes: 30 });
    await acc.send(customer, "thanks!");
    await vi.waitUntil(async () => (await actions(customer)).includes("paused"), { timeout: 5000 });
    await setState(acc, customer, "awaiting_reply_since", Date.now() - 10 * 3_600_000);
    await setState(acc, customer, "last_activity_at", Date.now() - 7 * 3_600_000);
    await setState(acc, customer, "paused_until", Date.now() - 1);
    await control(acc, customer, { action: "hand_back" });
    // A new conversation: yesterday's "thanks!" is not why this question waited.
    await acc.send(customer, "what time do you open?");
    await repliesTo(customer, 3);
    await vi.waitUntil(async () => (await lastWait()).action === "canned_reply", { timeout: 5000 });
    expect((await lastWait()).wait).toBeLessThan(60_000);
  });

  it("a takeover of a conversation already quiet past the idle gap holds for the customer's next message", async () => {
    const { acc, customer } = await answeredOnce();
    // Seven hours of quiet (the idle gap is six), then a person takes over from the inbox.
    await setState(acc, customer, "last_activity_at", Date.now() - 7 * 3_600_000);
    await control(acc, customer, { action: "take_over" });
    await acc.send(customer, "are you there?");
    await vi.waitUntil(async () => (await actions(customer)).length === 2, { timeout: 5000 });
    expect((await actions(customer))[1]).toBe("handoff_silent");
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(1);
  });

  it("a pause over a takeover: when the pause ends, the person still has the conversation", async () => {
    const { acc, customer } = await answeredOnce();
    await control(acc, customer, { action: "take_over" });
    const paused = await control(acc, customer, { action: "pause", minutes: 15 }, "ravi@example.com");
    expect(paused).toMatchObject({ ok: true, state: "paused" });
    expect(await mirrored(customer)).toMatchObject({ state: "taken_over", actor: "ravi@example.com" });
    await setState(acc, customer, "paused_until", Date.now() - 1);
    expect(await tenantApi.readConversation(tenantId, acc.id, customer)).toMatchObject({
      ok: true,
      view: { state: "taken_over" },
    });
    await acc.send(customer, "still there?");
    await vi.waitUntil(async () => (await actions(customer)).length === 2, { timeout: 5000 });
    expect((await actions(customer))[1]).toBe("handoff_silent");
  });

  it("shows a held draft and the customer's messages still waiting; refuses bad input and another tenant's thread", async () => {
    await approvePersona({ kind: "raw", prompt: "Friendly." });
    await setBalance(5);
    const acc = await newAccount({
      wait_seconds: 0,
      rules: [],
      default_rule: { response: { kind: "prompt", text: "Answer kindly." }, approval: "always" },
    });
    const customer = uniqueCustomer();
    await acc.send(customer, "what time do you open?");
    const drafted = await vi.waitUntil(
      async () => {
        const r = await tenantApi.readConversation(tenantId, acc.id, customer);
        return r.ok && r.view.drafts.length === 1 && r.view.messages.length === 1 ? r.view : null;
      },
      { timeout: 5000 },
    );
    expect(drafted).toMatchObject({
      state: "bot",
      messages: [{ from: "customer", text: "what time do you open?" }],
      waiting: [],
    });
    expect(drafted.drafts[0]!.text.length).toBeGreaterThan(0);

    // A message still in the buffer (a 30 s wait) is shown as waiting for its turn.
    const slow = await newAccount({
      wait_seconds: 30,
      rules: [],
      default_rule: { response: { kind: "canned", text: "Open 7 to 7." } },
    });
    await slow.send(customer, "are you there?");
    expect(await tenantApi.readConversation(tenantId, slow.id, customer)).toMatchObject({
      ok: true,
      view: { messages: [], waiting: [{ text: "are you there?" }] },
    });

    const bad = [
      { action: "take_over_now" },
      { action: "pause", minutes: 2 },
      { action: "pause", minutes: 10_081 },
      { action: "pause" },
      "take_over",
    ];
    for (const control of bad) {
      const r = await tenantApi.controlConversation(tenantId, acc.id, customer, control, "a@example.com");
      expect(r).toMatchObject({ ok: false, error: { code: "invalid_input" } });
    }
    expect(await control(acc, customer, { action: "take_over" }, " ")).toMatchObject({
      ok: false,
      error: { code: "invalid_input" },
    });
    expect(
      await tenantApi.controlConversation(
        "t_other",
        acc.id,
        customer,
        { action: "take_over" },
        "a@example.com",
      ),
    ).toMatchObject({ ok: false, error: { code: "not_found" } });
    expect(await tenantApi.readConversation("t_other", acc.id, customer)).toMatchObject({
      ok: false,
      error: { code: "not_found" },
    });
    // A customer who never wrote: nothing to open.
    expect(await tenantApi.readConversation(tenantId, acc.id, uniqueCustomer())).toMatchObject({
      ok: false,
      error: { code: "not_found" },
    });
    expect(await mirrored(customer)).toBeNull();
  });

  it("mail routed to a Discord inbox the tenant does not have reaches the live inbox instead, and the tenant is told once (item 6)", async () => {
    const created = await exports.TenantEntrypoint.createTenant({ name: "No Discord" });
    if (!created.ok) throw new Error(created.error.message);
    // The tenant's notifications go to a confirmed email address (no Discord anywhere).
    const notify = `nd-${crypto.randomUUID().slice(0, 8)}@shop.example`;
    await verifiedAddress(created.tenantId, notify);
    expect(await tenantApi.setNotifications(created.tenantId, { email: notify })).toMatchObject({ ok: true });
    const notices = async () =>
      (await sentEmails(env.SANDBOX_URL, notify)).filter((m) => !mailText(m.raw).includes("verify?token"));
    // No 5-second buffer for the email account (the tenant's default wait).
    await env.DB.prepare("UPDATE tenants SET default_wait_seconds = 0 WHERE id = ?")
      .bind(created.tenantId)
      .run();
    const domain = `nd${crypto.randomUUID().slice(0, 8)}.cncg.test`;
    const acc = await createChannelAccount(env.DB, {
      tenantId: created.tenantId,
      channel: "email",
      externalId: domain,
    });
    const from = `c${crypto.randomUUID().slice(0, 6)}@example.org`;
    const mail = (text: string) =>
      exports.EmailIngestEntrypoint.ingest([
        inboundEmail(domain, from, { text, subject: "Order 1182", route: "relay" }),
      ]);
    const res = await mail("Please call me back about my order");
    expect(res).toMatchObject({ ok: true, results: [{ status: "accepted" }] });
    await vi.waitUntil(async () => (await actions(from)).includes("relay_no_inbox"), { timeout: 5000 });
    // Told, with the channel and the masked sender only (never the mail's words).
    const [notice] = await vi.waitUntil(
      async () => {
        const n = await notices();
        return n.length > 0 ? n : null;
      },
      { timeout: 5000 },
    );
    const noticeText = mailText(notice!.raw);
    expect(noticeText).toContain("was routed to a person. No Discord inbox is connected");
    expect(noticeText).not.toContain("call me back");
    expect(noticeText).not.toContain(from);
    // A second mail of the same conversation waits there too; the tenant is not told again.
    await mail("Also, is it shipped?");
    await vi.waitUntil(async () => (await actions(from)).filter((a) => a === "relay_no_inbox").length === 2, {
      timeout: 5000,
    });
    // After that turn nothing is left to tell: no notice pending, the conversation marked told.
    const convo = env.CONVERSATIONS.get(
      env.CONVERSATIONS.idFromName(`${created.tenantId}/${acc.id}/${from}`),
    );
    const keys = () =>
      runInDurableObject(convo, (_o, state) =>
        Object.fromEntries(
          state.storage.sql
            .exec<{ k: string; v: string }>(
              `SELECT k, v FROM state WHERE k IN ('mail_notice_pending', 'mail_paged_for')
               UNION ALL SELECT 'conversation_id', json_extract(v, '$.conversation_id') FROM state WHERE k = 'turn'`,
            )
            .toArray()
            .map((r) => [r.k, r.v]),
        ),
      );
    await vi.waitUntil(async () => (await keys()).mail_notice_pending === undefined, { timeout: 5000 });
    const told = await keys();
    expect(told.mail_paged_for).toBe(told.conversation_id);
    expect(await notices()).toHaveLength(1);
    const read = await vi.waitUntil(
      async () => {
        const r = await tenantApi.readConversation(created.tenantId, acc.id, from);
        return r.ok && r.view.forPerson.length > 0 ? r.view : null;
      },
      { timeout: 5000 },
    );
    expect(read).toMatchObject({
      channel: "email",
      // For the person only: the AI's history does not have it.
      messages: [],
      forPerson: [{ text: "Please call me back about my order" }, { text: "Also, is it shipped?" }],
      window: { open: true, closesAt: null },
    });
  });
});
