// Issue 17 item 9: an approval a decision left in `sending` (it threw after taking the lock) is
// settled by the 15-minute cron from what the conversation's outbox says: never sent twice, its
// credit never lost. Through the real entry points: ingest, the tenant RPC, the scheduled handler.
import { createScheduledController, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { creditBalance, getApproval } from "@concierge/storage";
import { sentTo, uniqueCustomer } from "@concierge/testing/sandbox-client";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { ConversationDO } from "../src/conversation/object.ts";
import { APPROVALS_CRON } from "../src/crons.ts";
import worker from "../src/index.ts";
import { approvePersona, newAccount, setBalance, tenantApi, tenantId } from "./helpers.ts";
import { ConversationStore } from "../src/conversation/store.ts";

async function heldDraft() {
  const acc = await newAccount({
    wait_seconds: 0,
    rules: [],
    default_rule: { response: { kind: "prompt", text: "Answer kindly." }, approval: "always" },
  });
  const customer = uniqueCustomer();
  await acc.send(customer, "Do you deliver on Sundays?");
  await vi.waitUntil(
    async () => (await tenantApi.listApprovals(tenantId)).some((a) => a.accountId === acc.id),
    { timeout: 5000 },
  );
  const a = (await tenantApi.listApprovals(tenantId)).find((x) => x.accountId === acc.id)!;
  return { id: a.id, customer, stub: acc.conversation(customer) };
}

/** What a decision that threw after `pending → sending` leaves, `ageMs` ago. */
async function leftSending(id: string, ageMs: number) {
  await env.DB.prepare(
    "UPDATE approvals SET status = 'sending', decided_at = ?, decided_by = 'asha' WHERE id = ?",
  )
    .bind(Date.now() - ageMs, id)
    .run();
}

const cron = () =>
  worker.scheduled(createScheduledController({ cron: APPROVALS_CRON, scheduledTime: Date.now() }), env);

beforeEach(async () => {
  await approvePersona({
    kind: "builder",
    voice: "concise",
    businessName: "Chai & Co.",
    businessType: "tea shop",
    catchPhrases: [],
    offTopics: [],
    never: [],
    handoffConditions: [],
  });
  await setBalance(5);
});

describe("an approval stuck in sending", () => {
  it("not sent: goes back to pending with its credit still held, and a person can then send it once", async () => {
    const { id, customer } = await heldDraft();
    expect(await creditBalance(env.DB, tenantId)).toBe(4);
    await leftSending(id, 11 * 60_000);
    await cron();
    expect(await getApproval(env.DB, tenantId, id)).toMatchObject({ status: "pending" });
    expect(await creditBalance(env.DB, tenantId)).toBe(4);
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(0);
    expect(await tenantApi.decideApproval(tenantId, id, { action: "approve" }, "asha")).toEqual({
      ok: true,
      status: "sent",
    });
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(1);
  });

  it("sent before the decision threw: recorded as sent, never sent again, the credit kept", async () => {
    const { id, customer, stub } = await heldDraft();
    // The send went out; the decision died before recording it.
    await runInDurableObject(stub, async (o: ConversationDO) => {
      expect(await o.sendDraft(id, null)).toEqual({ ok: true });
    });
    await leftSending(id, 11 * 60_000);
    await cron();
    expect(await getApproval(env.DB, tenantId, id)).toMatchObject({ status: "sent" });
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(1);
    expect(await creditBalance(env.DB, tenantId)).toBe(4);
    // A second run finds nothing to do.
    await cron();
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(1);
  });

  it("died while sending (the outcome unknown, its draft still held): recorded as sent and its draft dropped", async () => {
    const { id, customer, stub } = await heldDraft();
    // The decision marked the send and died before any answer: the customer may have it.
    await runInDurableObject(stub, (_o, state) => {
      new ConversationStore(state.storage).markOutbox(`approval:${id}`, "sending");
    });
    await leftSending(id, 11 * 60_000);
    await cron();
    expect(await getApproval(env.DB, tenantId, id)).toMatchObject({ status: "sent" });
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(0);
    expect(await creditBalance(env.DB, tenantId)).toBe(4);
    // Decided for good: its text leaves the object, which no longer owes anything for it.
    const drafts = await runInDurableObject(stub, (_o, state) =>
      state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM drafts").one(),
    );
    expect(drafts.n).toBe(0);
  });

  it("not sent and its draft gone: failed, the credit restored once", async () => {
    const { id, stub } = await heldDraft();
    await runInDurableObject(stub, async (o: ConversationDO) => o.dropDraft(id));
    await leftSending(id, 11 * 60_000);
    await cron();
    await cron();
    expect(await getApproval(env.DB, tenantId, id)).toMatchObject({ status: "failed" });
    expect(await creditBalance(env.DB, tenantId)).toBe(5);
  });

  it("leaves one within its lease alone: a decision may still be sending it", async () => {
    const { id } = await heldDraft();
    await leftSending(id, 60_000);
    await cron();
    expect(await getApproval(env.DB, tenantId, id)).toMatchObject({ status: "sending" });
  });
});
