import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type MessageMeta, recordMessages } from "../src/messages.ts";
import { inboundTrafficLastHour, markMessages } from "../src/platform-health.ts";
import {
  countingDb,
  db,
  messageRow,
  newAccount,
  newTenant,
  rowsWrittenByCannedTurn,
  tenantBefore0019,
} from "./fixtures.ts";

// The health page's inbound traffic of the last hour through the marks of migration 0039: the
// rows inserted after the newest mark an hour old, by the primary key, instead of an index entry
// written by every customer message.

const HOUR = 3_600_000;
const NOW = Date.now();

function row(tenantId: string, accountId: string, m: Partial<MessageMeta>): MessageMeta {
  return messageRow(tenantId, accountId, { conversationId: null, at: NOW, ...m });
}

const marks = async (d: D1Database) =>
  (
    await d
      .prepare("SELECT at, max_id AS maxId FROM message_marks ORDER BY at")
      .all<{ at: number; maxId: number }>()
  ).results;

describe("inbound traffic of the last hour", () => {
  it("counts the hour's customer messages by channel, reading only the rows inserted since the newest mark an hour old", async () => {
    const t = (await newTenant()).id;
    const wa = await newAccount(t, "whatsapp");
    const ig = await newAccount(t, "instagram");
    // A long history, all inserted before the cron's mark of two hours ago.
    await recordMessages(
      db(),
      Array.from({ length: 60 }, (_, i) => row(t, wa.id, { at: NOW - 3 * HOUR - i * 60_000 })),
    );
    await markMessages(db(), NOW - 2 * HOUR);
    // Since then: the hour's messages (two channels, one reply that is not counted), one sent
    // just before the hour (recorded late: counted by its own time, so not), and one after `now`.
    await recordMessages(db(), [
      row(t, wa.id, { at: NOW - 90 * 60_000 }),
      row(t, wa.id, { at: NOW - HOUR }),
      row(t, wa.id, { at: NOW - 10 }),
      row(t, ig.id, { channel: "instagram", at: NOW - 5 }),
      row(t, wa.id, { direction: "outbound", action: "canned_reply", at: NOW - 5 }),
      row(t, wa.id, { at: NOW - HOUR - 1 }),
      row(t, wa.id, { at: NOW }),
    ]);
    const c = countingDb();
    expect(await inboundTrafficLastHour(c.db, NOW)).toEqual([
      { channel: "instagram", count: 1 },
      { channel: "whatsapp", count: 2 },
    ]);
    // What it read: the rows after the mark (7) and a few marks, not the history before it (60).
    const [s] = c.recorded;
    const { meta } = await env.DB.prepare(s!.sql)
      .bind(...s!.binds)
      .all();
    expect(meta.rows_read).toBeLessThanOrEqual(7 + 5);
    const plan = await env.DB.prepare(`EXPLAIN QUERY PLAN ${s!.sql}`)
      .bind(...s!.binds)
      .all<{ detail: string }>();
    expect(plan.results.map((r) => r.detail).join("\n")).toMatch(
      /SEARCH messages USING INTEGER PRIMARY KEY \(rowid>\?\)/,
    );
  });

  it("counts a message given the id of a deleted newest row: the marks above it come down", async () => {
    const t = (await newTenant()).id;
    const wa = await newAccount(t, "whatsapp");
    await recordMessages(db(), [
      row(t, wa.id, { at: NOW - 3 * HOUR }),
      row(t, wa.id, { at: NOW - 3 * HOUR }),
    ]);
    await markMessages(db(), NOW - 2 * HOUR);
    const [mark] = (await marks(db())).filter((m) => m.at === NOW - 2 * HOUR + 5_000);
    // The newest rows go (a tenant's deletion, retention) and their ids come back at once.
    await db().prepare("DELETE FROM messages WHERE id > ? - 2").bind(mark!.maxId).run();
    const after = await marks(db());
    expect(after.every((m) => m.maxId <= mark!.maxId - 2)).toBe(true);
    await recordMessages(db(), [row(t, wa.id, { at: NOW - 10 })]);
    const reused = await db().prepare("SELECT MAX(id) AS id FROM messages").first<number>("id");
    expect(reused).toBeLessThanOrEqual(mark!.maxId);
    expect(await inboundTrafficLastHour(db(), NOW)).toEqual([{ channel: "whatsapp", count: 1 }]);
    // A delete of older rows leaves the marks alone (no write).
    const before = await marks(db());
    const { meta } = await db()
      .prepare("DELETE FROM messages WHERE id = (SELECT MIN(id) FROM messages)")
      .run();
    expect(meta.changes).toBe(1);
    expect(await marks(db())).toEqual(before);
  });

  it("keeps the marks of the last three hours and the newest one before them", async () => {
    const d = db();
    await d.prepare("DELETE FROM message_marks").run();
    for (const h of [6, 5, 4, 2, 1]) await markMessages(d, NOW - h * HOUR);
    await markMessages(d, NOW);
    expect((await marks(d)).map((m) => m.at)).toEqual([4, 2, 1, 0].map((h) => NOW - h * HOUR + 5_000));
    // Each marks the highest id of its time, timed after its read.
    const highest = await d.prepare("SELECT MAX(id) AS id FROM messages").first<number>("id");
    expect((await marks(d)).at(-1)).toEqual({ at: NOW + 5_000, maxId: highest ?? 0 });
  });
});

describe("migration 0039", () => {
  it("drops the index every customer message wrote and leaves a first mark; a message and its reply write 11 rows", async () => {
    const mdb = env.MIGRATION_DB;
    await applyD1Migrations(
      mdb,
      env.TEST_MIGRATIONS.filter((m) => m.name < "0039"),
    );
    const { id: tenantId } = await tenantBefore0019(mdb, "Before 0039");
    await recordMessages(mdb, [row(tenantId, "acc_m39", { at: NOW - 10 * 60_000 })]);
    // Up to 0039 only: 0040 takes another index off (message-accounts.test.ts).
    await applyD1Migrations(
      mdb,
      env.TEST_MIGRATIONS.filter((m) => m.name < "0040"),
    );
    const indexes = (
      await mdb
        .prepare(
          "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'messages' ORDER BY name",
        )
        .all<{ name: string }>()
    ).results.map((r) => r.name);
    expect(indexes).not.toContain("messages_inbound_time");
    const highest = await mdb.prepare("SELECT MAX(id) AS id FROM messages").first<number>("id");
    expect(await marks(mdb)).toEqual([{ at: 0, maxId: highest }]);
    // Until the cron marks, the hour counts what came after the migration only.
    expect(await inboundTrafficLastHour(mdb, NOW)).toEqual([]);
    await recordMessages(mdb, [row(tenantId, "acc_m39", { at: NOW - 5 })]);
    expect(await inboundTrafficLastHour(mdb, NOW)).toEqual([{ channel: "whatsapp", count: 1 }]);

    // A customer's message and its canned reply: each row with its unique key, its two time
    // indexes and its day count, and the reply's one insight count (12 before).
    expect(await rowsWrittenByCannedTurn(mdb, tenantId, "acc_m39", { conversationId: null, at: NOW })).toBe(
      11,
    );
  });
});
