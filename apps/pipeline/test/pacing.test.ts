import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { Persona } from "@concierge/prompt";
import { SEND_RETRY } from "@concierge/channels";
import type { InboundMessage, Thread } from "@concierge/core";
import { createChannelAccount, creditBalance, debitCredit, saveReplyConfig } from "@concierge/storage";
import { newMid, uniqueIgsid } from "@concierge/testing/instagram-fixtures";
import {
  graphAttempts,
  injectGraphFault,
  instagramSentTo,
  sentTo,
  uniqueCustomer,
} from "@concierge/testing/sandbox-client";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { savePageToken } from "../src/channels/instagram/page-tokens.ts";
import { type AiGateDO, aiConcurrencyCap, aiGate } from "../src/pacing/ai-gate.ts";
import { sendPaceKey } from "../src/pacing/send-pace.ts";
import {
  approvePersona,
  inboundText,
  ingestApi,
  newAccount,
  setBalance,
  tenantId,
  bufferedRows,
} from "./helpers.ts";

// Pacing (README: Pacing) through the real entry points: messages accepted over RPC, turns run by
// the conversation object's alarm, sends at the sandbox's fake Graph API, the real Rate Limiting
// binding (SEND_RATE_LIMIT, wrangler.jsonc's 600 per 10 s) and the tenant's AI gate object.
// Alarms are driven by hand; the only real wait is for the limiter's 10 s window to end.

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

/**
 * Runs the conversation's alarm by hand and holds back the one it arms next by an hour, so the
 * runtime never fires a short retry (250 ms for a busy AI slot) on its own between a test's steps;
 * the wait the turn asked for is kept for `nextAlarmIn`. The next `runAlarm` runs it at once.
 */
function alarmDriver(stub: DurableObjectStub) {
  let asked = Number.POSITIVE_INFINITY;
  return {
    runAlarm: async () => {
      const ran = await runDurableObjectAlarm(stub);
      asked = await runInDurableObject(stub, async (_o, state) => {
        const at = await state.storage.getAlarm();
        if (at === null) return Number.POSITIVE_INFINITY;
        await state.storage.setAlarm(at + 3600_000);
        return at - Date.now();
      });
      return ran;
    },
    nextAlarmIn: async () => asked,
  };
}

async function customerWrites(acc: Account, text: string) {
  const customer = uniqueCustomer();
  const m = inboundText(acc.externalId, customer, text);
  expect(await ingestApi.ingest([m])).toMatchObject({ ok: true, results: [{ status: "accepted" }] });
  const stub = acc.conversation(customer);
  return {
    customer,
    stub,
    ...alarmDriver(stub),
    pending: () => runInDurableObject(stub, (_o, state) => bufferedRows(state).length),
  };
}

async function actions(customer: string) {
  const { results } = await env.DB.prepare(
    "SELECT direction, action FROM messages WHERE sender_id = ? OR recipient_id = ? ORDER BY id",
  )
    .bind(customer, customer)
    .all<{ direction: string; action: string }>();
  return results.map((r) => [r.direction, r.action]);
}

/**
 * Uses up the number's (or Instagram account's) send budget for the limiter's current window,
 * early enough in it that the window cannot end before the alarm that follows asks (on a loaded
 * machine an alarm takes a while, so each refused alarm is preceded by this).
 */
async function exhaustNumber(acc: { channel: Thread["channel"]; externalId: string }) {
  const key = sendPaceKey({ channel: acc.channel, accountExternalId: acc.externalId })!;
  for (;;) {
    if (Date.now() % 10_000 > 7_000) await nextWindow();
    while ((await env.SEND_RATE_LIMIT.limit({ key })).success) {}
    // Used up with at least 2 s of the window left for the alarm; else again in the next one.
    if (Date.now() % 10_000 <= 8_000) return;
  }
}

/** Until the limiter's current 10 s window has ended. */
const nextWindow = () => scheduler.wait(10_000 - (Date.now() % 10_000) + 50);

const IDLE = 5 * 3600_000;

beforeAll(() => approvePersona(persona));

