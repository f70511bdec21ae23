// Issue 18 item 3, through the cron's scheduled handler: message metadata older than each
// tenant's own retention (tenants.retention_days) goes, in bounded chunks per run
// (RETENTION_CHUNK_ROWS is 200 in tests, 20 chunks a run), and the next run goes on.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { conversationKey } from "@concierge/core";
import { createChannelAccount, saveReplyConfig, saveRetentionDays } from "@concierge/storage";
import { sentTo, uniqueCustomer } from "@concierge/testing/sandbox-client";
import { describe, expect, it } from "vitest";
import { ConversationStore } from "../src/conversation/store.ts";
import {
  alarmWatchingD1,
  countRows,
  inboundText,
  ingestApi,
  objectRowCount,
  quarterHourCron,
  setTurnField,
  tenantApi,
  bufferedRows,
} from "./helpers.ts";

const DAY = 86_400_000;

const count = countRows;

async function tenantWithAccount(name: string) {
  const r = await tenantApi.createTenant({ name });
  if (!r.ok) throw new Error(r.error.message);
  const externalId = `94${String(Date.now() % 1e9).padStart(9, "0")}${Math.floor(Math.random() * 90 + 10)}`;
  const account = await createChannelAccount(env.DB, {
    tenantId: r.tenantId,
    channel: "whatsapp",
    externalId,
  });
  return { tid: r.tenantId, accountId: account.id };
}

/** `n` message rows of the tenant, all `ageDays` old at `now` (a recursive CTE: fast). */
function seedMessages(t: { tid: string; accountId: string }, n: number, ageDays: number, now: number) {
  return env.DB.prepare(
    `WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < ?1 - 1)
     INSERT INTO messages (tenant_id, account_id, channel, direction, provider_message_id, sender_id, recipient_id, created_at)
     SELECT ?2, ?3, 'whatsapp', 'inbound', 'r' || ?4 || '_' || i, 'c' || (i % 40), 'biz', ?5 - i FROM s`,
  )
    .bind(n, t.tid, t.accountId, ageDays, now - ageDays * DAY)
    .run();
}

function seedApproval(
  t: { tid: string; accountId: string },
  id: string,
  status: string,
  at: number,
  expiresAt = at + DAY,
) {
  return env.DB.prepare(
    `INSERT INTO approvals (id, tenant_id, account_id, thread_key, credit_ref, reasons, status, created_at, expires_at)
     VALUES (?, ?, ?, 'k', 'ref', '[]', ?, ?, ?)`,
  )
    .bind(id, t.tid, t.accountId, status, at, expiresAt)
    .run();
}

const messages = (tid: string, olderThan: number) =>
  count("SELECT COUNT(*) AS n FROM messages WHERE tenant_id = ? AND created_at < ?", tid, olderThan);

