import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { Persona } from "@concierge/prompt";
import { creditBalance } from "@concierge/storage";
import {
  graphAttempts,
  injectGraphFault,
  readsOf,
  sentTo,
  uniqueCustomer,
} from "@concierge/testing/sandbox-client";
import { beforeAll, describe, expect, it, vi } from "vitest";
import {
  approvePersona,
  inboundText,
  ingestApi,
  newAccount,
  setBalance,
  setTurnField,
  tenantApi,
  tenantId,
  setBufferedField,
} from "./helpers.ts";

// Sending through the real entry point and ConversationDO against the sandbox's fake Graph API.
// Faults are scoped to each test's own customer, so files sharing the sandbox never collide.
// The reply buffer is 30 s and every alarm is driven by hand: nothing here waits for a clock.

const persona: Persona = {
  kind: "builder",
  voice: "friendly",
  businessName: "Chai & Co.",
  businessType: "tea shop",
  catchPhrases: [],
  offTopics: [],
  never: [],
  handoffConditions: [],
};

const CANNED = "Open 7 to 7.";

/** A fresh number: "hours" answers canned, "book" answers with AI, a 30 s reply buffer. */
function account() {
  return newAccount({
    wait_seconds: 30,
    rules: [
      {
        id: "hours",
        matcher: { kind: "static_text", keywords: ["hours"] },
        response: { kind: "canned", text: CANNED },
      },
      {
        id: "booking",
        matcher: { kind: "static_text", keywords: ["book"] },
        response: { kind: "prompt", text: "Ask which day suits them." },
      },
    ],
    default_rule: { response: { kind: "canned", text: "Thanks!" } },
  });
}

type Account = Awaited<ReturnType<typeof account>>;

/** A customer message accepted into its conversation; its turn waits for `runAlarm`. */
async function customerWrites(acc: Account, text: string) {
  const customer = uniqueCustomer();
  const m = inboundText(acc.externalId, customer, text);
  expect(await ingestApi.ingest([m])).toMatchObject({ ok: true, results: [{ status: "accepted" }] });
  const stub = acc.conversation(customer);
  return {
    customer,
    wamid: m.providerMessageId,
    stub,
    runAlarm: () => runDurableObjectAlarm(stub),
    nextAlarmIn: async () => {
      const at = await runInDurableObject(stub, (_o, state) => state.storage.getAlarm());
      return at === null ? Number.POSITIVE_INFINITY : at - Date.now();
    },
  };
}

async function metadata(customer: string) {
  const { results } = await env.DB.prepare(
    "SELECT direction, action, error_code, provider_message_id FROM messages WHERE sender_id = ? OR recipient_id = ? ORDER BY id",
  )
    .bind(customer, customer)
    .all<{ direction: string; action: string; error_code: number | null; provider_message_id: string }>();
  return results;
}

const IDLE = 5 * 3600_000;

beforeAll(() => approvePersona(persona));

