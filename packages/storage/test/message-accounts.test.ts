import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { digestCounts } from "../src/digest.ts";
import { listInbox } from "../src/inbox.ts";
import { recordMessages } from "../src/messages.ts";
import { searchTenants } from "../src/operator-tenants.ts";
import { purgeExpiredMetadata, saveRetentionDays } from "../src/retention.ts";
import { deleteChannelAccount } from "../src/channel-connections.ts";
import {
  countingDb,
  db,
  messageRow,
  newAccount,
  newTenant,
  rowsWrittenByCannedTurn,
  scalar,
} from "./fixtures.ts";

/**
 * Migration 0040: `messages` has no (tenant_id, created_at) index any more. Every tenant-wide read
 * by time skips through the tenant's account ids in messages_account_time (message-accounts.ts),
 * so it must still find every account's rows (a disconnected account's included), read only the
 * window, and never another tenant's rows.
 */
const DAY = 86_400_000;
// Far from every other test's rows: the retention purge below must find only this file's.
const NOW = 5_000_000_000_000;

/** The tenant disconnects the account: its row goes, its messages' metadata stays. */
async function disconnect(tenantId: string, accountId: string): Promise<void> {
  expect(await deleteChannelAccount(db(), tenantId, accountId)).not.toBeNull();
}

/** `n` outbound rows of the account at `at`, in one statement (the history the reads must skip). */
async function history(tenantId: string, accountId: string, n: number, at: number): Promise<void> {
  await db()
    .prepare(
      `WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < ?1 - 1)
       INSERT INTO messages (tenant_id, account_id, channel, direction, provider_message_id, sender_id, recipient_id, created_at)
       SELECT ?2, ?3, 'whatsapp', 'outbound', 'old_' || ?3 || '_' || i, 'biz', 'c' || i, ?4 FROM s`,
    )
    .bind(n, tenantId, accountId, at)
    .run();
}

/** Rows read by every statement `run` prepares, replayed on the real database. */
async function rowsRead(run: (d: D1Database) => Promise<unknown>): Promise<number> {
  const c = countingDb();
  await run(c.db);
  let read = 0;
  for (const r of c.recorded) {
    const { meta } = await env.DB.prepare(r.sql)
      .bind(...r.binds)
      .all();
    read += meta.rows_read;
  }
  return read;
}

