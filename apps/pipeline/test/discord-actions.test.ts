import { env } from "cloudflare:workers";
import { createRelay, saveDiscordInstall, updateDiscordSettings } from "@concierge/storage";
import { sentTo, uniqueCustomer } from "@concierge/testing/sandbox-client";
import { describe, expect, it, vi } from "vitest";
import { discordApi, newAccount, repliesTo, tenantId } from "./helpers.ts";

const GUILD = "910000000000000001";
const ASHA = { id: "810000000000000001", name: "Asha" };

async function install(afterHumanReply: "silent" | "keep") {
  await saveDiscordInstall(env.DB, { tenantId, guildId: GUILD, guildName: null, installedBy: null });
  await updateDiscordSettings(env.DB, tenantId, {
    inboxChannelId: null,
    staffRoleId: null,
    relayMode: "needs_human",
    afterHumanReply,
  });
}

let n = 0;
/** A customer who wrote and got the canned reply, with an open inbox item about them. */
async function conversationWithItem() {
  const acc = await newAccount({
    wait_seconds: 0,
    rules: [],
    default_rule: { response: { kind: "canned", text: "Thanks, we will get back to you." } },
  });
  const customer = uniqueCustomer();
  await acc.send(customer, "Hello?");
  await repliesTo(customer, 1);
  n += 1;
  const relayId = `rl_pipe${Date.now().toString(36)}${n}`;
  await createRelay(env.DB, {
    id: relayId,
    tenantId,
    accountId: acc.id,
    channel: "whatsapp",
    customerId: customer,
    threadKey: `${tenantId}/${acc.id}/${customer}`,
    kind: "message",
    approvalId: null,
    providerMessageId: null,
    guildId: GUILD,
    channelId: "910000000000000003",
  });
  return { acc, customer, relayId };
}

/** The customer's next message, once its turn has been recorded. */
async function nextMessageHandled(acc: Awaited<ReturnType<typeof newAccount>>, customer: string) {
  await acc.send(customer, "Are you there?");
  await vi.waitUntil(
    async () => {
      const r = await env.DB.prepare(
        "SELECT COUNT(*) AS n FROM messages WHERE account_id = ? AND direction = 'inbound' AND action IS NOT NULL",
      )
        .bind(acc.id)
        .first<{ n: number }>();
      return r!.n >= 2;
    },
    { timeout: 8000 },
  );
}

describe("relayAction", () => {
  it("after a person's reply with after_human_reply 'silent', automatic replies stop for that conversation", async () => {
    await install("silent");
    const { acc, customer, relayId } = await conversationWithItem();
    const r = await discordApi.relayAction(
      tenantId,
      relayId,
      { kind: "reply", text: "Asha here, how can I help?" },
      ASHA,
    );
    expect(r).toMatchObject({ ok: true, status: "replied", handledBy: "Asha" });
    await nextMessageHandled(acc, customer);
    expect((await sentTo(env.SANDBOX_URL, customer)).map((s) => s.text)).toEqual([
      "Thanks, we will get back to you.",
      "Asha here, how can I help?",
    ]);
  });

  it("with after_human_reply 'keep', automatic replies go on after a person's reply", async () => {
    await install("keep");
    const { acc, customer, relayId } = await conversationWithItem();
    expect(
      await discordApi.relayAction(tenantId, relayId, { kind: "reply", text: "Asha here." }, ASHA),
    ).toMatchObject({
      ok: true,
    });
    await nextMessageHandled(acc, customer);
    await repliesTo(customer, 3);
    expect((await sentTo(env.SANDBOX_URL, customer)).map((s) => s.text)).toEqual([
      "Thanks, we will get back to you.",
      "Asha here.",
      "Thanks, we will get back to you.",
    ]);
  });

  it("two people acting at once: one wins, the other is told who handled it, and the customer gets one reply", async () => {
    await install("silent");
    const { customer, relayId } = await conversationWithItem();
    const results = await Promise.all([
      discordApi.relayAction(tenantId, relayId, { kind: "reply", text: "First" }, ASHA),
      discordApi.relayAction(
        tenantId,
        relayId,
        { kind: "reply", text: "Second" },
        { id: "810000000000000002", name: "Meera" },
      ),
    ]);
    const won = results.filter((r) => r.ok);
    const lost = results.filter((r) => !r.ok);
    expect(won).toHaveLength(1);
    expect(lost).toEqual([
      expect.objectContaining({ ok: false, error: expect.objectContaining({ code: "already_handled" }) }),
    ]);
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(2);
  });

  it("refuses an empty reply and an unknown item without changing anything", async () => {
    await install("silent");
    const { relayId } = await conversationWithItem();
    expect(
      await discordApi.relayAction(tenantId, relayId, { kind: "reply", text: "   " }, ASHA),
    ).toMatchObject({
      ok: false,
      error: { code: "invalid_action" },
    });
    expect(await discordApi.relayAction(tenantId, "rl_nope", { kind: "drop" }, ASHA)).toMatchObject({
      ok: false,
      error: { code: "not_found" },
    });
    expect(await discordApi.relayState(tenantId, relayId)).toMatchObject({ ok: true, status: "open" });
  });
});