describe("retries of a failed send", () => {
  it("retries a 5xx on the next alarm and sends exactly once when Graph recovers", async () => {
    const acc = await account();
    const c = await customerWrites(acc, "opening hours?");
    await injectGraphFault(env.SANDBOX_URL, {
      status: 500,
      code: 131000,
      message: "(#131000) Something went wrong",
      to: c.customer,
    });
    expect(await c.runAlarm()).toBe(true);
    expect(await graphAttempts(env.SANDBOX_URL, c.customer)).toBe(1);
    expect(await sentTo(env.SANDBOX_URL, c.customer)).toHaveLength(0);
    // First backoff step: 1 to 2 s, with jitter.
    expect(await c.nextAlarmIn()).toBeLessThanOrEqual(2_000);
    await c.runAlarm();
    await vi.waitUntil(async () => (await sentTo(env.SANDBOX_URL, c.customer)).length === 1);
    expect(await graphAttempts(env.SANDBOX_URL, c.customer)).toBe(2);
    expect(await c.nextAlarmIn()).toBeGreaterThan(IDLE);
    expect((await metadata(c.customer)).map((r) => [r.direction, r.action])).toEqual([
      ["inbound", "canned_reply"],
      ["outbound", "canned_reply"],
    ]);
  });

  it("waits at least the Retry-After of a 429 (seconds or an HTTP date) before trying again", async () => {
    const acc = await account();
    const c = await customerWrites(acc, "hours please");
    await injectGraphFault(env.SANDBOX_URL, {
      status: 429,
      code: 130429,
      message: "(#130429) Rate limit hit",
      details: "Cloud API message throughput has been reached.",
      retryAfter: 120,
      to: c.customer,
    });
    await injectGraphFault(env.SANDBOX_URL, {
      status: 400,
      code: 131056,
      message: "(#131056) (Business Account, Consumer Account) pair rate limit hit",
      retryAfter: new Date(Date.now() + 300_000).toUTCString(),
      to: c.customer,
    });
    expect(await c.runAlarm()).toBe(true);
    expect(await graphAttempts(env.SANDBOX_URL, c.customer)).toBe(1);
    expect(await c.nextAlarmIn()).toBeGreaterThanOrEqual(119_000);
    expect(await c.runAlarm()).toBe(true);
    expect(await graphAttempts(env.SANDBOX_URL, c.customer)).toBe(2);
    expect(await c.nextAlarmIn()).toBeGreaterThanOrEqual(298_000);
    expect(await c.runAlarm()).toBe(true);
    expect(await graphAttempts(env.SANDBOX_URL, c.customer)).toBe(3);
    expect((await sentTo(env.SANDBOX_URL, c.customer)).map((s) => s.text)).toEqual([CANNED]);
  });

  it("gives up after 5 attempts and records send_failed with Meta's code", async () => {
    const acc = await account();
    const c = await customerWrites(acc, "hours?");
    await injectGraphFault(env.SANDBOX_URL, {
      status: 503,
      code: 131016,
      message: "(#131016) Service unavailable",
      retryAfter: 60,
      to: c.customer,
      count: 6,
    });
    for (let i = 1; i <= 5; i++) {
      expect(await c.runAlarm()).toBe(true);
      expect(await graphAttempts(env.SANDBOX_URL, c.customer)).toBe(i);
    }
    expect(await c.nextAlarmIn()).toBeGreaterThan(IDLE);
    expect(await sentTo(env.SANDBOX_URL, c.customer)).toHaveLength(0);
    const rows = await metadata(c.customer);
    expect(rows.map((r) => [r.direction, r.action, r.error_code])).toEqual([
      ["inbound", "send_failed", 131016],
      ["outbound", "send_failed", 131016],
    ]);
    expect(rows[1]!.provider_message_id).toBe(`failed:${c.wamid}`);
  });

  it("never retries a permanent error: exactly one attempt, send_failed with the code", async () => {
    const acc = await account();
    const c = await customerWrites(acc, "hours?");
    await injectGraphFault(env.SANDBOX_URL, {
      status: 400,
      code: 131026,
      message: "(#131026) Message Undeliverable",
      details: "Message failed to send because the recipient is not a WhatsApp user.",
      to: c.customer,
    });
    expect(await c.runAlarm()).toBe(true);
    expect(await c.nextAlarmIn()).toBeGreaterThan(IDLE);
    // Even an alarm run early finds nothing left to send.
    expect(await c.runAlarm()).toBe(true);
    expect(await graphAttempts(env.SANDBOX_URL, c.customer)).toBe(1);
    expect(await sentTo(env.SANDBOX_URL, c.customer)).toHaveLength(0);
    expect((await metadata(c.customer)).map((r) => [r.direction, r.action, r.error_code])).toEqual([
      ["inbound", "send_failed", 131026],
      ["outbound", "send_failed", 131026],
    ]);
  });
});

