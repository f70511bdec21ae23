import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { creditBalance } from "@concierge/storage";
import { sentTo, uniqueCustomer } from "@concierge/testing/sandbox-client";
import { beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import {
  approvePersona,
  inboundText,
  ingestApi,
  newBareAccount,
  setBalance,
  tenantApi,
  tenantId,
} from "../helpers.ts";
import { BACKSTOP_MS } from "../../src/conversation/accept.ts";

// The AI path against a real HTTP server speaking the OpenAI wire format (the sandbox's), so the
// calls themselves can be counted and timed.
type AiCall = {
  kind: "generate" | "classify" | "embed";
  startedAt: number;
  endedAt: number;
  userText: string;
};

async function aiCalls(): Promise<AiCall[]> {
  return ((await (await fetch(`${env.SANDBOX_URL}/__sandbox/ai`)).json()) as { calls: AiCall[] }).calls;
}
async function configureAi(settings: Record<string, number>) {
  await fetch(`${env.SANDBOX_URL}/__sandbox/ai`, { method: "POST", body: JSON.stringify(settings) });
}

async function account(rules: unknown[], waitSeconds = 0) {
  const acc = await newBareAccount();
  const saved = await tenantApi.saveReplyConfig(tenantId, acc.id, {
    wait_seconds: waitSeconds,
    rules,
    default_rule: { response: { kind: "prompt", text: "Answer kindly." } },
  });
  expect(saved.ok).toBe(true);
  return acc;
}

async function callsSince(before: number, customerText?: string) {
  return (await aiCalls())
    .slice(before)
    .filter((c) => !customerText || c.userText.includes(customerText) || c.kind === "embed");
}

beforeAll(() => approvePersona({ kind: "raw", prompt: "You are Chai & Co.'s friendly assistant." }));

beforeEach(async () => {
  await configureAi({ generateLatencyMs: 0, classifyLatencyMs: 0, failNext: 0 });
  await setBalance(10);
});

describe("AI calls (OpenAI-compatible provider)", () => {
  it("runs the injection scan alongside generation, not after it", async () => {
    await configureAi({ generateLatencyMs: 400, classifyLatencyMs: 200 });
    const acc = await account([]);
    const customer = uniqueCustomer();
    const before = (await aiCalls()).length;
    await ingestApi.ingest([inboundText(acc.externalId, customer, "overlap check: do you deliver?")]);
    await vi.waitUntil(async () => (await sentTo(env.SANDBOX_URL, customer)).length > 0, { timeout: 8000 });
    const calls = await callsSince(before, "overlap check");
    const gen = calls.find((c) => c.kind === "generate")!;
    const scan = calls.find((c) => c.kind === "classify")!;
    // Both were in flight at once: each started before the other ended.
    expect(scan.startedAt).toBeLessThan(gen.endedAt);
    expect(gen.startedAt).toBeLessThan(scan.endedAt);
    expect(Math.abs(gen.startedAt - scan.startedAt)).toBeLessThan(150);
  });

  it("answers a burst inside the wait window with one AI call and one reply, all messages in its context", async () => {
    const acc = await account([], 30);
    const customer = uniqueCustomer();
    const before = (await aiCalls()).length;
    const texts = ["hi", "burst one", "burst two", "burst three", "do you deliver?"];
    for (const t of texts) await ingestApi.ingest([inboundText(acc.externalId, customer, t)]);
    const stub = env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(`${tenantId}/${acc.id}/${customer}`));
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const calls = (await aiCalls()).slice(before);
    const gens = calls.filter((c) => c.kind === "generate");
    expect(gens).toHaveLength(1);
    for (const t of texts) expect(gens[0]!.userText).toContain(t);
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(1);
  });

  it("embeds a message at most once per turn, and only when an intent rule exists", async () => {
    const withIntent = await account([
      {
        id: "cat",
        matcher: { kind: "prompt", description: "catering for an office party" },
        response: { kind: "canned", text: "Catering!" },
      },
      {
        id: "vip",
        matcher: { kind: "prompt", description: "a private room for a birthday" },
        response: { kind: "canned", text: "Rooms!" },
      },
    ]);
    const keywordsOnly = await account([
      {
        id: "hours",
        matcher: { kind: "static_text", keywords: ["hours"] },
        response: { kind: "canned", text: "7 to 7" },
      },
    ]);
    const a = uniqueCustomer();
    const b = uniqueCustomer();
    const before = (await aiCalls()).length;
    await ingestApi.ingest([inboundText(withIntent.externalId, a, "catering for an office party of 30")]);
    await vi.waitUntil(async () => (await sentTo(env.SANDBOX_URL, a)).length > 0, { timeout: 5000 });
    await ingestApi.ingest([inboundText(keywordsOnly.externalId, b, "what are your hours")]);
    await vi.waitUntil(async () => (await sentTo(env.SANDBOX_URL, b)).length > 0, { timeout: 5000 });
    const embeds = (await aiCalls()).slice(before).filter((c) => c.kind === "embed");
    expect(embeds.map((e) => e.userText)).toEqual(["catering for an office party of 30"]);
    expect((await sentTo(env.SANDBOX_URL, a))[0]!.text).toBe("Catering!");
  });

  it("tries keyword rules before embedding: a keyword match makes no embedding call, even with intent rules after it", async () => {
    const acc = await account([
      {
        id: "hours",
        matcher: { kind: "static_text", keywords: ["hours"] },
        response: { kind: "canned", text: "7 to 7" },
      },
      {
        id: "cat",
        matcher: { kind: "prompt", description: "catering for an office party" },
        response: { kind: "canned", text: "Catering!" },
      },
    ]);
    const customer = uniqueCustomer();
    const before = (await aiCalls()).length;
    await ingestApi.ingest([inboundText(acc.externalId, customer, "what are your opening hours")]);
    await vi.waitUntil(async () => (await sentTo(env.SANDBOX_URL, customer)).length > 0, { timeout: 5000 });
    expect((await sentTo(env.SANDBOX_URL, customer))[0]!.text).toBe("7 to 7");
    expect((await aiCalls()).slice(before).filter((c) => c.kind === "embed")).toEqual([]);
  });

  it("with a 0 s buffer, the model is called in the accepting invocation: one generation, one reply, one credit", async () => {
    await configureAi({ generateLatencyMs: 800, classifyLatencyMs: 400 });
    const acc = await account([], 0);
    const customer = uniqueCustomer();
    const balance = await creditBalance(env.DB, tenantId);
    const before = (await aiCalls()).length;
    await ingestApi.ingest([inboundText(acc.externalId, customer, "zero buffer: do you deliver?")]);
    const stub = env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(`${tenantId}/${acc.id}/${customer}`));
    // Mid-generation, the alarm is still the backstop seconds ahead: no alarm is running the turn.
    await new Promise((r) => setTimeout(r, 300));
    const alarm = await runInDurableObject(stub, (_o, state) => state.storage.getAlarm());
    expect(alarm).toBeGreaterThan(Date.now() + BACKSTOP_MS / 2);
    await vi.waitUntil(async () => (await sentTo(env.SANDBOX_URL, customer)).length > 0, { timeout: 8000 });
    // The alarm the turn left (the idle gap's) runs no second turn.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(1);
    expect((await callsSince(before, "zero buffer")).filter((c) => c.kind === "generate")).toHaveLength(1);
    expect(await creditBalance(env.DB, tenantId)).toBe(balance - 1);
  });

  it("gives the credit back when generation fails, then retries the turn and charges once", async () => {
    const acc = await account([], 30);
    const customer = uniqueCustomer();
    const balance = await creditBalance(env.DB, tenantId);
    await configureAi({ failNext: 1 });
    await ingestApi.ingest([inboundText(acc.externalId, customer, "retry check")]);
    const stub = env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(`${tenantId}/${acc.id}/${customer}`));
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(0);
    expect(await creditBalance(env.DB, tenantId)).toBe(balance);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(1);
    expect(await creditBalance(env.DB, tenantId)).toBe(balance - 1);
  });
});
