// Issue 18 item 2, through the real entry points (the TenantEntrypoint RPC, the cron's scheduled
// handler): a tenant with many messages is deleted key first (its data unreadable at once), then
// in bounded chunks (DELETION_CHUNK_ROWS is 500 in tests) over the first pass and the cron's runs,
// resuming after a chunk that failed, and a rerun changes nothing.
import { env } from "cloudflare:workers";
import { conversationKey } from "@concierge/core";
import { createChannelAccount, grantCredits, tenantDeletionProgress } from "@concierge/storage";
import { describe, expect, it } from "vitest";
import { countRows, inboundText, ingestApi, objectRowCount, quarterHourCron, tenantApi } from "./helpers.ts";

const MIN = 60_000;

const count = countRows;

const messagesOf = (tid: string) => count("SELECT COUNT(*) AS n FROM messages WHERE tenant_id = ?", tid);
const keysOf = (tid: string) => count("SELECT COUNT(*) AS n FROM tenant_keys WHERE tenant_id = ?", tid);

/**
 * A tenant with one WhatsApp number, a real conversation (its object holds the sealed message),
 * `rows` message rows over `customers` customers (a recursive CTE: fast), an approval per tenth
 * customer and 1,200 ledger rows (more than two chunks).
 */
async function bigTenant(rows: number, customers: number) {
  const created = await tenantApi.createTenant({ name: "Big deletion" });
  if (!created.ok) throw new Error(created.error.message);
  const tid = created.tenantId;
  const externalId = `93${String(Date.now() % 1e9).padStart(9, "0")}${Math.floor(Math.random() * 90 + 10)}`;
  const account = await createChannelAccount(env.DB, { tenantId: tid, channel: "whatsapp", externalId });
  await ingestApi.ingest([inboundText(externalId, "c0", "hello, this is sealed")]);
  const base = Date.now() - 24 * 60 * MIN;
  await env.DB.prepare(
    `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?1 - 1)
     INSERT INTO messages (tenant_id, account_id, channel, direction, provider_message_id, sender_id, recipient_id, created_at)
     SELECT ?2, ?3, 'whatsapp', 'inbound', 'seed_' || i, 'c' || (i % ?4), ?5, ?6 + i FROM n`,
  )
    .bind(rows, tid, account.id, customers, externalId, base)
    .run();
  await env.DB.batch(
    Array.from({ length: customers / 10 }, (_, k) =>
      env.DB.prepare(
        `INSERT INTO approvals (id, tenant_id, account_id, thread_key, credit_ref, reasons, status, created_at, expires_at)
         VALUES (?, ?, ?, ?, 'ref', '[]', 'expired', ?, ?)`,
      ).bind(`apr_${tid}_${k}`, tid, account.id, conversationKey(tid, account.id, `c${k * 10}`), base, base),
    ),
  );
  await grantCredits(env.DB, { tenantId: tid, amount: 5000, source: "purchase", reference: `pay_${tid}` });
  await env.DB.prepare(
    `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 1199)
     INSERT INTO credit_ledger (tenant_id, lot_id, delta, reason, reference, created_at)
     SELECT ?1, (SELECT id FROM credit_lots WHERE tenant_id = ?1 ORDER BY granted DESC LIMIT 1), -1, 'ai_reply', 'turn_' || i, ?2 FROM n`,
  )
    .bind(tid, base)
    .run();
  const object = env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(conversationKey(tid, account.id, "c0")));
  const objectRows = () => objectRowCount(object);
  return { tid, account, objectRows };
}