describe("credits when an AI reply cannot be sent", () => {
  it("restores the credit on a permanent failure", async () => {
    await setBalance(3);
    const acc = await account();
    const c = await customerWrites(acc, "can I book a table?");
    await injectGraphFault(env.SANDBOX_URL, {
      status: 400,
      code: 100,
      message: "(#100) Invalid parameter",
      to: c.customer,
    });
    expect(await c.runAlarm()).toBe(true);
    expect(await graphAttempts(env.SANDBOX_URL, c.customer)).toBe(1);
    expect(await creditBalance(env.DB, tenantId)).toBe(3);
    expect((await metadata(c.customer)).map((r) => [r.direction, r.action, r.error_code])).toEqual([
      ["inbound", "send_failed", 100],
      ["outbound", "send_failed", 100],
    ]);
  });

  it("keeps the written reply across a retry: one credit, the same text, sent once", async () => {
    await setBalance(3);
    const acc = await account();
    const c = await customerWrites(acc, "I'd like to book for Friday");
    await injectGraphFault(env.SANDBOX_URL, {
      status: 429,
      code: 130429,
      message: "(#130429) Rate limit hit",
      retryAfter: 30,
      to: c.customer,
    });
    expect(await c.runAlarm()).toBe(true);
    expect(await creditBalance(env.DB, tenantId)).toBe(2);
    // The kept reply rests sealed: no plaintext of the customer's words or the draft.
    const state = await runInDurableObject(c.stub, (_o, s) =>
      JSON.stringify(s.storage.sql.exec("SELECT * FROM state").toArray()),
    );
    expect(state).toContain("kept_reply");
    expect(state).not.toContain("offline AI");
    expect(await c.runAlarm()).toBe(true);
    const sent = await sentTo(env.SANDBOX_URL, c.customer);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.text).toMatch(/^\[offline AI\]/);
    expect(await creditBalance(env.DB, tenantId)).toBe(2);
    // The typing indicator went with the first attempt only.
    expect(await readsOf(env.SANDBOX_URL, c.wamid)).toHaveLength(1);
  });

  it("restores the credit when the retries run out", async () => {
    await setBalance(3);
    const acc = await account();
    const c = await customerWrites(acc, "book me in");
    await injectGraphFault(env.SANDBOX_URL, {
      status: 500,
      code: 1,
      message: "(#1) An unknown error occurred",
      retryAfter: 60,
      to: c.customer,
      count: 5,
    });
    for (let i = 0; i < 5; i++) await c.runAlarm();
    expect(await graphAttempts(env.SANDBOX_URL, c.customer)).toBe(5);
    expect(await creditBalance(env.DB, tenantId)).toBe(3);
    expect((await metadata(c.customer)).map((r) => r.action)).toEqual(["send_failed", "send_failed"]);
  });
});

describe("a kept reply given up", () => {
  it("gives its credit back when the turn is given up a day later, never sent", async () => {
    await setBalance(3);
    const acc = await account();
    const c = await customerWrites(acc, "can I book a table?");
    const fault = () =>
      injectGraphFault(env.SANDBOX_URL, {
        status: 500,
        code: 1,
        message: "(#1) An unknown error occurred",
        to: c.customer,
      });
    await fault();
    expect(await c.runAlarm()).toBe(true);
    expect(await creditBalance(env.DB, tenantId)).toBe(2);
    // A day on, Meta still fails: the turn is given up, the reply never went out, the credit returns.
    await runInDurableObject(c.stub, (_o, state) => {
      setBufferedField(state, "accepted_at", "?", [Date.now() - 25 * 3600_000]);
    });
    await fault();
    expect(await c.runAlarm()).toBe(true);
    expect(await sentTo(env.SANDBOX_URL, c.customer)).toHaveLength(0);
    expect((await metadata(c.customer)).map((r) => r.action)).toEqual(["given_up"]);
    expect(await creditBalance(env.DB, tenantId)).toBe(3);
  });
});

