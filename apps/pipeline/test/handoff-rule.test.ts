// A reply rule whose response is "hand off to a person" (issue 19, item 7): through the real entry
// point (MetaIngestEntrypoint.ingest), the real conversation object, D1 and the fake Graph API.
// It works for a tenant with no credits: the rule's own sentence, one page, then silence until a
// person hands the conversation back (or it goes idle).
import { env } from "cloudflare:workers";
import { creditBalance, getReplyConfig } from "@concierge/storage";
import { injectGraphFault, sentTo, uniqueCustomer } from "@concierge/testing/sandbox-client";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { newAccount, repliesTo, setBalance, tenantApi, tenantId } from "./helpers.ts";
import { discordMessages, uniqueChannel } from "./notify-helpers.ts";

const HOLDING = "Someone from our team will reply here shortly.";

function handoffAccount() {
  return newAccount({
    wait_seconds: 0,
    rules: [
      {
        id: "hours",
        matcher: { kind: "static_text", keywords: ["hours"] },
        response: { kind: "canned", text: "Open 7 to 7." },
      },
      {
        id: "person",
        label: "Talk to a person",
        matcher: { kind: "static_text", keywords: ["a person", "human"] },
        response: { kind: "handoff", text: HOLDING },
      },
    ],
    // An AI default: with no credits it could never answer, so a reply below is the rule's.
    default_rule: { response: { kind: "prompt", text: "Answer kindly." } },
  });
}

async function actions(customerId: string) {
  const { results } = await env.DB.prepare(
    "SELECT direction, action, rule_id FROM messages WHERE sender_id = ? OR recipient_id = ? ORDER BY id",
  )
    .bind(customerId, customerId)
    .all<{ direction: string; action: string; rule_id: string | null }>();
  return results;
}

beforeEach(() => setBalance(0));
afterEach(() => tenantApi.setNotifications(tenantId, { discordChannelId: null, cadence: "instant" }));

describe("a hand-off rule", () => {
  it("sends its sentence free, pages the tenant once, keeps the bot silent until handed back", async () => {
    const channel = await uniqueChannel(tenantId);
    await tenantApi.setNotifications(tenantId, { discordChannelId: channel, cadence: "instant" });
    const acc = await handoffAccount();
    const customer = uniqueCustomer();

    await acc.send(customer, "Can I talk to a person please?");
    expect((await repliesTo(customer, 1)).map((r) => r.text)).toEqual([HOLDING]);
    await vi.waitUntil(async () => (await discordMessages(channel)).length > 0, { timeout: 5000 });
    expect(await creditBalance(env.DB, tenantId)).toBe(0);

    // Even a message a canned rule would answer gets nothing now: a person has it.
    await acc.send(customer, "what are your hours?");
    await vi.waitUntil(async () => (await actions(customer)).some((a) => a.action === "handoff_silent"), {
      timeout: 5000,
    });
    // And a second ask for a person neither answers nor pages again.
    await acc.send(customer, "hello, a person?");
    await vi.waitUntil(
      async () => (await actions(customer)).filter((a) => a.action === "handoff_silent").length === 2,
      { timeout: 5000 },
    );
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(1);
    const pages = await discordMessages(channel);
    expect(pages).toHaveLength(1);
    expect(pages[0]!.content).toContain(`…${customer.slice(-4)}`);
    expect(pages[0]!.content).not.toContain("talk to a person");

    // Handing back: the rules answer again.
    expect(await tenantApi.resolveHandoff(tenantId, acc.id, customer)).toEqual({
      ok: true,
      wasInHandoff: true,
    });
    await acc.send(customer, "what are your hours?");
    expect((await repliesTo(customer, 2))[1]!.text).toBe("Open 7 to 7.");

    expect(await actions(customer)).toEqual([
      { direction: "inbound", action: "handoff", rule_id: "person" },
      { direction: "outbound", action: "handoff", rule_id: "person" },
      { direction: "inbound", action: "handoff_silent", rule_id: null },
      { direction: "inbound", action: "handoff_silent", rule_id: null },
      { direction: "inbound", action: "canned_reply", rule_id: "hours" },
      { direction: "outbound", action: "canned_reply", rule_id: "hours" },
    ]);
    expect(await creditBalance(env.DB, tenantId)).toBe(0);
  });

  it("still pages the tenant and goes quiet when its sentence cannot be delivered", async () => {
    const channel = await uniqueChannel(tenantId);
    await tenantApi.setNotifications(tenantId, { discordChannelId: channel, cadence: "instant" });
    const acc = await handoffAccount();
    const customer = uniqueCustomer();
    // Permanent: the customer's 24-hour window is closed, so the sentence is never sent.
    await injectGraphFault(env.SANDBOX_URL, {
      status: 400,
      code: 131047,
      message: "Re-engagement message",
      to: customer,
    });
    await acc.send(customer, "I need a human");
    await vi.waitUntil(async () => (await discordMessages(channel)).length > 0, { timeout: 5000 });
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(0);

    await acc.send(customer, "what are your hours?");
    await vi.waitUntil(async () => (await actions(customer)).some((a) => a.action === "handoff_silent"), {
      timeout: 5000,
    });
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(0);
    expect((await actions(customer)).map((a) => a.action)).toEqual([
      "send_failed",
      "send_failed",
      "handoff_silent",
    ]);
    expect(await discordMessages(channel)).toHaveLength(1);
  });

  it("is named in the test panel, and refused by the AI preview, at no cost", async () => {
    const acc = await handoffAccount();
    expect(await tenantApi.testReplyRules(tenantId, acc.id, "can a human help me")).toMatchObject({
      ok: true,
      ruleId: "person",
      via: "keyword",
      reply: { kind: "handoff", text: HOLDING },
    });
    expect(
      await tenantApi.previewAiReply(tenantId, acc.id, "can a human help me", "preview-handoff-1"),
    ).toMatchObject({ ok: false, error: { code: "not_ai" } });
  });

  it("is refused with an empty sentence, and the config is left as it was", async () => {
    const acc = await handoffAccount();
    const before = await getReplyConfig(env.DB, acc.id);
    const r = await tenantApi.saveReplyConfig(tenantId, acc.id, {
      rules: [
        {
          id: "person",
          matcher: { kind: "static_text", keywords: ["human"] },
          response: { kind: "handoff", text: "   " },
        },
      ],
      default_rule: { response: { kind: "canned", text: "Thanks!" } },
    });
    expect(r).toMatchObject({
      ok: false,
      error: { code: "invalid_reply_config", message: expect.stringContaining("response.text") },
    });
    expect(await getReplyConfig(env.DB, acc.id)).toEqual(before);
  });
});
