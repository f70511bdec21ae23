import { describe, expect, it } from "vitest";
import {
  getRetentionDays,
  purgeExpiredMetadata,
  RETENTION_DEFAULT_DAYS,
  saveRetentionDays,
} from "../src/retention.ts";
import { saveConversationState } from "../src/inbox.ts";
import { type MessageMeta, recordMessages } from "../src/messages.ts";
import { db, newAccount, newTenant, scalar } from "./fixtures.ts";

const DAY = 86_400_000;
// Far ahead of every other test's rows, so only this file's old rows are due at NOW.
const NOW = 4_000_000_000_000;

async function seed(tenantId: string, accountId: string, n: number, ageDays: number) {
  await db()
    .prepare(
      `WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < ?1 - 1)
       INSERT INTO messages (tenant_id, account_id, channel, direction, provider_message_id, sender_id, recipient_id, created_at)
       SELECT ?2, ?3, 'whatsapp', 'outbound', 'ret_' || ?3 || '_' || ?4 || '_' || i, 'biz', 'c' || i, ?5 FROM s`,
    )
    .bind(n, tenantId, accountId, ageDays, NOW - ageDays * DAY)
    .run();
}

const count = (tenantId: string) => scalar("SELECT COUNT(*) FROM messages WHERE tenant_id = ?", tenantId);

describe("retention", () => {
  it("a new tenant keeps 90 days; a saved value is read back", async () => {
    const t = (await newTenant()).id;
    expect(await getRetentionDays(db(), t)).toBe(RETENTION_DEFAULT_DAYS);
    expect(await saveRetentionDays(db(), t, 365)).toBe("saved");
    expect(await getRetentionDays(db(), t)).toBe(365);
    expect(await saveRetentionDays(db(), "t_none", 30)).toBe("not_found");
    expect(await getRetentionDays(db(), "t_none")).toBeNull();
  });

  it("purges by each tenant's own retention, at most chunks × limit rows a call, and says when it is done", async () => {
    const a = (await newTenant()).id;
    const b = (await newTenant()).id;
    const deleting = (await newTenant()).id;
    const [accA, accB, accD] = await Promise.all([newAccount(a), newAccount(b), newAccount(deleting)]);
    await saveRetentionDays(db(), a, 7);
    await seed(a, accA.id, 30, 8); // due (7 days)
    await seed(a, accA.id, 5, 6); // kept
    await seed(b, accB.id, 20, 8); // kept (90 days)
    await seed(b, accB.id, 12, 91); // due
    // A tenant being deleted is left to its deletion.
    await seed(deleting, accD.id, 10, 200);
    await db().prepare("UPDATE tenants SET deleting_at = ? WHERE id = ?").bind(NOW, deleting).run();

    const first = await purgeExpiredMetadata(db(), NOW, { limit: 10, chunks: 2 });
    expect(first).toMatchObject({ messages: 20, chunks: 2, done: false });
    const second = await purgeExpiredMetadata(db(), NOW, { limit: 10, chunks: 5 });
    expect(second).toMatchObject({ messages: 22, done: true });
    expect(second.chunks).toBeLessThanOrEqual(4);
    expect(await count(a)).toBe(5);
    expect(await count(b)).toBe(20);
    expect(await count(deleting)).toBe(10);
    // Nothing left: a call changes nothing.
    expect(await purgeExpiredMetadata(db(), NOW, { limit: 10, chunks: 5 })).toMatchObject({
      messages: 0,
      chunks: 1,
      done: true,
    });
  });

  it("purges the insights' per-day counts of the days before each tenant's cutoff", async () => {
    const t = (await newTenant()).id;
    const acc = await newAccount(t);
    await saveRetentionDays(db(), t, 7);
    await seed(t, acc.id, 3, 10); // due: its day's count goes too
    await seed(t, acc.id, 2, 3); // kept, with its count
    // A rule's reply on each side of the cutoff (insight_days, migration 0037).
    const ruleReply = (ageDays: number): MessageMeta => ({
      tenantId: t,
      accountId: acc.id,
      channel: "whatsapp",
      direction: "outbound",
      providerMessageId: `rule_${t}_${ageDays}`,
      conversationId: null,
      senderId: "biz",
      recipientId: "c",
      action: "canned_reply",
      ruleId: "r1",
      at: NOW - ageDays * DAY,
    });
    await recordMessages(db(), [ruleReply(10), ruleReply(3)]);
    const days = () => scalar("SELECT COALESCE(SUM(n), 0) FROM message_days WHERE tenant_id = ?", t);
    const ruleDays = () => scalar("SELECT COALESCE(SUM(n), 0) FROM insight_days WHERE tenant_id = ?", t);
    expect([await days(), await ruleDays()]).toEqual([7, 2]);
    const r = await purgeExpiredMetadata(db(), NOW, { limit: 50, chunks: 5 });
    expect(r.days).toBeGreaterThanOrEqual(2);
    expect(await count(t)).toBe(3);
    expect(await days()).toBe(3);
    expect(await ruleDays()).toBe(1);
  });

  it("purges who controlled a thread once it is older than the tenant's retention", async () => {
    const t = (await newTenant()).id;
    const acc = await newAccount(t);
    await saveRetentionDays(db(), t, 7);
    const state = (customerId: string, ageDays: number) =>
      saveConversationState(db(), {
        tenantId: t,
        accountId: acc.id,
        customerId,
        conversationId: null,
        state: "taken_over",
        actor: "owner@example.com",
        at: NOW - ageDays * DAY,
      });
    await state("old", 8);
    await state("new", 6);
    const r = await purgeExpiredMetadata(db(), NOW, { limit: 50, chunks: 5 });
    expect(r.states).toBe(1);
    const left = await db()
      .prepare("SELECT customer_id AS c FROM conversation_states WHERE tenant_id = ?")
      .bind(t)
      .all<{ c: string }>();
    expect(left.results.map((x) => x.c)).toEqual(["new"]);
  });
});