describe("retention", () => {
  it("the cron purges only rows older than each tenant's own retention, at most 20 chunks a run", async () => {
    const now = Date.now();
    const short = await tenantWithAccount("Short retention");
    const long = await tenantWithAccount("Default retention");
    expect(await saveRetentionDays(env.DB, short.tid, 7)).toBe("saved");
    // Short (7 days): 3,000 rows 10 days old go, 100 rows 3 days old stay.
    await seedMessages(short, 3000, 10, now);
    await seedMessages(short, 100, 3, now);
    // Default (90 days): 2,000 rows 100 days old go, 500 rows 10 days old stay.
    await seedMessages(long, 2000, 100, now);
    await seedMessages(long, 500, 10, now);
    // Decided approvals past retention go; a pending one stays however old.
    await seedApproval(short, `apr_old_${short.tid}`, "expired", now - 30 * DAY);
    // (its expiry is still ahead, so the expiry job leaves it pending too).
    await seedApproval(short, `apr_pending_${short.tid}`, "pending", now - 30 * DAY, now + 2 * DAY);
    await seedApproval(short, `apr_new_${short.tid}`, "sent", now - DAY);

    // One run: 20 chunks of 200, so 4,000 of the 5,000 rows due, never more.
    await quarterHourCron(now);
    const left = (await messages(short.tid, now - 7 * DAY)) + (await messages(long.tid, now - 90 * DAY));
    expect(left).toBe(1000);
    // Nothing younger than its tenant's retention went.
    expect((await messages(short.tid, now + 1)) - (await messages(short.tid, now - 7 * DAY))).toBe(100);
    expect((await messages(long.tid, now + 1)) - (await messages(long.tid, now - 90 * DAY))).toBe(500);

    // The next run resumes and finishes.
    await quarterHourCron(now + 15 * 60_000);
    expect(await messages(short.tid, now - 7 * DAY)).toBe(0);
    expect(await messages(long.tid, now - 90 * DAY)).toBe(0);
    expect(await count("SELECT COUNT(*) AS n FROM messages WHERE tenant_id = ?", short.tid)).toBe(100);
    expect(await count("SELECT COUNT(*) AS n FROM messages WHERE tenant_id = ?", long.tid)).toBe(500);
    const approvals = await env.DB.prepare("SELECT id FROM approvals WHERE tenant_id = ? ORDER BY id")
      .bind(short.tid)
      .all<{ id: string }>();
    expect(approvals.results.map((a) => a.id)).toEqual([`apr_new_${short.tid}`, `apr_pending_${short.tid}`]);

    // A run with nothing due changes nothing.
    await quarterHourCron(now + 30 * 60_000);
    expect(await count("SELECT COUNT(*) AS n FROM messages WHERE tenant_id = ?", long.tid)).toBe(500);
  }, 60_000);

  it("the database refuses a retention outside 7 to 730 days", async () => {
    const t = await tenantWithAccount("Range");
    await expect(saveRetentionDays(env.DB, t.tid, 6)).rejects.toThrow(/CHECK/);
    await expect(saveRetentionDays(env.DB, t.tid, 731)).rejects.toThrow(/CHECK/);
    expect(await count("SELECT retention_days AS n FROM tenants WHERE id = ?", t.tid)).toBe(90);
  });
});

/**
 * A tenant keeping metadata 7 days, whose one WhatsApp number answers "Thanks!" after
 * `waitSeconds`, and a customer who just wrote "hello" to it.
 */
async function customerWroteHello(name: string, waitSeconds: number) {
  const t = await tenantWithAccount(name);
  expect(await saveRetentionDays(env.DB, t.tid, 7)).toBe("saved");
  const externalId = (await env.DB.prepare("SELECT external_id AS e FROM channel_accounts WHERE id = ?")
    .bind(t.accountId)
    .first<{ e: string }>())!.e;
  await saveReplyConfig(env.DB, t.tid, t.accountId, {
    wait_seconds: waitSeconds,
    rules: [],
    default_rule: { response: { kind: "canned", text: "Thanks!" } },
  });
  const customer = uniqueCustomer();
  await ingestApi.ingest([inboundText(externalId, customer, "hello")]);
  const stub = env.CONVERSATIONS.get(
    env.CONVERSATIONS.idFromName(conversationKey(t.tid, t.accountId, customer)),
  );
  return { externalId, customer, stub };
}