describe("sends paced per number", () => {
  it("does not attempt a send over the number's budget; the alarm sends it once the window moves on", async () => {
    const acc = await account();
    const c = await customerWrites(acc, "opening hours?");
    // Refused six times in a row (more than a failing send's five attempts): never attempted,
    // never given up, each time retried after the send's backoff.
    for (let i = 0; i < 6; i++) {
      await exhaustNumber(acc);
      expect(await c.runAlarm()).toBe(true);
      // The send's backoff (1–2 s, 2–4 s, …), each wait at most SEND_RETRY's 5 min cap.
      expect(await c.nextAlarmIn()).toBeLessThanOrEqual(SEND_RETRY.maxBackoffMs);
    }
    expect(await graphAttempts(env.SANDBOX_URL, c.customer)).toBe(0);
    expect(await actions(c.customer)).toEqual([]);
    expect(await c.pending()).toBe(1);
    await nextWindow();
    expect(await c.runAlarm()).toBe(true);
    expect((await sentTo(env.SANDBOX_URL, c.customer)).map((s) => s.text)).toEqual([CANNED]);
    // Once sent, an early alarm finds nothing more to send.
    expect(await c.runAlarm()).toBe(true);
    expect(await graphAttempts(env.SANDBOX_URL, c.customer)).toBe(1);
    expect(await c.nextAlarmIn()).toBeGreaterThan(IDLE);
    expect(await actions(c.customer)).toEqual([
      ["inbound", "canned_reply"],
      ["outbound", "canned_reply"],
    ]);
  }, 90_000);

  it("keeps an AI reply refused by the pace, with its one credit, and sends it once later", async () => {
    await setBalance(3);
    const acc = await account();
    const c = await customerWrites(acc, "can I book for Sunday?");
    await exhaustNumber(acc);
    expect(await c.runAlarm()).toBe(true);
    expect(await graphAttempts(env.SANDBOX_URL, c.customer)).toBe(0);
    expect(await creditBalance(env.DB, tenantId)).toBe(2);
    await nextWindow();
    expect(await c.runAlarm()).toBe(true);
    expect(await c.runAlarm()).toBe(true);
    const sent = await sentTo(env.SANDBOX_URL, c.customer);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.text).toMatch(/^\[offline AI\]/);
    expect(await creditBalance(env.DB, tenantId)).toBe(2);
    expect(await actions(c.customer)).toEqual([
      ["inbound", "ai_reply"],
      ["outbound", "ai_reply"],
    ]);
  }, 40_000);

  it("keeps other numbers sending while one is at its budget", async () => {
    const busy = await account();
    const other = await account();
    await exhaustNumber(busy);
    const c = await customerWrites(other, "hours?");
    expect(await c.runAlarm()).toBe(true);
    expect((await sentTo(env.SANDBOX_URL, c.customer)).map((s) => s.text)).toEqual([CANNED]);
  }, 40_000);
});

/** A new Instagram account of the demo tenant with its own page token; "hours" answers canned. */
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
  const pageId = uniqueIgsid();
  await savePageToken(env, {
    accountId: account.id,
    tenantId,
    pageId,
    token: `EAAG-page-${crypto.randomUUID()}`,
    expiresAt: null,
  });
  return account;
}

describe("Instagram sends paced per account", () => {
  it("holds a send over the account's budget and sends it once on a later alarm", async () => {
    const acc = await igAccount();
    const customer = uniqueIgsid();
    const m: InboundMessage = {
      channel: "instagram",
      accountExternalId: acc.externalId,
      providerMessageId: newMid(),
      customerId: customer,
      sentAt: Date.now(),
      kind: "text",
      text: "what are your hours?",
      hasAttachment: false,
    };
    expect(await ingestApi.ingest([m])).toMatchObject({ ok: true, results: [{ status: "accepted" }] });
    const stub = env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(`${tenantId}/${acc.id}/${customer}`));
    const alarm = alarmDriver(stub);
    await exhaustNumber(acc);
    expect(await alarm.runAlarm()).toBe(true);
    expect((await instagramSentTo(env.SANDBOX_URL, customer)).sent).toHaveLength(0);
    await nextWindow();
    expect(await alarm.runAlarm()).toBe(true);
    expect(await alarm.runAlarm()).toBe(true);
    expect((await instagramSentTo(env.SANDBOX_URL, customer)).sent.map((s) => s.text)).toEqual([CANNED]);
  }, 60_000);
});