describe("read receipts and the typing indicator", () => {
  it("marks the message read with the typing indicator once for an AI turn", async () => {
    await setBalance(3);
    const acc = await account();
    const c = await customerWrites(acc, "can I book?");
    expect(await c.runAlarm()).toBe(true);
    expect(await readsOf(env.SANDBOX_URL, c.wamid)).toEqual([
      expect.objectContaining({ phoneNumberId: acc.externalId, messageId: c.wamid, typing: true }),
    ]);
    expect(await sentTo(env.SANDBOX_URL, c.customer)).toHaveLength(1);
  });

  it("marks only the last message of a burst read", async () => {
    await setBalance(3);
    const acc = await account();
    const customer = uniqueCustomer();
    const first = inboundText(acc.externalId, customer, "hi");
    const second = inboundText(acc.externalId, customer, "can I book?");
    await ingestApi.ingest([first]);
    await ingestApi.ingest([second]);
    expect(await runDurableObjectAlarm(acc.conversation(customer))).toBe(true);
    expect(await readsOf(env.SANDBOX_URL, first.providerMessageId)).toHaveLength(0);
    expect(await readsOf(env.SANDBOX_URL, second.providerMessageId)).toHaveLength(1);
  });

  it("marks a canned reply's message read without the typing indicator", async () => {
    const acc = await account();
    const c = await customerWrites(acc, "hours?");
    expect(await c.runAlarm()).toBe(true);
    expect(await readsOf(env.SANDBOX_URL, c.wamid)).toEqual([expect.objectContaining({ typing: false })]);
  });

  it("still replies when the read receipt fails", async () => {
    await setBalance(3);
    const acc = await account();
    const c = await customerWrites(acc, "can I book for two?");
    await injectGraphFault(env.SANDBOX_URL, {
      status: 500,
      code: 131000,
      message: "(#131000) Something went wrong",
      target: "read",
      to: c.wamid,
    });
    expect(await c.runAlarm()).toBe(true);
    expect(await readsOf(env.SANDBOX_URL, c.wamid)).toHaveLength(0);
    expect(await sentTo(env.SANDBOX_URL, c.customer)).toHaveLength(1);
    expect(await creditBalance(env.DB, tenantId)).toBe(2);
    expect((await metadata(c.customer)).map((r) => r.action)).toEqual(["ai_reply", "ai_reply"]);
  });

  it("sends no receipt when nothing will answer (auto-reply off)", async () => {
    const acc = await newAccount({
      enabled: false,
      wait_seconds: 30,
      rules: [],
      default_rule: { response: { kind: "canned", text: "Thanks!" } },
    });
    const c = await customerWrites(acc, "hello?");
    expect(await c.runAlarm()).toBe(true);
    expect(await readsOf(env.SANDBOX_URL, c.wamid)).toHaveLength(0);
  });
});

