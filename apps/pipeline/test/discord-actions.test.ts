import { env } from "cloudflare:workers";
import { createRelay, saveDiscordInstall, updateDiscordSettings } from "@concierge/storage";
import { sentTo, uniqueCustomer } from "@concierge/testing/sandbox-client";
import { describe, expect, it, vi } from "vitest";
import { discordApi, newAccount, repliesTo, tenantApi, tenantId } from "./helpers.ts";

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

/** The actions recorded for the customer's messages, in order, once there are `n`. */
async function inboundActions(accountId: string, n: number) {
  const read = async () =>
    (
      await env.DB.prepare(
        "SELECT action FROM messages WHERE account_id = ? AND direction = 'inbound' AND action IS NOT NULL ORDER BY id",
      )
        .bind(accountId)
        .all<{ action: string }>()
    ).results.map((r) => r.action);
  await vi.waitUntil(async () => (await read()).length >= n, { timeout: 8000 });
  return read();
}

/** The inbox's mirror of who answers the customer (conversation_states). */
function mirrored(accountId: string, customer: string) {
  return env.DB.prepare(
    "SELECT tenant_id AS tenantId, state, actor, paused_until AS pausedUntil FROM conversation_states WHERE account_id = ? AND customer_id = ?",
  )
    .bind(accountId, customer)
    .first();
}

const texts = async (customer: string) => (await sentTo(env.SANDBOX_URL, customer)).map((s) => s.text);

describe("relayAction: Take over, Hand back, Pause (issue 19 item 2)", () => {
  it("Take over keeps the bot silent for the customer, Hand back makes it answer again, and the item stays open", async () => {
    await install("keep");
    const { acc, customer, relayId } = await conversationWithItem();
    const controlled = {
      ok: true,
      status: "control",
      state: "taken_over",
      pausedUntil: null,
      by: "Asha",
      at: expect.any(Number),
    };
    expect(await discordApi.relayAction(tenantId, relayId, { kind: "take_over" }, ASHA)).toEqual(controlled);
    // Pressed again (a double click, a second person): the same state, no error.
    expect(await discordApi.relayAction(tenantId, relayId, { kind: "take_over" }, ASHA)).toEqual(controlled);
    expect(await discordApi.relayState(tenantId, relayId)).toMatchObject({
      ok: true,
      status: "open",
      handledBy: null,
    });
    // The inbox's mirror names the Discord member the way a Discord reply does.
    expect(await mirrored(acc.id, customer)).toEqual({
      tenantId,
      state: "taken_over",
      actor: `discord:${ASHA.id}`,
      pausedUntil: null,
    });

    await acc.send(customer, "Are you there?");
    expect(await inboundActions(acc.id, 2)).toEqual(["canned_reply", "handoff_silent"]);
    expect(await texts(customer)).toEqual(["Thanks, we will get back to you."]);

    expect(await discordApi.relayAction(tenantId, relayId, { kind: "hand_back" }, ASHA)).toEqual({
      ...controlled,
      state: "bot",
    });
    await acc.send(customer, "Hello again");
    await repliesTo(customer, 2);
    expect(await inboundActions(acc.id, 3)).toEqual(["canned_reply", "handoff_silent", "canned_reply"]);
    expect(await texts(customer)).toEqual([
      "Thanks, we will get back to you.",
      "Thanks, we will get back to you.",
    ]);
    expect(await discordApi.relayState(tenantId, relayId)).toMatchObject({ ok: true, status: "open" });
  });

  it("Pause silences the bot for an hour, and Hand back ends the pause", async () => {
    await install("keep");
    const { acc, customer, relayId } = await conversationWithItem();
    const before = Date.now();
    const r = await discordApi.relayAction(tenantId, relayId, { kind: "pause" }, ASHA);
    const after = Date.now();
    expect(r).toMatchObject({ ok: true, status: "control", state: "paused", by: "Asha" });
    const until = r.ok && r.status === "control" ? r.pausedUntil : null;
    expect(until).toBeGreaterThanOrEqual(before + 60 * 60_000);
    expect(until).toBeLessThanOrEqual(after + 60 * 60_000);
    expect(await mirrored(acc.id, customer)).toMatchObject({ state: "bot", pausedUntil: until });

    await acc.send(customer, "Are you there?");
    expect(await inboundActions(acc.id, 2)).toEqual(["canned_reply", "paused"]);
    expect(await texts(customer)).toHaveLength(1);

    expect(await discordApi.relayAction(tenantId, relayId, { kind: "hand_back" }, ASHA)).toMatchObject({
      ok: true,
      state: "bot",
      pausedUntil: null,
    });
    await acc.send(customer, "Hello again");
    await repliesTo(customer, 2);
    expect(await inboundActions(acc.id, 3)).toEqual(["canned_reply", "paused", "canned_reply"]);
  });

  it("works on an item already handled and leaves it closed: the conversation goes on after a reply", async () => {
    await install("silent");
    const { acc, customer, relayId } = await conversationWithItem();
    expect(
      await discordApi.relayAction(tenantId, relayId, { kind: "reply", text: "Asha here." }, ASHA),
    ).toMatchObject({ ok: true, status: "replied" });
    // 'silent': the reply took the thread; handing back from the same item lets the bot answer.
    expect(await discordApi.relayAction(tenantId, relayId, { kind: "hand_back" }, ASHA)).toMatchObject({
      ok: true,
      status: "control",
      state: "bot",
    });
    expect(await discordApi.relayState(tenantId, relayId)).toMatchObject({
      ok: true,
      status: "replied",
      handledBy: "Asha",
    });
    await acc.send(customer, "Thanks!");
    await repliesTo(customer, 3);
    expect((await texts(customer)).at(-1)).toBe("Thanks, we will get back to you.");
  });

  it("refuses another tenant's item without touching its conversation", async () => {
    await install("keep");
    const { acc, customer, relayId } = await conversationWithItem();
    const other = await tenantApi.createTenant({ name: "Other tenant" });
    if (!other.ok) throw new Error(other.error.message);
    for (const kind of ["take_over", "hand_back", "pause"] as const) {
      expect(await discordApi.relayAction(other.tenantId, relayId, { kind }, ASHA)).toMatchObject({
        ok: false,
        error: { code: "not_found" },
      });
    }
    expect(await mirrored(acc.id, customer)).toBeNull();
    await acc.send(customer, "Are you there?");
    await repliesTo(customer, 2);
    expect(await inboundActions(acc.id, 2)).toEqual(["canned_reply", "canned_reply"]);
  });

  it("says the conversation is gone when the item's customer never wrote", async () => {
    await install("keep");
    const acc = await newAccount({
      wait_seconds: 0,
      rules: [],
      default_rule: { response: { kind: "canned", text: "Hi" } },
    });
    const customer = uniqueCustomer();
    const relayId = `rl_none${Date.now().toString(36)}`;
    await createRelay(env.DB, {
      id: relayId,
      tenantId,
      accountId: acc.id,
      channel: "whatsapp",
      customerId: customer,
      threadKey: `${tenantId}/${acc.id}/${customer}`,
      kind: "handoff",
      approvalId: null,
      providerMessageId: null,
      guildId: GUILD,
      channelId: "910000000000000003",
    });
    expect(await discordApi.relayAction(tenantId, relayId, { kind: "take_over" }, ASHA)).toMatchObject({
      ok: false,
      error: { code: "conversation_gone" },
    });
  });
});
