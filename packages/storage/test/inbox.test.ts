import { describe, expect, it } from "vitest";
import { findInboxConversation, listInbox, saveConversationState } from "../src/inbox.ts";
import { db, newAccount, newTenant } from "./fixtures.ts";

const HOUR = 3_600_000;
// Far ahead of every other test's rows.
const NOW = 6_000_000_000_000;
const DAY_AGO = NOW - 24 * HOUR;

/** One metadata row; `ago` ms before NOW. */
async function message(
  tenantId: string,
  accountId: string,
  customer: string,
  ago: number,
  opts: { direction?: "inbound" | "outbound"; conversation?: string; action?: string; channel?: string } = {},
) {
  const inbound = (opts.direction ?? "inbound") === "inbound";
  const r = await db()
    .prepare(
      `INSERT INTO messages (tenant_id, account_id, channel, direction, provider_message_id, conversation_id,
         sender_id, recipient_id, action, created_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)`,
    )
    .bind(
      tenantId,
      accountId,
      opts.channel ?? "whatsapp",
      inbound ? "inbound" : "outbound",
      `inbox_${crypto.randomUUID()}`,
      opts.conversation ?? "conv_1",
      inbound ? customer : "biz",
      inbound ? "biz" : customer,
      opts.action ?? null,
      NOW - ago,
    )
    .run();
  // The inbox's handle of this row (listInbox, findInboxConversation): its id and its time.
  return `${r.meta.last_row_id}-${NOW - ago}`;
}

const q = (extra: Partial<Parameters<typeof listInbox>[2]> = {}) => ({
  now: NOW,
  since: DAY_AGO,
  limit: 20,
  offset: 0,
  ...extra,
});