describe("a person's reply (sendHumanReply)", () => {
  /** A customer who wrote, got the canned answer, and whose turn is over. */
  async function answeredCustomer() {
    const acc = await account();
    const c = await customerWrites(acc, "hours?");
    expect(await c.runAlarm()).toBe(true);
    return { acc, c };
  }

  it("sends inside the 24-hour window and records human_reply metadata, once per request id", async () => {
    const { acc, c } = await answeredCustomer();
    const r = await tenantApi.sendHumanReply(
      tenantId,
      acc.id,
      c.customer,
      "  Yes, we have a table at 8.  ",
      "u_asha",
      {
        requestId: "req-1",
      },
    );
    expect(r).toMatchObject({ ok: true, providerMessageId: expect.stringMatching(/^wamid\./) });
    const again = await tenantApi.sendHumanReply(
      tenantId,
      acc.id,
      c.customer,
      "Yes, we have a table at 8.",
      "u_asha",
      {
        requestId: "req-1",
      },
    );
    expect(again).toEqual(r);
    const sent = await sentTo(env.SANDBOX_URL, c.customer);
    expect(sent.map((s) => s.text)).toEqual([CANNED, "Yes, we have a table at 8."]);
    // A person's message is not a reply to one message: no quoted context.
    expect(sent[1]!.contextMessageId).toBeNull();
    expect((await metadata(c.customer)).map((r) => [r.direction, r.action])).toEqual([
      ["inbound", "canned_reply"],
      ["outbound", "canned_reply"],
      ["outbound", "human_reply"],
    ]);
  });

  it("refuses outside the window with outside_window and sends nothing", async () => {
    const { acc, c } = await answeredCustomer();
    await runInDurableObject(c.stub, (_o, state) => {
      setTurnField(state, "last_inbound_at", Date.now() - 24 * 3600_000 - 60_000);
    });
    const before = await graphAttempts(env.SANDBOX_URL, c.customer);
    const r = await tenantApi.sendHumanReply(tenantId, acc.id, c.customer, "Are you still there?", "u_asha");
    expect(r).toMatchObject({ ok: false, error: { code: "outside_window" } });
    if (r.ok) throw new Error("expected a refusal");
    expect(r.error.message).toMatch(/24 hours/);
    expect(r.error.message).toMatch(/template/);
    expect(await graphAttempts(env.SANDBOX_URL, c.customer)).toBe(before);
  });

  it("treats Meta's 131047 (re-engagement) as the same refusal", async () => {
    const { acc, c } = await answeredCustomer();
    await injectGraphFault(env.SANDBOX_URL, {
      status: 400,
      code: 131047,
      message: "(#131047) Re-engagement message",
      details:
        "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
      to: c.customer,
    });
    const r = await tenantApi.sendHumanReply(tenantId, acc.id, c.customer, "Hello again", "u_asha");
    expect(r).toMatchObject({ ok: false, error: { code: "outside_window" } });
    expect(await sentTo(env.SANDBOX_URL, c.customer)).toHaveLength(1);
  });

  it("refuses a customer who never wrote: the window never opened", async () => {
    const acc = await account();
    const r = await tenantApi.sendHumanReply(tenantId, acc.id, uniqueCustomer(), "Hi!", "u_asha");
    expect(r).toMatchObject({ ok: false, error: { code: "outside_window" } });
  });

  it("ends the holding voice during a handoff: the thread stays silent for the person", async () => {
    const { acc, c } = await answeredCustomer();
    await runInDurableObject(c.stub, (_o, state) => {
      state.storage.sql.exec(
        "INSERT OR REPLACE INTO state (k, v) VALUES ('handoff_since', ?)",
        String(Date.now()),
      );
    });
    expect(
      await tenantApi.sendHumanReply(tenantId, acc.id, c.customer, "Asha here, how can I help?", "u_asha"),
    ).toMatchObject({
      ok: true,
    });
    await ingestApi.ingest([inboundText(acc.externalId, c.customer, "hours?")]);
    expect(await c.runAlarm()).toBe(true);
    // No automatic reply talks over the person: only the first canned answer and the person's.
    expect(await sentTo(env.SANDBOX_URL, c.customer)).toHaveLength(2);
    expect((await metadata(c.customer)).at(-1)).toMatchObject({
      direction: "inbound",
      action: "handoff_silent",
    });
  });

  it("reports a permanent Graph error with its code and records send_failed", async () => {
    const { acc, c } = await answeredCustomer();
    await injectGraphFault(env.SANDBOX_URL, {
      status: 400,
      code: 131026,
      message: "(#131026) Message Undeliverable",
      to: c.customer,
    });
    const r = await tenantApi.sendHumanReply(tenantId, acc.id, c.customer, "Hello", "u_asha", {
      requestId: "req-x",
    });
    expect(r).toMatchObject({ ok: false, error: { code: "send_failed" } });
    expect((await metadata(c.customer)).at(-1)).toMatchObject({
      direction: "outbound",
      action: "send_failed",
      error_code: 131026,
    });
  });

  it("asks to try again on a retryable error, and the same request id may then send", async () => {
    const { acc, c } = await answeredCustomer();
    await injectGraphFault(env.SANDBOX_URL, {
      status: 429,
      code: 130429,
      message: "(#130429) Rate limit hit",
      retryAfter: 5,
      to: c.customer,
    });
    const r = await tenantApi.sendHumanReply(tenantId, acc.id, c.customer, "Hello", "u_asha", {
      requestId: "req-y",
    });
    expect(r).toMatchObject({ ok: false, error: { code: "send_retryable" } });
    if (r.ok) throw new Error("expected a failure");
    expect(r.error.message).toMatch(/5 seconds/);
    expect(
      await tenantApi.sendHumanReply(tenantId, acc.id, c.customer, "Hello", "u_asha", { requestId: "req-y" }),
    ).toMatchObject({ ok: true });
    expect(await sentTo(env.SANDBOX_URL, c.customer)).toHaveLength(2);
  });

  it("refuses empty text, another tenant's account and unknown accounts", async () => {
    const { acc, c } = await answeredCustomer();
    expect(await tenantApi.sendHumanReply(tenantId, acc.id, c.customer, "   ", "u_asha")).toMatchObject({
      ok: false,
      error: { code: "invalid_input" },
    });
    expect(await tenantApi.sendHumanReply("t_someone_else", acc.id, c.customer, "Hi", "u_x")).toMatchObject({
      ok: false,
      error: { code: "not_found" },
    });
    expect(await tenantApi.sendHumanReply(tenantId, "acc_nope", c.customer, "Hi", "u_x")).toMatchObject({
      ok: false,
      error: { code: "not_found" },
    });
  });
});
