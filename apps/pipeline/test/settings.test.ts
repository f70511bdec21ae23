import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { getTenantSettings, grantCredits } from "@concierge/storage";
import { sentTo, uniqueCustomer } from "@concierge/testing/sandbox-client";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
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
import { uniqueChannel, verifiedAddress } from "./notify-helpers.ts";

const DEFAULTS = {
  idleGapMinutes: 360,
  handoffCooldownMinutes: 60,
  historyTurns: 20,
  defaultWaitSeconds: 5,
  lowBalanceThreshold: 20,
};

type DiscordMessage = { channelId: string; content: string };
async function discordMessages(): Promise<DiscordMessage[]> {
  return (
    (await (await fetch(`${env.SANDBOX_URL}/__sandbox/discord`)).json()) as { messages: DiscordMessage[] }
  ).messages;
}

async function account() {
  const acc = await newAccount({
    wait_seconds: 0,
    rules: [
      {
        id: "hours",
        matcher: { kind: "static_text", keywords: ["hours"] },
        response: { kind: "canned", text: "7 to 7" },
      },
    ],
    default_rule: { response: { kind: "prompt", text: "Answer kindly." } },
  });
  const state = (customerId: string, key: string, value: string) =>
    runInDurableObject(acc.conversation(customerId), (_o, s) => {
      // The turn's own values are one row (store.ts `TurnState`).
      if (key === "last_activity_at") {
        setTurnField(s, "last_activity_at", Number(value));
      } else setStateKey(s, key, value);
    });
  return { ...acc, state };
}

const replies = repliesTo;

async function settings(s: Partial<typeof DEFAULTS>) {
  const r = await tenantApi.saveConversationSettings(tenantId, { ...DEFAULTS, ...s });
  expect(r.ok).toBe(true);
}

beforeAll(() => approvePersona({ kind: "raw", prompt: "Friendly." }));

beforeEach(() => setBalance(50));

afterEach(async () => {
  await settings({});
  await tenantApi.setNotifications(tenantId, { discordChannelId: null, email: null });
});

describe("conversation settings (RPC)", () => {
  it("refuses a save made from a stale form: of two saves at one version exactly one lands (issue 19 item 8)", async () => {
    const at = (await getTenantSettings(env.DB, tenantId))!.settingsVersion;
    const [a, b] = await Promise.all([
      tenantApi.saveConversationSettings(tenantId, { ...DEFAULTS, historyTurns: 11 }, at),
      tenantApi.saveConversationSettings(tenantId, { ...DEFAULTS, historyTurns: 12 }, at),
    ]);
    expect([a.ok, b.ok].toSorted()).toEqual([false, true]);
    expect(a.ok ? b : a).toMatchObject({ ok: false, error: { code: "stale" } });
    const now = (await getTenantSettings(env.DB, tenantId))!;
    expect(now).toMatchObject({ settingsVersion: at + 1, historyTurns: a.ok ? 11 : 12 });
    // A version that is not a whole number is refused at the boundary, and saves nothing.
    for (const bad of ["1", 1.5, -2, Number.NaN])
      expect(await tenantApi.saveConversationSettings(tenantId, DEFAULTS, bad as never)).toMatchObject({
        ok: false,
        error: { code: "invalid_version" },
      });
    expect(await getTenantSettings(env.DB, tenantId)).toEqual(now);
  });

  it("refuses an idle gap not longer than the cooldown, out-of-range values and unknown tenants", async () => {
    expect(
      await tenantApi.saveConversationSettings(tenantId, {
        ...DEFAULTS,
        idleGapMinutes: 60,
        handoffCooldownMinutes: 60,
      }),
    ).toMatchObject({
      ok: false,
      error: { code: "invalid_settings", message: expect.stringContaining("idleGapMinutes") },
    });
    expect(
      await tenantApi.saveConversationSettings(tenantId, { ...DEFAULTS, historyTurns: 0 }),
    ).toMatchObject({ ok: false });
    expect(
      await tenantApi.saveConversationSettings(tenantId, { ...DEFAULTS, defaultWaitSeconds: 31 }),
    ).toMatchObject({ ok: false });
    expect(await tenantApi.saveConversationSettings("t_nobody", DEFAULTS)).toMatchObject({
      ok: false,
      error: { code: "not_found" },
    });
    expect(await tenantApi.setNotifications(tenantId, { discordChannelId: "general" })).toMatchObject({
      ok: false,
      error: { code: "invalid_channel" },
    });
    expect(await tenantApi.setNotifications(tenantId, { email: "Owner <o@x.co>" })).toMatchObject({
      ok: false,
      error: { code: "invalid_email" },
    });
  });

  it("caps the history the AI sees at the tenant's number of turns", async () => {
    await settings({ historyTurns: 1 });
    const acc = await account();
    const c = uniqueCustomer();
    for (let i = 1; i <= 3; i++) await acc.send(c, `question number ${i}`).then(() => replies(c, i));
    const texts = (await sentTo(env.SANDBOX_URL, c)).map((s) => s.text);
    expect(texts[1]).toContain("with 2 earlier messages");
    expect(texts[2]).toContain("with 2 earlier messages");
  });

  it("starts a new conversation after the tenant's idle gap", async () => {
    await settings({ idleGapMinutes: 30, handoffCooldownMinutes: 10 });
    const acc = await account();
    const c = uniqueCustomer();
    await acc.send(c, "hello");
    await replies(c, 1);
    await acc.state(c, "last_activity_at", String(Date.now() - 31 * 60_000));
    await acc.send(c, "hello again");
    expect((await replies(c, 2))[1]!.text).toContain("with 0 earlier messages");
    const { results } = await env.DB.prepare(
      "SELECT DISTINCT conversation_id FROM messages WHERE sender_id = ?",
    )
      .bind(c)
      .all();
    expect(results).toHaveLength(2);
  });

  it("goes silent after the tenant's cooldown, not the default one", async () => {
    await settings({ handoffCooldownMinutes: 5 });
    const acc = await account();
    const c = uniqueCustomer();
    await acc.send(c, "let me talk to a human");
    await replies(c, 1);
    await acc.state(c, "handoff_since", String(Date.now() - 6 * 60_000));
    await acc.send(c, "anyone?");
    await vi.waitUntil(async () => {
      const r = await env.DB.prepare(
        "SELECT action FROM messages WHERE sender_id = ? ORDER BY id DESC LIMIT 1",
      )
        .bind(c)
        .first<{ action: string }>();
      return r?.action === "handoff_silent";
    });
    expect(await sentTo(env.SANDBOX_URL, c)).toHaveLength(1);
  });
});