describe("an idle conversation object after the tenant's retention", () => {
  it("keeps its thread until the retention has passed since its last activity, then forgets it", async () => {
    const { externalId, customer, stub } = await customerWroteHello("Forgetful objects", 0);
    // Answered at once (a 0 s buffer); the turn's own alarm is done before the clock is moved.
    for (let i = 0; i < 20 && (await sentTo(env.SANDBOX_URL, customer)).length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(1);
    await runDurableObjectAlarm(stub);
    const rowsLeft = () => objectRowCount(stub);
    const lastActivity = (at: number) =>
      runInDurableObject(stub, (_o, state) => {
        setTurnField(state, "last_activity_at", at);
      });
    // Idle for two days: past the idle gap, not the retention; the object waits for the retention.
    await lastActivity(Date.now() - 2 * DAY);
    await runDurableObjectAlarm(stub);
    expect(await rowsLeft()).toBeGreaterThan(0);
    const armed = await runInDurableObject(stub, (_o, state) => state.storage.getAlarm());
    expect(armed).toBeGreaterThan(Date.now() + 4 * DAY);
    expect(armed).toBeLessThanOrEqual(Date.now() - 2 * DAY + 7 * DAY);
    // Idle for eight days, but a draft still awaits a person's decision: kept, looked at a day later.
    await lastActivity(Date.now() - 8 * DAY);
    await runInDurableObject(stub, (_o, state) => {
      new ConversationStore(state.storage).putDraft("apr_waiting", "v1.x", "wamid.x", Date.now());
    });
    await runDurableObjectAlarm(stub);
    expect(await rowsLeft()).toBeGreaterThan(0);
    expect(await runInDurableObject(stub, (_o, state) => state.storage.getAlarm())).toBeGreaterThan(
      Date.now() + DAY / 2,
    );
    // The draft decided: past the seven days kept, so nothing of the thread stays.
    const turnSeq = () =>
      runInDurableObject(stub, (_o, state) =>
        Number(
          state.storage.sql
            .exec<{ seq: number }>("SELECT json_extract(v, '$.turn_seq') AS seq FROM state WHERE k = 'turn'")
            .one().seq,
        ),
      );
    const oldSeq = await turnSeq();
    await runInDurableObject(stub, (_o, state) => {
      state.storage.sql.exec("DELETE FROM drafts");
    });
    await runDurableObjectAlarm(stub);
    expect(await rowsLeft()).toBe(0);
    // The same object, still running, takes the customer's next message as a new thread (it is
    // not a deleted tenant's) and answers it, under a turn id no earlier turn had: the credit
    // ledger keeps references like `ai:<thread>:turn:<seq>:<attempt>` for good.
    expect(await ingestApi.ingest([inboundText(externalId, customer, "hello again")])).toMatchObject({
      ok: true,
      results: [{ status: "accepted" }],
    });
    for (let i = 0; i < 40 && (await sentTo(env.SANDBOX_URL, customer)).length < 2; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(2);
    expect(await turnSeq()).toBeGreaterThan(oldSeq);
  });

  it.each([2, 3])(
    "never forgets a message accepted while its idle alarm awaited the database (read %i)",
    async (injectAt) => {
      const { customer, stub } = await customerWroteHello("Busy while forgetting", 30);
      expect(await runDurableObjectAlarm(stub)).toBe(true);
      expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(1);
      const result = await runInDurableObject(stub, async (instance, state) => {
        // Idle for eight days: this alarm forgets the thread, unless a message came in meanwhile.
        setTurnField(state, "last_activity_at", Date.now() - 8 * DAY);
        let reads = 0;
        // The customer writes while the alarm awaits a read of the tenant's settings (D1; each read
        // is fresh in tests): the first is the alarm's own check that the tenant exists.
        const accepted: Promise<unknown>[] = [];
        await alarmWatchingD1(instance, () => {
          reads += 1;
          if (reads !== injectAt) return;
          accepted.push(
            (instance as unknown as { accept(i: unknown): Promise<unknown> }).accept({
              thread: JSON.parse(
                state.storage.sql
                  .exec<{ t: string }>("SELECT json_extract(v, '$.thread') AS t FROM state WHERE k = 'turn'")
                  .one().t,
              ),
              providerMessageId: "wamid.while-forgetting",
              sealed: "v1.not-opened-here",
              sentAt: Date.now(),
              kind: "text",
              hasAttachment: false,
              waitSeconds: 30,
            }),
          );
        });
        return {
          accepted: await Promise.all(accepted),
          pending: bufferedRows(state).length,
          thread: state.storage.sql
            .exec("SELECT 1 FROM state WHERE k = 'turn' AND json_extract(v, '$.thread') IS NOT NULL")
            .toArray().length,
          alarm: await state.storage.getAlarm(),
          reads,
        };
      });
      // The read the message came during: the alarm's look at the conversation's timing (2) or at
      // the tenant's retention (3).
      expect(result.reads).toBe(injectAt);
      expect(result.accepted).toEqual([{ status: "accepted" }]);
      // The message stays, with its thread and the alarm its accept armed (within the 30 s buffer).
      expect(result.pending).toBe(1);
      expect(result.thread).toBe(1);
      expect(result.alarm).not.toBeNull();
      expect(result.alarm!).toBeLessThanOrEqual(Date.now() + 30_000);
    },
  );
});