describe("the live inbox's metadata", () => {
  it("lists each customer who wrote within the window once, newest first, with the newest message's ref", async () => {
    const t = await newTenant();
    const other = await newTenant();
    const acc = await newAccount(t.id);
    const theirs = await newAccount(other.id);
    await message(t.id, acc.id, "+911111", 3 * HOUR);
    const newest = await message(t.id, acc.id, "+911111", HOUR, { action: "injection_flagged" });
    await message(t.id, acc.id, "+911111", HOUR - 1000, { direction: "outbound" });
    const second = await message(t.id, acc.id, "+912222", 2 * HOUR);
    await message(t.id, acc.id, "+913333", 25 * HOUR); // before the window
    await message(other.id, theirs.id, "+914444", HOUR);
    const { rows, more } = await listInbox(db(), t.id, q());
    expect(more).toBe(false);
    expect(rows.map((r) => [r.customerId, r.ref, r.messages, r.state])).toEqual([
      ["+911111", newest, 2, "bot"],
      ["+912222", second, 1, "bot"],
    ]);
    expect(rows[0]).toMatchObject({
      accountId: acc.id,
      channel: "whatsapp",
      lastAction: "injection_flagged",
    });
  });

  it("orders customers who wrote at the same moment by their newest message's id, across a page boundary", async () => {
    const t = await newTenant();
    const acc = await newAccount(t.id);
    // Two rows of the same millisecond whose ids differ in length: as text "9999999-…" would
    // sort after "10000000-…", as numbers it comes before.
    const at = NOW - HOUR;
    for (const [id, customer] of [
      [9_999_999, "+919999"],
      [10_000_000, "+911000"],
    ] as const) {
      await db()
        .prepare(
          `INSERT INTO messages (id, tenant_id, account_id, channel, direction, provider_message_id, sender_id,
             recipient_id, created_at) VALUES (?, ?, ?, 'whatsapp', 'inbound', ?, ?, 'biz', ?)`,
        )
        .bind(id, t.id, acc.id, `tie_${id}`, customer, at)
        .run();
    }
    const first = await listInbox(db(), t.id, q({ limit: 1 }));
    const second = await listInbox(db(), t.id, q({ limit: 1, offset: 1 }));
    expect([...first.rows, ...second.rows].map((r) => r.ref)).toEqual([`10000000-${at}`, `9999999-${at}`]);
  });

  it("pages, and filters by channel and by state", async () => {
    const t = await newTenant();
    const acc = await newAccount(t.id);
    for (let i = 0; i < 5; i++) await message(t.id, acc.id, `+91500${i}`, (i + 1) * 60_000);
    await message(t.id, acc.id, "mail@example.com", 30_000, { channel: "email" });
    const first = await listInbox(db(), t.id, q({ limit: 4 }));
    expect(first.more).toBe(true);
    expect(first.rows.map((r) => r.customerId)).toEqual([
      "mail@example.com",
      "+915000",
      "+915001",
      "+915002",
    ]);
    const second = await listInbox(db(), t.id, q({ limit: 4, offset: 4 }));
    expect(second).toMatchObject({ more: false });
    expect(second.rows.map((r) => r.customerId)).toEqual(["+915003", "+915004"]);
    const email = await listInbox(db(), t.id, q({ channel: "email" }));
    expect(email.rows.map((r) => r.customerId)).toEqual(["mail@example.com"]);
    await saveConversationState(db(), {
      tenantId: t.id,
      accountId: acc.id,
      customerId: "+915001",
      conversationId: "conv_1",
      state: "taken_over",
      actor: "owner@example.com",
      at: NOW - 1000,
    });
    const taken = await listInbox(db(), t.id, q({ state: "taken_over" }));
    expect(taken.rows.map((r) => [r.customerId, r.actor])).toEqual([["+915001", "owner@example.com"]]);
    expect((await listInbox(db(), t.id, q({ state: "bot" }))).rows).toHaveLength(5);
  });

  it("shows a waiting approval first, a pause until it ends, and a handoff only within its conversation", async () => {
    const t = await newTenant();
    const acc = await newAccount(t.id);
    await message(t.id, acc.id, "+91paused", HOUR);
    await message(t.id, acc.id, "+91handed", HOUR, { conversation: "conv_new" });
    await message(t.id, acc.id, "+91waiting", HOUR);
    const state = (customerId: string, s: Parameters<typeof saveConversationState>[1]["state"], extra = {}) =>
      saveConversationState(db(), {
        tenantId: t.id,
        accountId: acc.id,
        customerId,
        conversationId: "conv_1",
        state: s,
        actor: "ai",
        at: NOW - 2 * HOUR,
        ...extra,
      });
    // Paused over a takeover: paused while it lasts, the takeover again after.
    await state("+91paused", "taken_over", { actor: "owner@example.com", pausedUntil: NOW + HOUR });
    // Handed off in an earlier conversation: the idle gap ended it.
    await state("+91handed", "handed_off");
    await state("+91waiting", "taken_over");
    await db()
      .prepare(
        `INSERT INTO approvals (id, tenant_id, account_id, thread_key, credit_ref, reasons, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, 'cr', 'money', ?5, ?6)`,
      )
      .bind(`apr_${crypto.randomUUID()}`, t.id, acc.id, `${t.id}/${acc.id}/+91waiting`, NOW, NOW + HOUR)
      .run();
    const states = async (now: number) =>
      Object.fromEntries((await listInbox(db(), t.id, q({ now }))).rows.map((r) => [r.customerId, r.state]));
    expect(await states(NOW)).toEqual({
      "+91paused": "paused",
      "+91handed": "bot",
      "+91waiting": "approval",
    });
    expect(await states(NOW + 2 * HOUR)).toMatchObject({ "+91paused": "taken_over" });
  });

  it("finds a conversation by its ref for its own tenant only, with the customer's newest conversation", async () => {
    const t = await newTenant();
    const other = await newTenant();
    const acc = await newAccount(t.id);
    const older = await message(t.id, acc.id, "+917777", 3 * HOUR, { conversation: "conv_old" });
    await message(t.id, acc.id, "+917777", HOUR, { conversation: "conv_now" });
    const out = await message(t.id, acc.id, "+917777", HOUR, { direction: "outbound" });
    expect(await findInboxConversation(db(), t.id, older, NOW)).toMatchObject({
      accountId: acc.id,
      customerId: "+917777",
      conversationId: "conv_now",
      state: "bot",
    });
    expect(await findInboxConversation(db(), other.id, older, NOW)).toBeNull();
    expect(await findInboxConversation(db(), t.id, out, NOW)).toBeNull();
    expect(await findInboxConversation(db(), t.id, "-1", NOW)).toBeNull();
    // The id alone, or with another time (a later row given a deleted row's id), names nothing.
    const [id, at] = older.split("-");
    expect(await findInboxConversation(db(), t.id, id!, NOW)).toBeNull();
    expect(await findInboxConversation(db(), t.id, `${id}-${Number(at) + 1}`, NOW)).toBeNull();
    expect(await findInboxConversation(db(), t.id, `${id}-${at}x`, NOW)).toBeNull();
  });

  it("keeps the newest state when an older change arrives late", async () => {
    const t = await newTenant();
    const acc = await newAccount(t.id);
    await message(t.id, acc.id, "+918888", HOUR);
    const base = { tenantId: t.id, accountId: acc.id, customerId: "+918888", conversationId: "conv_1" };
    await saveConversationState(db(), { ...base, state: "bot", actor: "b@example.com", at: NOW - 1000 });
    await saveConversationState(db(), {
      ...base,
      state: "taken_over",
      actor: "a@example.com",
      at: NOW - 5000,
    });
    const [row] = (await listInbox(db(), t.id, q())).rows;
    expect(row).toMatchObject({ state: "bot", actor: "b@example.com", stateAt: NOW - 1000 });
  });
});