describe("a tenant's messages by time, through its accounts (migration 0040)", () => {
  it("no index of messages leads with (tenant_id, created_at) any more", async () => {
    const { results } = await env.DB.prepare(
      "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'messages' AND sql IS NOT NULL",
    ).all<{ name: string; sql: string }>();
    expect(results.map((r) => r.name)).toContain("messages_account_time");
    // The partial indexes lead with it too, but hold only their own few rows (failures, give-ups).
    const full = results.filter((r) => !/\bWHERE\b/i.test(r.sql));
    for (const r of full) expect(r.sql, r.name).not.toMatch(/\(\s*tenant_id\s*,\s*created_at\b/);
  });

  it("a customer's message and its canned reply write 9 rows (11 before): each row, its unique key, its one time index and its day count, and the reply's insight count", async () => {
    const t = (await newTenant()).id;
    const a = await newAccount(t);
    expect(await rowsWrittenByCannedTurn(db(), t, a.id, { at: NOW })).toBe(9);
  });

  it("the digest, the inbox and the operator's last activity count every account, a disconnected one's too, and no other tenant's", async () => {
    const t = (await newTenant()).id;
    const [a, b, c] = [await newAccount(t), await newAccount(t), await newAccount(t)];
    const other = (await newTenant()).id;
    const o = await newAccount(other);
    const at = NOW - 2 * DAY;
    await recordMessages(db(), [
      messageRow(t, a.id, { at, senderId: "91980000001" }),
      messageRow(t, a.id, { at: at + 1, direction: "outbound", senderId: "biz", recipientId: "91980000001" }),
      messageRow(t, c.id, { at: at + 2, senderId: "91980000003" }),
      // Outside the window: before it, and at its end (the end is not in it).
      messageRow(t, a.id, { at: at - DAY }),
      messageRow(t, b.id, { at: at + DAY }),
      messageRow(other, o.id, { at: at + 3 }),
    ]);
    // The newest of the tenant's rows is an outbound one of the account that goes.
    await recordMessages(db(), [
      messageRow(t, c.id, {
        at: at + 10,
        direction: "outbound",
        senderId: "biz",
        recipientId: "91980000003",
      }),
    ]);
    await disconnect(t, c.id);

    const counts = await digestCounts(db(), t, at, at + DAY, NOW);
    expect(counts.received.whatsapp).toBe(2);
    expect(counts.sent.whatsapp).toBe(2);

    const inbox = await listInbox(db(), t, { now: NOW, since: at, limit: 20, offset: 0 });
    expect(inbox.rows.map((r) => r.customerId).sort()).toEqual([
      "919800000001",
      "91980000001",
      "91980000003",
    ]);

    const page = await searchTenants(db(), { q: t, now: NOW });
    expect(page.tenants.find((x) => x.id === t)?.lastActivityAt).toBe(at + DAY);
    // With the newest row gone, the account that has no row left is skipped over.
    await db().prepare("DELETE FROM messages WHERE tenant_id = ? AND account_id = ?").bind(t, b.id).run();
    expect((await searchTenants(db(), { q: t, now: NOW })).tenants[0]?.lastActivityAt).toBe(at + 10);
  });

  it("a window reads the window's rows and one seek per account, not the tenant's history", async () => {
    const t = (await newTenant()).id;
    const [a, b] = [await newAccount(t), await newAccount(t)];
    await history(t, a.id, 400, NOW - 30 * DAY);
    await history(t, b.id, 400, NOW - 30 * DAY);
    const at = NOW - DAY;
    await recordMessages(db(), [messageRow(t, a.id, { at }), messageRow(t, b.id, { at: at + 1 })]);
    const digest = await rowsRead((d) => digestCounts(d, t, at, NOW, NOW));
    const inbox = await rowsRead((d) => listInbox(d, t, { now: NOW, since: at, limit: 20, offset: 0 }));
    // The last activity: the newest entry of each account's range per direction, not a walk.
    const lastActivity = await rowsRead((d) => searchTenants(d, { q: t, now: NOW }));
    expect(lastActivity).toBeLessThan(60);
    // Two rows in the window; the rest is the accounts' skip, the approvals probe and the tenant's
    // own rows (the balance, the pending approvals): a few dozen at most, far below the 802 rows.
    expect(digest).toBeLessThan(40);
    expect(inbox).toBeLessThan(40);
    expect(await scalar("SELECT COUNT(*) FROM messages WHERE tenant_id = ?", t)).toBe(802);
  });

  it("retention purges each account's old rows in both directions, a disconnected account's too", async () => {
    const t = (await newTenant()).id;
    await saveRetentionDays(db(), t, 7);
    const [a, b] = [await newAccount(t), await newAccount(t)];
    const old = NOW - 8 * DAY;
    await recordMessages(db(), [
      messageRow(t, a.id, { at: old }),
      messageRow(t, a.id, { at: old, direction: "outbound", senderId: "biz", recipientId: "91980000001" }),
      messageRow(t, b.id, { at: old }),
      messageRow(t, a.id, { at: NOW - DAY }),
    ]);
    await disconnect(t, b.id);
    // Every other row of this file is recent at NOW: these three are all that is due.
    const r = await purgeExpiredMetadata(db(), NOW, { limit: 500, chunks: 1 });
    expect(r).toMatchObject({ messages: 3, done: true });
    expect(await scalar("SELECT COUNT(*) FROM messages WHERE tenant_id = ?", t)).toBe(1);
    expect(
      await scalar("SELECT COUNT(*) FROM messages WHERE tenant_id = ? AND created_at = ?", t, NOW - DAY),
    ).toBe(1);
  });
});
