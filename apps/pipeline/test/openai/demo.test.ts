// The live demo against the sandbox's OpenAI-compatible server: the envelope the demo answers with
// is the request the model server received, byte for byte (what the "View prompt" panel shows),
// and a canned reply or a message over quota reaches no model at all.
import { env } from "cloudflare:workers";
import { DEFAULT_DEMO_SETTINGS, type DemoReply, type DemoSettings } from "@concierge/core";
import { HANDOFF_SENTINEL } from "@concierge/prompt";
import { saveDemoSettingsStatement } from "@concierge/storage";
import { aiRequests } from "@concierge/testing/sandbox-client";
import { afterEach, describe, expect, it } from "vitest";
import { demoApi } from "../helpers.ts";

const newVisitor = () => `v_${crypto.randomUUID().replace(/-/g, "")}`;
const marker = () => `m${crypto.randomUUID().replace(/-/g, "").slice(0, 12)}`;

async function setDemoSettings(changes: Partial<DemoSettings>): Promise<void> {
  await saveDemoSettingsStatement(
    env.DB,
    { ...DEFAULT_DEMO_SETTINGS, ...changes },
    "ops.person@example.test",
    Date.now(),
  ).run();
}

async function turn(
  text: string,
  transcript: string | null = null,
  visitor = newVisitor(),
): Promise<DemoReply> {
  const r = await demoApi.demoReply({ archetypeId: "cafe-host", text, transcript, visitor });
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  // The binding's type sees `middle` as number[] (RPC's view of a tuple); the value is the pair.
  return r.turn as DemoReply;
}

const utf8 = (s: string) => new TextEncoder().encode(s);

afterEach(() => setDemoSettings({}));

describe("the demo's envelope is what the model received", () => {
  it("system prompt and messages, byte for byte, on the first turn and with history", async () => {
    const m1 = marker();
    const first = await turn(`Can I book a table for four? (${m1}) ₹ é`);
    expect(first.via).toBe("ai");
    expect(first.reply).toMatch(/^\[sandbox AI\]/);
    const [sent] = await aiRequests(env.SANDBOX_URL, { contains: m1, kind: "generate" });
    expect(sent).toBeDefined();
    expect(utf8(sent!.system)).toEqual(utf8(first.envelope!.system));
    expect(sent!.messages).toEqual(first.envelope!.messages);
    // The whole body's messages: the system prompt first, then exactly the envelope's messages.
    expect(JSON.parse(sent!.body).messages).toEqual([
      { role: "system", content: first.envelope!.system },
      ...first.envelope!.messages,
    ]);
    // The middle marks the business's part inside what the model got.
    const [start, end] = first.envelope!.middle;
    expect(sent!.system.slice(start, end)).toContain("Lantern Café");

    const m2 = marker();
    const second = await turn(`Do you have oat milk? (${m2})`, first.transcript);
    const requests = await aiRequests(env.SANDBOX_URL, { contains: m2, kind: "generate" });
    expect(requests).toHaveLength(1);
    expect(requests[0]!.system).toBe(second.envelope!.system);
    expect(requests[0]!.messages).toEqual(second.envelope!.messages);
    expect(second.envelope!.messages.map((m) => m.role)).toEqual(["user", "assistant", "user"]);
  });

  it("a handoff: the sentinel the model wrote is stripped from the reply", async () => {
    const m = marker();
    const t = await turn(`I'd like to speak to a real person (${m})`);
    expect(t).toMatchObject({ via: "handoff", handoff: true });
    expect(t.reply).not.toContain(HANDOFF_SENTINEL);
    const [sent] = await aiRequests(env.SANDBOX_URL, { contains: m, kind: "generate" });
    expect(sent!.system).toBe(t.envelope!.system);
  });

  it("a canned reply and a message over quota call no model", async () => {
    const canned = marker();
    expect(await turn(`what are your opening hours? ${canned}`)).toMatchObject({
      via: "rule",
      envelope: null,
    });
    await setDemoSettings({ perVisitorPerHour: 1 });
    const visitor = newVisitor();
    await turn("Do you have croissants?", null, visitor);
    const over = marker();
    const r = await demoApi.demoReply({
      archetypeId: "cafe-host",
      text: `Do you have cake? ${over}`,
      transcript: null,
      visitor,
    });
    expect(r).toMatchObject({ ok: false, error: { code: "rate_limited" } });
    expect(await aiRequests(env.SANDBOX_URL, { contains: canned })).toEqual([]);
    expect(await aiRequests(env.SANDBOX_URL, { contains: over })).toEqual([]);
  });
});