describe("telling the tenant", () => {
  it("pages the tenant's Discord channel once per handoff, with no customer words in it", async () => {
    const channel = await uniqueChannel(tenantId);
    expect(await tenantApi.setNotifications(tenantId, { discordChannelId: channel })).toEqual({ ok: true });
    const before = (await discordMessages()).length;
    const acc = await account();
    const c = uniqueCustomer();
    await acc.send(c, "I need a human, my order canary-pg-5 is wrong");
    await replies(c, 1);
    await acc.send(c, "still waiting for a person");
    await replies(c, 2);
    await new Promise((r) => setTimeout(r, 300));
    const pages = (await discordMessages()).slice(before);
    expect(pages).toHaveLength(1);
    expect(pages[0]!.channelId).toBe(channel);
    expect(pages[0]!.content).toContain(`…${c.slice(-4)}`);
    expect(pages[0]!.content).toMatch(/conv_[0-9a-f]+/);
    expect(pages[0]!.content).not.toContain("canary-pg-5");
    expect(pages[0]!.content).not.toContain(c);
  });

  it("pages by email too, through the EMAIL binding, and counts the page as delivered", async () => {
    // Only a confirmed address can be the notification email.
    await verifiedAddress(tenantId, "owner@chai.example");
    expect(await tenantApi.setNotifications(tenantId, { email: "owner@chai.example" })).toEqual({ ok: true });
    const acc = await account();
    const c = uniqueCustomer();
    await acc.send(c, "please get me a real person");
    await replies(c, 1);
    const pending = await runInDurableObject(acc.conversation(c), (_o, st) =>
      st.storage.sql.exec("SELECT v FROM state WHERE k = 'page_pending'").toArray(),
    );
    expect(pending).toEqual([]);
  });

  it("warns once when the balance comes down to the tenant's threshold", async () => {
    await env.DB.prepare("UPDATE credit_lots SET remaining = 0 WHERE tenant_id = ?").bind(tenantId).run();
    await grantCredits(env.DB, { tenantId, amount: 3, source: "grant", reference: `lb-${Date.now()}` });
    await settings({ lowBalanceThreshold: 2 });
    const channel = await uniqueChannel(tenantId);
    expect(await tenantApi.setNotifications(tenantId, { discordChannelId: channel })).toEqual({ ok: true });
    const before = (await discordMessages()).length;
    const acc = await account();
    const c = uniqueCustomer();
    await acc.send(c, "first question");
    await replies(c, 1);
    await acc.send(c, "second question");
    await replies(c, 2);
    const warnings = (await discordMessages()).slice(before).filter((m) => m.content.includes("balance"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.content).toContain("down to 2 AI replies");
  });
});