describe("Meta's pair rate limit (131056)", () => {
  it("defers the reply at least 6 s each time, sends it once later, and takes one credit", async () => {
    await setBalance(3);
    const acc = await account();
    const c = await customerWrites(acc, "can I book for Friday?");
    await injectGraphFault(env.SANDBOX_URL, { preset: "pair_rate_limit", to: c.customer, count: 6 });
    for (let i = 1; i <= 6; i++) {
      expect(await c.runAlarm()).toBe(true);
      expect(await graphAttempts(env.SANDBOX_URL, c.customer)).toBe(i);
      // Meta's pair rate is one message per 6 s: no retry sooner (jitter aside, never below it).
      expect(await c.nextAlarmIn()).toBeGreaterThan(5_000);
      expect(await creditBalance(env.DB, tenantId)).toBe(2);
    }
    expect(await actions(c.customer)).toEqual([]);
    expect(await c.runAlarm()).toBe(true);
    const sent = await sentTo(env.SANDBOX_URL, c.customer);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.text).toMatch(/^\[offline AI\]/);
    expect(await graphAttempts(env.SANDBOX_URL, c.customer)).toBe(7);
    expect(await creditBalance(env.DB, tenantId)).toBe(2);
    expect(await actions(c.customer)).toEqual([
      ["inbound", "ai_reply"],
      ["outbound", "ai_reply"],
    ]);
  });

  it("waits out the number's throughput limit (130429) with its Retry-After, then sends once", async () => {
    const acc = await account();
    const c = await customerWrites(acc, "hours?");
    await injectGraphFault(env.SANDBOX_URL, { preset: "throughput", retryAfter: 20, to: c.customer });
    expect(await c.runAlarm()).toBe(true);
    expect(await c.nextAlarmIn()).toBeGreaterThanOrEqual(19_000);
    expect(await c.runAlarm()).toBe(true);
    expect((await sentTo(env.SANDBOX_URL, c.customer)).map((s) => s.text)).toEqual([CANNED]);
    expect(await graphAttempts(env.SANDBOX_URL, c.customer)).toBe(2);
  });
});