describe("deleting a tenant with many messages", () => {
  it("destroys the key first, then deletes in chunks across the first pass and the cron, resuming after a failed chunk", async () => {
    const { tid, objectRows } = await bigTenant(20_000, 300);
    expect(await objectRows()).toBeGreaterThan(0);
    const before = await messagesOf(tid);
    expect(before).toBeGreaterThanOrEqual(20_000);

    // The first pass: a bounded number of chunks, then it says it is not complete.
    const first = await tenantApi.deleteTenant(tid);
    expect(first).toMatchObject({ ok: true, deleted: { complete: false } });
    // Unreadable at once: the key is gone while most rows remain.
    expect(await keysOf(tid)).toBe(0);
    const afterFirst = await messagesOf(tid);
    expect(afterFirst).toBeGreaterThan(0);
    expect(afterFirst).toBeLessThan(before - 2 * 500); // several chunks went
    // What the operator reads: in progress, keys destroyed, rows left.
    const progress = await tenantDeletionProgress(env.DB, tid);
    expect(progress).toMatchObject({ keysDestroyed: true, messages: afterFirst, capped: false });
    expect(
      await count("SELECT COUNT(*) AS n FROM tenants WHERE id = ? AND deleting_at IS NOT NULL", tid),
    ).toBe(1);

    // A chunk fails in D1 (a trigger refuses one of its rows): the run fails and names it, the
    // chunk's rows all stay (one batch), and the tenant stays marked.
    await env.DB.prepare(
      `CREATE TRIGGER fail_one_chunk BEFORE DELETE ON messages WHEN OLD.provider_message_id = 'seed_15000'
       BEGIN SELECT RAISE(ABORT, 'injected'); END`,
    ).run();
    await expect(quarterHourCron(Date.now() + 20 * MIN)).rejects.toThrow("resume_deletions");
    expect(await count("SELECT COUNT(*) AS n FROM messages WHERE provider_message_id = 'seed_15000'")).toBe(
      1,
    );
    const stuck = await messagesOf(tid);
    expect(stuck).toBeGreaterThan(0);
    expect(stuck).toBeLessThan(afterFirst); // the chunks before the failing one went
    expect(await count("SELECT COUNT(*) AS n FROM tenants WHERE id = ?", tid)).toBe(1);

    // Fixed: the next run resumes from the rows that remain and finishes.
    await env.DB.prepare("DROP TRIGGER fail_one_chunk").run();
    await quarterHourCron(Date.now() + 40 * MIN);
    expect(await messagesOf(tid)).toBe(0);
    for (const table of ["approvals", "credit_ledger", "credit_lots", "channel_accounts", "tenant_keys"]) {
      expect(await count(`SELECT COUNT(*) AS n FROM ${table} WHERE tenant_id = ?`, tid), table).toBe(0);
    }
    expect(await count("SELECT COUNT(*) AS n FROM tenants WHERE id = ?", tid)).toBe(0);
    // The real conversation's object was purged with the chunk that named it.
    expect(await objectRows()).toBe(0);

    // Idempotent: deleting again finds nothing, and the next run has nothing to do.
    expect(await tenantApi.deleteTenant(tid)).toMatchObject({ ok: false, error: { code: "not_found" } });
    await quarterHourCron(Date.now() + 60 * MIN);
    expect(await messagesOf(tid)).toBe(0);
  }, 120_000);

  it("purges at most DELETION_PURGES_PER_RUN (400 in tests) conversation objects a run, however many customers", async () => {
    // 1,800 rows over 900 customers: each names an object of its own.
    const { tid } = await bigTenant(1_800, 900);
    const first = await tenantApi.deleteTenant(tid);
    expect(first).toMatchObject({ ok: true, deleted: { complete: false } });
    if (!first.ok) throw new Error("unreachable");
    expect(first.deleted.conversations).toBeGreaterThan(0);
    expect(first.deleted.conversations).toBeLessThanOrEqual(400);
    expect(await keysOf(tid)).toBe(0);
    // The cron's runs go on, each within the same bound, and finish.
    // 900 objects at 400 a run: the first pass and at least two more runs.
    let runs = 0;
    while ((await messagesOf(tid)) > 0 && runs < 8) {
      runs += 1;
      await quarterHourCron(Date.now() + runs * 20 * MIN);
    }
    expect(runs).toBeGreaterThanOrEqual(2);
    expect(await messagesOf(tid)).toBe(0);
    expect(await count("SELECT COUNT(*) AS n FROM tenants WHERE id = ?", tid)).toBe(0);
  }, 120_000);

  it("the key is gone even when no row can be deleted yet", async () => {
    const { tid } = await bigTenant(2_000, 50);
    await env.DB.prepare(
      `CREATE TRIGGER fail_every_chunk BEFORE DELETE ON messages WHEN OLD.tenant_id = '${tid}'
       BEGIN SELECT RAISE(ABORT, 'injected'); END`,
    ).run();
    const before = await messagesOf(tid);
    expect(await tenantApi.deleteTenant(tid)).toMatchObject({
      ok: false,
      error: { code: "delete_incomplete" },
    });
    expect(await keysOf(tid)).toBe(0);
    expect(await messagesOf(tid)).toBe(before);
    expect(await tenantDeletionProgress(env.DB, tid)).toMatchObject({
      keysDestroyed: true,
      messages: before,
    });
    await env.DB.prepare("DROP TRIGGER fail_every_chunk").run();
    // Deleting again resumes and finishes (a small tenant fits the first pass).
    expect(await tenantApi.deleteTenant(tid)).toMatchObject({ ok: true, deleted: { complete: true } });
    expect(await messagesOf(tid)).toBe(0);
  }, 60_000);
});
