import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DAY_MS, tenantInsights } from "../src/insights.ts";
import { type MessageMeta, recordDeliveryStatus, recordMessages } from "../src/messages.ts";
import { messageRow, rowsWrittenByCannedTurn, tenantBefore0019, undeliverable } from "./fixtures.ts";

const NOW = Date.now();

function msg(tenantId: string, m: Partial<MessageMeta>): MessageMeta {
  return messageRow(tenantId, "acc_m38", { at: NOW, ...m });
}

const all = async (db: D1Database, sql: string) => (await db.prepare(sql).all()).results;

describe("migration 0038", () => {
  it("rebuilds messages without AUTOINCREMENT and merges a reply's insight counts, losing no row, id or count", async () => {
    const mdb = env.MIGRATION_DB;
    await applyD1Migrations(
      mdb,
      env.TEST_MIGRATIONS.filter((m) => m.name < "0038"),
    );
    const t = await tenantBefore0019(mdb, "Before 0038");
    await mdb.prepare("UPDATE tenants SET utc_offset_minutes = 0 WHERE id = ?").bind(t.id).run();
    // Messages as production holds them before 0038, written by the real function (the triggers
    // of 0037 count each reply twice: its rule, its wait).
    const failing = msg(t.id, {
      direction: "outbound",
      action: "canned_reply",
      ruleId: "hours",
      replyWaitMs: 3_000,
    });
    await recordMessages(mdb, [
      msg(t.id, {}),
      msg(t.id, { direction: "outbound", action: "canned_reply", ruleId: "hours", replyWaitMs: 4_000 }),
      msg(t.id, { direction: "outbound", action: "ai_reply", ruleId: "default", replyWaitMs: 90_000 }),
      msg(t.id, { direction: "outbound", action: "human_reply", replyWaitMs: 2 * 3_600_000 }),
      msg(t.id, { at: NOW - 2 * DAY_MS, action: "given_up" }),
      failing,
    ]);
    const messagesBefore = await all(mdb, "SELECT * FROM messages ORDER BY id");
    const insightBefore = await all(mdb, "SELECT * FROM insight_days ORDER BY metric, key");
    const daysBefore = await all(mdb, "SELECT * FROM message_days ORDER BY day, direction, action");
    expect(insightBefore.map((r) => r.metric)).toEqual([
      "reply_wait",
      "reply_wait",
      "reply_wait",
      "rule",
      "rule",
    ]);
    const figuresBefore = await tenantInsights(mdb, t.id, NOW);
    expect(await mdb.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'messages'").first("seq")).toBe(
      messagesBefore.length,
    );

    await applyD1Migrations(
      mdb,
      env.TEST_MIGRATIONS.filter((m) => m.name < "0039"),
    );

    // Every row with its id, every count as it was; no sequence kept any more.
    expect(await all(mdb, "SELECT * FROM messages ORDER BY id")).toEqual(messagesBefore);
    expect(await all(mdb, "SELECT * FROM insight_days ORDER BY metric, key")).toEqual(insightBefore);
    expect(await all(mdb, "SELECT * FROM message_days ORDER BY day, direction, action")).toEqual(daysBefore);
    expect(await tenantInsights(mdb, t.id, NOW)).toEqual(figuresBefore);
    expect(
      await mdb.prepare("SELECT COUNT(*) AS n FROM sqlite_sequence WHERE name = 'messages'").first("n"),
    ).toBe(0);
    const schema = await mdb
      .prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'messages'")
      .first<string>("sql");
    expect(schema).not.toMatch(/AUTOINCREMENT/i);
    // The indexes and triggers the old table had, under the same names.
    expect(
      (
        await all(
          mdb,
          "SELECT type, name FROM sqlite_master WHERE tbl_name = 'messages' AND name NOT LIKE 'sqlite_%' ORDER BY type, name",
        )
      ).map((r) => `${r.type} ${r.name}`),
    ).toEqual([
      "index messages_account_time",
      "index messages_given_up",
      "index messages_inbound_time",
      "index messages_send_failed",
      "index messages_tenant_time",
      "table messages",
      "trigger insight_days_insert",
      "trigger message_days_delivery_failed",
      "trigger message_days_insert",
    ]);

    // A reply counted before 0038, reported undeliverable after it: its two old rows lose it.
    expect(
      await recordDeliveryStatus(mdb, undeliverable(t.id, "acc_m38", failing.providerMessageId, NOW)),
    ).toBe("updated");
    const afterFailure = await tenantInsights(mdb, t.id, NOW);
    expect(afterFailure.rules.find((r) => r.ruleId === "hours")?.replies).toBe(
      figuresBefore.rules.find((r) => r.ruleId === "hours")!.replies - 1,
    );
    expect(afterFailure.replyWait.buckets.lt1m).toBe(figuresBefore.replyWait.buckets.lt1m - 1);

    // A customer's message and its canned reply now write 12 rows, not 15: each row with its
    // unique key and its indexes (the inbound one also messages_inbound_time) and its day count,
    // the reply's one insight count; no sqlite_sequence.
    expect(await rowsWrittenByCannedTurn(mdb, t.id, "acc_m38", { at: NOW })).toBe(12);
    // Numbered after the newest row, as before.
    const ids = await all(mdb, "SELECT id FROM messages ORDER BY id DESC LIMIT 2");
    expect(ids.map((r) => r.id)).toEqual([messagesBefore.length + 2, messagesBefore.length + 1]);
    expect(await all(mdb, "SELECT key, n FROM insight_days WHERE metric = 'reply'")).toEqual([
      { key: "hours canned_reply lt1m", n: 1 },
    ]);
  });
});