describe("the per-tenant cap on AI calls in flight", () => {
  const gate = () => aiGate(env, tenantId);
  const cap = aiConcurrencyCap(env);
  const held = Array.from({ length: cap }, (_, i) => `held-elsewhere-${i}`);

  afterEach(async () => {
    for (const lease of held) await gate().release(lease);
  });

  it("is the configured default", () => {
    expect(cap).toBe(10);
  });

  it("makes a turn wait, with nothing debited, until a slot is free; then it runs once", async () => {
    await setBalance(3);
    for (const lease of held) expect(await gate().acquire(lease, cap, 60_000)).toEqual({ ok: true });
    const acc = await account();
    const c = await customerWrites(acc, "I'd like to book a table");
    expect(await c.runAlarm()).toBe(true);
    expect(await graphAttempts(env.SANDBOX_URL, c.customer)).toBe(0);
    expect(await creditBalance(env.DB, tenantId)).toBe(3);
    expect(await c.pending()).toBe(1);
    expect(await actions(c.customer)).toEqual([]);
    // Re-scheduled by the alarm, not dropped: soon (250–500 ms, jittered), as slots free quickly.
    expect(await c.nextAlarmIn()).toBeLessThanOrEqual(500);
    expect(await c.runAlarm()).toBe(true);
    expect(await graphAttempts(env.SANDBOX_URL, c.customer)).toBe(0);

    await gate().release(held[0]!);
    expect(await c.runAlarm()).toBe(true);
    const sent = await sentTo(env.SANDBOX_URL, c.customer);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.text).toMatch(/^\[offline AI\]/);
    expect(await creditBalance(env.DB, tenantId)).toBe(2);
    expect(await actions(c.customer)).toEqual([
      ["inbound", "ai_reply"],
      ["outbound", "ai_reply"],
    ]);
    // The turn gave its slot back once the model had answered.
    await vi.waitUntil(async () => (await gate().held()) === cap - 1);
  });

  it("takes no second credit when a run that died after its debit then waits for a slot", async () => {
    await setBalance(3);
    for (const lease of held) expect(await gate().acquire(lease, cap, 60_000)).toEqual({ ok: true });
    const acc = await account();
    const c = await customerWrites(acc, "can I book a table for four tonight?");
    // A first run of the turn took its credit and died (a deploy; the gate forgot its lease).
    const seq = await runInDurableObject(c.stub, (_o, state) => bufferedRows(state).at(-1)!.seq);
    const thread = `${tenantId}/${acc.id}/${c.customer}`;
    expect(await debitCredit(env.DB, tenantId, `ai:${thread}:turn:${seq}:0`)).toEqual({ ok: true });
    expect(await creditBalance(env.DB, tenantId)).toBe(2);
    // Its retries find every slot taken: waits, not attempts.
    expect(await c.runAlarm()).toBe(true);
    expect(await c.runAlarm()).toBe(true);
    expect(await graphAttempts(env.SANDBOX_URL, c.customer)).toBe(0);
    // Meanwhile the customer's wait is stored (the object may be gone before the next try).
    expect(
      await runInDurableObject(c.stub, (_o, state) =>
        state.storage.sql.exec("SELECT v FROM state WHERE k = 'awaiting_reply_since'").toArray(),
      ),
    ).toHaveLength(1);
    await gate().release(held[0]!);
    expect(await c.runAlarm()).toBe(true);
    expect(await sentTo(env.SANDBOX_URL, c.customer)).toHaveLength(1);
    // The reply is paid by the credit the dead run took: one credit in all.
    expect(await creditBalance(env.DB, tenantId)).toBe(2);
    await vi.waitUntil(async () => (await gate().held()) === cap - 1);
  });

  it("lets AI calls through when the gate cannot answer: the cap never stops replies on its own", async () => {
    await setBalance(3);
    await runInDurableObject(gate(), (instance: AiGateDO) => {
      instance.acquire = () => {
        throw new Error("the gate is down");
      };
    });
    try {
      const acc = await account();
      const c = await customerWrites(acc, "can I book for two?");
      expect(await c.runAlarm()).toBe(true);
      expect(await sentTo(env.SANDBOX_URL, c.customer)).toHaveLength(1);
      expect(await creditBalance(env.DB, tenantId)).toBe(2);
    } finally {
      await runInDurableObject(gate(), (instance: AiGateDO) => {
        Reflect.deleteProperty(instance, "acquire");
      });
    }
  });

  it("lets a lease whose turn crashed end by itself, and a retried turn reuse its own", async () => {
    await setBalance(3);
    for (const lease of held.slice(1)) await gate().acquire(lease, cap, 60_000);
    // The last slot is held by a turn that died without giving it back.
    expect(await gate().acquire("crashed-turn", cap, 300)).toEqual({ ok: true });
    const refused = await gate().acquire("another-turn", cap, 60_000);
    expect(refused.ok).toBe(false);
    // The same turn, retried, finds its own lease rather than a second slot.
    expect(await gate().acquire("crashed-turn", cap, 300)).toEqual({ ok: true });
    const acc = await account();
    const c = await customerWrites(acc, "book me in please");
    expect(await c.runAlarm()).toBe(true);
    expect(await graphAttempts(env.SANDBOX_URL, c.customer)).toBe(0);
    await scheduler.wait(400);
    expect(await c.runAlarm()).toBe(true);
    expect(await sentTo(env.SANDBOX_URL, c.customer)).toHaveLength(1);
    expect(await creditBalance(env.DB, tenantId)).toBe(2);
  });
});
