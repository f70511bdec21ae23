// Issue 17 item 10: a turn that still fails a day after the customer wrote is given up, and the
// customer is not left unanswered in silence: the thread goes to the Discord inbox as needing a
// person, the tenant is notified, and the messages' metadata says given_up (no text anywhere).
// Through the real entry points: ingest, the conversation object's alarm.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import {
  countGivenUpMessages,
  createChannelAccount,
  setNotifyDiscordChannel,
  updateDiscordSettings,
} from "@concierge/storage";
import { injectGraphFault, sentTo, uniqueCustomer } from "@concierge/testing/sandbox-client";
import { describe, expect, it } from "vitest";
import { inboundText, ingestApi, tenantApi, setBufferedField } from "./helpers.ts";
import { discordMessages, uniqueChannel } from "./notify-helpers.ts";

let phone = 0;
function newPhoneNumberId(): string {
  phone += 1;
  return `79${String(Date.now() % 1e9).padStart(9, "0")}${phone}`;
}

describe("a turn given up after 24 hours", () => {
  it("relays the thread to the inbox, notifies the tenant and records given_up, once", async () => {
    const created = await tenantApi.createTenant({ name: "Given Up Cafe", locale: "en-US", currency: "USD" });
    if (!created.ok) throw new Error(created.error.message);
    const tid = created.tenantId;
    const account = await createChannelAccount(env.DB, {
      tenantId: tid,
      channel: "whatsapp",
      externalId: newPhoneNumberId(),
    });
    expect(
      await tenantApi.saveReplyConfig(tid, account.id, {
        wait_seconds: 30,
        rules: [],
        default_rule: { response: { kind: "canned", text: "Thanks, we are on it." } },
      }),
    ).toMatchObject({ ok: true });
    const inbox = await uniqueChannel(tid);
    const notices = await uniqueChannel(tid);
    await updateDiscordSettings(env.DB, tid, {
      inboxChannelId: inbox,
      staffRoleId: null,
      relayMode: "needs_human",
      afterHumanReply: "silent",
    });
    await setNotifyDiscordChannel(env.DB, tid, notices);

    const customer = uniqueCustomer();
    const message = inboundText(account.externalId, customer, "is my order ready? canary-gu-31");
    await ingestApi.ingest([message]);
    const stub = env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(`${tid}/${account.id}/${customer}`));

    // Graph keeps failing: the turn is retried.
    await injectGraphFault(env.SANDBOX_URL, {
      status: 500,
      code: 1,
      message: "An unknown error occurred",
      to: customer,
      count: 3,
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(0);
    expect(await discordMessages(inbox)).toHaveLength(0);
    // The customer's wait is stored while the turn waits for its retry: the object may be gone
    // before then, and a person may answer meanwhile.
    const waitingSince = () =>
      runInDurableObject(stub, (_o, state) =>
        state.storage.sql
          .exec<{ v: string }>("SELECT v FROM state WHERE k = 'awaiting_reply_since'")
          .toArray(),
      );
    const since = await waitingSince();
    expect(since).toHaveLength(1);

    // A day later it still fails: given up.
    await runInDurableObject(stub, (_o, state) => {
      setBufferedField(state, "accepted_at", "?", [Date.now() - 25 * 3600_000]);
    });
    await injectGraphFault(env.SANDBOX_URL, {
      status: 500,
      code: 1,
      message: "An unknown error occurred",
      to: customer,
      count: 3,
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(0);

    // The inbox has the thread as needing a person, with the customer's words (Discord is where
    // staff read them); the notice names the channel and a masked customer, never the text.
    const relayed = await discordMessages(inbox);
    expect(relayed).toHaveLength(1);
    expect(JSON.stringify(relayed)).toContain("canary-gu-31");
    const told = await discordMessages(notices);
    expect(told).toHaveLength(1);
    expect(told[0]!.content).toContain("WhatsApp");
    expect(told[0]!.content).toContain(customer.slice(-4));
    expect(told[0]!.content).not.toContain("canary-gu-31");

    // The metadata: the message is recorded as given up, without text.
    const rows = (
      await env.DB.prepare("SELECT * FROM messages WHERE tenant_id = ? AND sender_id = ?")
        .bind(tid, customer)
        .all()
    ).results;
    expect(rows).toEqual([expect.objectContaining({ direction: "inbound", action: "given_up" })]);
    expect(JSON.stringify(rows)).not.toContain("canary-gu-31");
    expect(await countGivenUpMessages(env.DB, tid, Date.now() - 7 * 24 * 3600_000)).toBe(1);

    // Nothing is pending any more, and nothing is told twice.
    await runDurableObjectAlarm(stub);
    expect(await discordMessages(inbox)).toHaveLength(1);
    expect(await discordMessages(notices)).toHaveLength(1);
    // Given up, the customer still waits, since when they wrote: for the person who answers.
    expect(await waitingSince()).toEqual(since);
    // Its text gone, its id stays: Meta delivering the message again starts nothing again.
    const again = await ingestApi.ingest([message]);
    expect(again).toMatchObject({ ok: true, results: [{ status: "duplicate" }] });
    await runDurableObjectAlarm(stub);
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(0);
    expect(await discordMessages(inbox)).toHaveLength(1);
  });
});
