import { describe, expect, it } from "vitest";
import { debitCredit, grantCredits, restoreCredit } from "../src/credits.ts";
import {
  type AccountActivity,
  accountHealth,
  aiReplyState,
  DAY_MS,
  HEALTH_WINDOW_MS,
  listAccountActivity,
  tenantInsights,
} from "../src/insights.ts";
import { type MessageMeta, recordDeliveryStatus, recordMessages } from "../src/messages.ts";
import { setTenantTimeZone } from "../src/onboarding.ts";
import { createTenant, saveTenantOffsets } from "../src/tenants.ts";
import {
  db,
  MASTER_KEY,
  messageRow,
  newAccount,
  newTenant,
  rows,
  scalar,
  undeliverable,
} from "./fixtures.ts";

/** The tenant counts UTC days (offset 0), so the edges below are exact. */
const onUtc = (tenantId: string) =>
  db().prepare("UPDATE tenants SET utc_offset_minutes = 0 WHERE id = ?").bind(tenantId).run();

// Noon UTC on a fixed day, so "today" and the window's edges are exact.
const TODAY = 20_000 * DAY_MS;
const NOW = TODAY + DAY_MS / 2;

function msg(tenantId: string, accountId: string, m: Partial<MessageMeta>): MessageMeta {
  return messageRow(tenantId, accountId, {
    conversationId: null,
    senderId: "c1",
    recipientId: "biz",
    at: NOW,
    ...m,
  });
}

/** The two rows the triggers before migration 0038 wrote for `n` replies of rule "hours" within a minute. */
const countedBefore0038Statement = (tenantId: string, day: number, n: number) =>
  db()
    .prepare(
      `INSERT INTO insight_days (tenant_id, day, metric, key, n) VALUES
         (?1, ?2, 'rule', 'hours canned_reply', ?3), (?1, ?2, 'reply_wait', 'lt1m', ?3)`,
    )
    .bind(tenantId, day, n);
const countedBefore0038 = (tenantId: string, day: number, n: number) =>
  countedBefore0038Statement(tenantId, day, n).run();

describe("tenant insights", () => {
  it("counts the tenant's own messages per day and channel, replies by kind, within the 30-day window", async () => {
    const t = (await newTenant()).id;
    // A tenant on UTC: its local days are the UTC days the edges below are written in.
    await onUtc(t);
    const wa = await newAccount(t, "whatsapp");
    const ig = await newAccount(t, "instagram");
    const other = await newTenant();
    const otherAcc = await newAccount(other.id);
    await recordMessages(db(), [
      msg(t, wa.id, {}),
      msg(t, wa.id, { at: TODAY }), // first millisecond of today
      msg(t, ig.id, { channel: "instagram", at: TODAY - 1 }), // last millisecond of yesterday
      msg(t, wa.id, { at: TODAY - 29 * DAY_MS }), // first day of the window
      msg(t, wa.id, { at: TODAY - 30 * DAY_MS }), // just outside
      msg(t, wa.id, { direction: "outbound", action: "canned_reply" }),
      msg(t, wa.id, { direction: "outbound", action: "ai_reply" }),
      msg(t, wa.id, { direction: "outbound", action: "holding_reply" }),
      msg(t, wa.id, { direction: "outbound", action: "handoff" }),
      msg(t, wa.id, { direction: "outbound", action: "ai_handoff" }),
      msg(t, wa.id, { direction: "outbound", action: "human_reply" }),
      msg(t, wa.id, { direction: "outbound", action: "send_failed" }), // a failure, not a reply
      msg(other.id, otherAcc.id, {}),
    ]);
    const i = await tenantInsights(db(), t, NOW);
    expect(i.days).toHaveLength(30);
    expect(i.from).toBe(TODAY - 29 * DAY_MS);
    expect(i.to).toBe(TODAY + DAY_MS);
    const today = i.days[29]!;
    const yesterday = i.days[28]!;
    expect(today.date).toBe(new Date(TODAY).toISOString().slice(0, 10));
    expect(today.received).toEqual({ whatsapp: 2, instagram: 0, email: 0 });
    expect(yesterday.received).toEqual({ whatsapp: 0, instagram: 1, email: 0 });
    expect(i.days[0]!.received.whatsapp).toBe(1);
    expect([today.canned, today.ai, today.handoffs, today.human, today.failed]).toEqual([1, 2, 2, 1, 1]);
    expect(i.totals).toMatchObject({ receivedAll: 4, canned: 1, ai: 2, handoffs: 2, human: 1, failed: 1 });
    expect(i.handoffReasons).toEqual({ rule: 1, ai: 1 });
  });

  it("a reply the provider reports undeliverable moves from its kind to the failures, once", async () => {
    const t = (await newTenant()).id;
    await onUtc(t);
    const wa = await newAccount(t, "whatsapp");
    const ai = msg(t, wa.id, { direction: "outbound", action: "ai_reply" });
    await recordMessages(db(), [ai, msg(t, wa.id, { direction: "outbound", action: "ai_reply" })]);
    const fail = () => recordDeliveryStatus(db(), undeliverable(t, wa.id, ai.providerMessageId, NOW + 1));
    expect(await fail()).toBe("updated");
    expect(await fail()).toBe("unchanged"); // redelivered: counted once
    const { totals } = await tenantInsights(db(), t, NOW);
    expect([totals.ai, totals.failed]).toEqual([1, 1]);
  });

  it("reports the rules that answered most, the default reply's share, and how long customers waited", async () => {
    const t = (await newTenant()).id;
    await onUtc(t);
    const wa = await newAccount(t, "whatsapp");
    const out = (m: Partial<MessageMeta>) => msg(t, wa.id, { direction: "outbound", ...m });
    await recordMessages(db(), [
      out({ action: "canned_reply", ruleId: "hours", replyWaitMs: 4_000 }),
      out({ action: "canned_reply", ruleId: "hours", replyWaitMs: 59_999 }),
      out({ action: "ai_reply", ruleId: "hours", replyWaitMs: 60_000 }),
      out({ action: "handoff", ruleId: "person", replyWaitMs: 20 * 60_000 }),
      out({ action: "canned_reply", ruleId: "default", replyWaitMs: 2 * DAY_MS }),
      out({ action: "send_failed", ruleId: "hours" }), // did not reach the customer: not an answer
      out({ action: "human_reply", replyWaitMs: 3 * 3_600_000 }),
      out({ action: "canned_reply", ruleId: "hours", at: TODAY - 30 * DAY_MS }), // outside the window
    ]);
    const i = await tenantInsights(db(), t, NOW);
    expect(i.rules).toEqual([
      { ruleId: "hours", replies: 3, handoffs: 0 },
      { ruleId: "default", replies: 1, handoffs: 0 },
      { ruleId: "person", replies: 1, handoffs: 1 },
    ]);
    expect([i.ruleReplies, i.defaultReplies]).toEqual([5, 1]);
    expect(i.replyWait.buckets).toEqual({ lt1m: 2, lt5m: 1, lt15m: 0, lt1h: 1, lt4h: 1, lt24h: 0, ge24h: 1 });
    expect(i.replyWait.total).toBe(6);
    // Sorted, the 3rd of six waits is 1 minute: half the replies came within 5 minutes.
    expect(i.replyWait.median).toBe("lt5m");
    // Meta reports one of the rule's canned replies undeliverable: not an answer, not a wait ended.
    const undelivered = out({ action: "canned_reply", ruleId: "hours", replyWaitMs: 5_000 });
    // A reply an hour before UTC midnight: yesterday in UTC, today in Kolkata (+5:30).
    const late = out({ action: "canned_reply", ruleId: "late", at: TODAY - 3_600_000 });
    await recordMessages(db(), [undelivered, late]);
    expect(
      await recordDeliveryStatus(db(), undeliverable(t, wa.id, undelivered.providerMessageId, NOW)),
    ).toBe("updated");
    const after = await tenantInsights(db(), t, NOW);
    expect(after.rules.find((r) => r.ruleId === "hours")).toEqual({
      ruleId: "hours",
      replies: 3,
      handoffs: 0,
    });
    expect(after.replyWait).toEqual(i.replyWait);
    expect(after.totals.failed).toBe(i.totals.failed + 1);
    const lateDay = () =>
      scalar(
        "SELECT day FROM insight_days WHERE tenant_id = ? AND metric = 'reply' AND key = 'late canned_reply '",
        t,
      );
    expect(await lateDay()).toBe(TODAY / DAY_MS - 1);
    // Counted again in the tenant's zone (not known before): the late reply moves to its local
    // day, and every figure, the failure included, is as the triggers kept it.
    await saveTenantOffsets(db(), [{ id: t, timeZone: "Asia/Kolkata", offset: 330, recount: true }]);
    expect(await lateDay()).toBe(TODAY / DAY_MS);
    const again = await tenantInsights(db(), t, NOW);
    expect([again.rules, again.replyWait, again.totals]).toEqual([
      after.rules,
      after.replyWait,
      after.totals,
    ]);
  });

  it("keeps one count per reply, its rule and its wait in one row, and still reads the two rows counted before (migration 0038)", async () => {
    const t = (await newTenant()).id;
    await onUtc(t);
    const wa = await newAccount(t, "whatsapp");
    const out = (m: Partial<MessageMeta>) => msg(t, wa.id, { direction: "outbound", ...m });
    const today = TODAY / DAY_MS;
    // Counted before 0038 (as its triggers wrote them): a rule's reply and its wait, two rows.
    await countedBefore0038(t, today, 2);
    const failsToday = out({ action: "canned_reply", ruleId: "hours", replyWaitMs: 5_000 });
    await recordMessages(db(), [
      out({ action: "canned_reply", ruleId: "hours", replyWaitMs: 4_000 }),
      out({ action: "human_reply", replyWaitMs: 20 * 60_000 }), // a person's: a wait, no rule
      out({ action: "canned_reply", ruleId: "default" }), // no wait known
      // An email routing rule's id is free text: the key is read from the right.
      out({ action: "canned_reply", ruleId: "sales desk", replyWaitMs: 90_000 }),
    ]);
    // One row per distinct reply, never a second count for the same reply.
    const merged = () =>
      rows("SELECT day, key, n FROM insight_days WHERE tenant_id = ? AND metric = 'reply' ORDER BY key", t);
    expect(await merged()).toEqual([
      { day: today, key: "  lt1h", n: 1 },
      { day: today, key: "default canned_reply ", n: 1 },
      { day: today, key: "hours canned_reply lt1m", n: 1 },
      { day: today, key: "sales desk canned_reply lt5m", n: 1 },
    ]);
    const i = await tenantInsights(db(), t, NOW);
    expect(i.rules).toEqual([
      { ruleId: "hours", replies: 3, handoffs: 0 },
      { ruleId: "default", replies: 1, handoffs: 0 },
      { ruleId: "sales desk", replies: 1, handoffs: 0 },
    ]);
    expect(i.replyWait.buckets).toMatchObject({ lt1m: 3, lt5m: 1, lt1h: 1 });
    expect(i.replyWait.total).toBe(5);
    // The recount (a time zone newly known) writes the very keys the trigger does, from the
    // messages alone (every count of the tenant is dropped first).
    const counted = await merged();
    await db().prepare("DELETE FROM insight_days WHERE tenant_id = ?").bind(t).run();
    await saveTenantOffsets(db(), [{ id: t, timeZone: "Asia/Kolkata", offset: 0, recount: true }]);
    expect(await merged()).toEqual(counted);
    await countedBefore0038(t, today, 2);

    // A reply counted before 0038 reported undeliverable (yesterday: no merged row holds it), so
    // its two old rows lose it.
    const yesterday = out({ action: "canned_reply", ruleId: "hours", replyWaitMs: 5_000, at: NOW - DAY_MS });
    await recordMessages(db(), [yesterday]);
    // Moved by hand to the two rows the triggers before 0038 would have written.
    await db().batch([
      db()
        .prepare("DELETE FROM insight_days WHERE tenant_id = ? AND day = ? AND metric = 'reply'")
        .bind(t, today - 1),
      countedBefore0038Statement(t, today - 1, 1),
    ]);
    expect(await recordDeliveryStatus(db(), undeliverable(t, wa.id, yesterday.providerMessageId, NOW))).toBe(
      "updated",
    );
    expect(
      await rows(
        "SELECT metric, key, n FROM insight_days WHERE tenant_id = ? AND day = ? ORDER BY metric",
        t,
        today - 1,
      ),
    ).toEqual([
      { metric: "reply_wait", key: "lt1m", n: 0 },
      { metric: "rule", key: "hours canned_reply", n: 0 },
    ]);
    // One of today's, counted in a merged row: that row loses it, the old rows keep theirs.
    await recordMessages(db(), [failsToday]);
    expect(await recordDeliveryStatus(db(), undeliverable(t, wa.id, failsToday.providerMessageId, NOW))).toBe(
      "updated",
    );
    const after = await tenantInsights(db(), t, NOW);
    expect(after.rules).toEqual(i.rules);
    expect(after.replyWait).toEqual(i.replyWait);
    // The figures would be the same whichever rows lost it: the old rows' own sum says which.
    expect(
      await scalar(
        "SELECT SUM(n) FROM insight_days WHERE tenant_id = ? AND day = ? AND metric <> 'reply'",
        t,
        today,
      ),
    ).toBe(4);
  });

  it("counts the same messages on each tenant's own local days: Kolkata and New York (issue 19 item 6)", async () => {
    const india = (await newTenant()).id;
    expect(await setTenantTimeZone(db(), india, "Asia/Kolkata")).toBe(true);
    const usa = (
      await createTenant(db(), MASTER_KEY, { name: "NYC", locale: "en-US", timeZone: "America/New_York" })
    ).id;
    const [inAcc, usAcc] = [await newAccount(india), await newAccount(usa)];
    // Monday 7 December 2026: 20:00 UTC is Tuesday 01:30 in Kolkata and Monday 15:00 in New York;
    // 03:00 UTC is 08:30 in Kolkata (Monday) and 22:00 on Sunday in New York.
    const evening = Date.UTC(2026, 11, 7, 20, 0);
    const early = Date.UTC(2026, 11, 7, 3, 0);
    for (const [t, a] of [
      [india, inAcc.id],
      [usa, usAcc.id],
    ] as const) {
      await recordMessages(db(), [msg(t, a, { at: evening }), msg(t, a, { at: early })]);
    }
    const now = Date.UTC(2026, 11, 8, 12, 0);
    const days = (i: Awaited<ReturnType<typeof tenantInsights>>) =>
      Object.fromEntries(
        i.days.filter((d) => d.received.whatsapp > 0).map((d) => [d.date, d.received.whatsapp]),
      );
    expect(days(await tenantInsights(db(), india, now))).toEqual({ "2026-12-07": 1, "2026-12-08": 1 });
    expect(days(await tenantInsights(db(), usa, now))).toEqual({ "2026-12-06": 1, "2026-12-07": 1 });
    // Each window ends on the tenant's own today.
    expect((await tenantInsights(db(), india, now)).days.at(-1)!.date).toBe("2026-12-08");
    expect((await tenantInsights(db(), usa, Date.UTC(2026, 11, 8, 3, 0))).days.at(-1)!.date).toBe(
      "2026-12-07",
    );
  });

  it("a tenant whose zone was not known is counted again in it; a restore after a zone change finds its debit's day", async () => {
    const t = (
      await createTenant(db(), MASTER_KEY, { name: "Later", locale: "en-US", timeZone: "America/New_York" })
    ).id;
    await db().prepare("UPDATE tenants SET utc_offset_minutes = NULL WHERE id = ?").bind(t).run();
    const acc = await newAccount(t);
    // 7 December 02:00 UTC: counted on the 7th (UTC) while the zone is unknown.
    const at = Date.UTC(2026, 11, 7, 2, 0);
    await recordMessages(db(), [msg(t, acc.id, { at })]);
    await grantCredits(db(), {
      tenantId: t,
      amount: 5,
      source: "purchase",
      reference: "p",
      now: at - DAY_MS,
    });
    await debitCredit(db(), t, "d1", at);
    await debitCredit(db(), t, "d2", at);
    const now = Date.UTC(2026, 11, 8, 12, 0);
    const seen = async () =>
      Object.fromEntries(
        (await tenantInsights(db(), t, now)).days
          .filter((d) => d.received.whatsapp || d.credits)
          .map((d) => [d.date, [d.received.whatsapp, d.credits]]),
      );
    expect(await seen()).toEqual({ "2026-12-07": [1, 2] });
    await saveTenantOffsets(db(), [{ id: t, timeZone: "America/New_York", offset: -300, recount: true }]);
    // Now on the New York day: Sunday the 6th, 21:00.
    expect(await seen()).toEqual({ "2026-12-06": [1, 2] });
    // The zone changes again (to Kolkata, +330): a restore still takes off from the 6th.
    expect(await setTenantTimeZone(db(), t, "Asia/Kolkata")).toBe(true);
    await restoreCredit(db(), t, "d1");
    const after = await tenantInsights(db(), t, now);
    expect(after.days.find((d) => d.date === "2026-12-06")?.credits).toBe(1);
    expect(after.totals.credits).toBe(1);
    // A recount for a zone the tenant has left meanwhile changes nothing.
    await saveTenantOffsets(db(), [{ id: t, timeZone: "America/New_York", offset: -300, recount: true }]);
    expect((await tenantInsights(db(), t, now)).totals.credits).toBe(1);
  });

  it("credits used are AI-reply debits not given back, on the day they were taken", async () => {
    const t = (await newTenant()).id;
    await onUtc(t);
    await grantCredits(db(), {
      tenantId: t,
      amount: 10,
      source: "purchase",
      reference: "pay",
      now: TODAY - 5 * DAY_MS,
    });
    await debitCredit(db(), t, "a", TODAY - 2 * DAY_MS);
    await debitCredit(db(), t, "b", NOW);
    await debitCredit(db(), t, "c", NOW);
    await restoreCredit(db(), t, "c");
    const i = await tenantInsights(db(), t, NOW);
    expect(i.days[27]!.credits).toBe(1);
    expect(i.days[29]!.credits).toBe(1);
    expect(i.totals.credits).toBe(2);
  });
});

describe("account activity and health", () => {
  it("reads each account's latest activity and recent failed sends from its own rows", async () => {
    const t = (await newTenant()).id;
    const busy = await newAccount(t, "whatsapp");
    const silent = await newAccount(t, "instagram");
    await recordMessages(db(), [
      msg(t, busy.id, { at: NOW - HEALTH_WINDOW_MS - 1, action: "send_failed" }), // too old to count
      msg(t, busy.id, { at: NOW - 1000, action: "send_failed" }),
      msg(t, busy.id, { at: NOW - 10, action: "canned_reply" }),
      msg(t, busy.id, { direction: "outbound", at: NOW - 5 }),
    ]);
    const activity = await listAccountActivity(db(), t, NOW);
    const byId = Object.fromEntries(activity.map((a) => [a.id, a]));
    expect(byId[busy.id]).toMatchObject({
      lastInboundAt: NOW - 10,
      lastOutboundAt: NOW - 5,
      failedSends: 1,
      lastInboundAction: "canned_reply",
    });
    expect(byId[silent.id]).toMatchObject({ lastInboundAt: null, lastOutboundAt: null, failedSends: 0 });
    expect(accountHealth(byId[busy.id]!, NOW)).toEqual({ level: "warn", reason: "failed_sends" });
    // Just connected, nothing yet: fine, waiting for the first message (not "needs attention").
    expect(accountHealth(byId[silent.id]!, NOW)).toEqual({ level: "ok", reason: "no_messages" });
  });

  it("reads when each account was connected, so a new one waits and an old silent one is quiet", async () => {
    const t = (await newTenant()).id;
    const fresh = await newAccount(t, "whatsapp");
    const old = await newAccount(t, "email");
    await db()
      .prepare("UPDATE channel_accounts SET created_at = ? WHERE id = ?")
      .bind(NOW - HEALTH_WINDOW_MS - 1, old.id)
      .run();
    await db()
      .prepare("UPDATE channel_accounts SET created_at = ? WHERE id = ?")
      .bind(NOW - 1000, fresh.id)
      .run();
    const byId = Object.fromEntries((await listAccountActivity(db(), t, NOW)).map((a) => [a.id, a]));
    expect(byId[fresh.id]).toMatchObject({ connectedAt: NOW - 1000, lastInboundAt: null });
    expect(accountHealth(byId[fresh.id]!, NOW)).toEqual({ level: "ok", reason: "no_messages" });
    // A week after connecting and still nothing: something upstream may be wrong.
    expect(accountHealth(byId[old.id]!, NOW)).toEqual({ level: "warn", reason: "quiet" });
  });

  it("keeps every broken state amber or red, whatever the account's age", () => {
    const base: AccountActivity = {
      id: "a",
      channel: "whatsapp",
      externalId: "x",
      displayName: null,
      status: "active",
      connectedAt: NOW - 1000,
      lastInboundAt: null,
      lastOutboundAt: null,
      failedSends: 0,
      lastInboundAction: null,
    };
    expect(accountHealth(base, NOW)).toEqual({ level: "ok", reason: "no_messages" });
    expect(accountHealth({ ...base, connectedAt: NOW - HEALTH_WINDOW_MS }, NOW).level).toBe("ok");
    expect(accountHealth({ ...base, status: "disabled" }, NOW)).toEqual({
      level: "danger",
      reason: "disabled",
    });
    const failed = { ...base, lastInboundAt: NOW - 10, lastInboundAction: "send_failed", failedSends: 1 };
    expect(accountHealth(failed, NOW)).toEqual({ level: "danger", reason: "last_send_failed" });
    // Mail for a person with no Discord inbox waits in the live inbox: working, and it says so.
    expect(
      accountHealth(
        { ...base, channel: "email", lastInboundAt: NOW - 10, lastInboundAction: "relay_no_inbox" },
        NOW,
      ),
    ).toEqual({ level: "ok", reason: "no_inbox" });
    expect(
      accountHealth(
        { ...base, lastInboundAt: NOW - 10, lastInboundAction: "canned_reply", failedSends: 1 },
        NOW,
      ),
    ).toEqual({ level: "warn", reason: "failed_sends" });
    expect(accountHealth({ ...base, lastInboundAt: NOW - HEALTH_WINDOW_MS - 1 }, NOW)).toEqual({
      level: "warn",
      reason: "quiet",
    });
    expect(accountHealth({ ...base, channel: "discord" }, NOW)).toEqual({ level: "ok", reason: "connected" });
  });
});

describe("AI reply state", () => {
  it("tells one story: suspension, then no persona, then an unapproved persona, then no credits", () => {
    const on = { suspended: false, persona: "approved" as const, balance: 5 };
    expect(aiReplyState(on)).toBe("on");
    expect(aiReplyState({ ...on, balance: 0 })).toBe("no_credits");
    expect(aiReplyState({ ...on, balance: -1 })).toBe("no_credits");
    for (const persona of ["pending", "needs_review", "rejected"] as const) {
      expect(aiReplyState({ ...on, persona })).toBe("persona_not_approved");
      expect(aiReplyState({ ...on, persona, balance: 0 })).toBe("persona_not_approved");
    }
    expect(aiReplyState({ ...on, persona: null, balance: 0 })).toBe("no_persona");
    expect(aiReplyState({ ...on, suspended: true })).toBe("suspended");
    expect(aiReplyState({ suspended: true, persona: null, balance: 0 })).toBe("suspended");
  });

  it("the newest customer message decides red: its reply failed", async () => {
    const t = (await newTenant()).id;
    const acc = await newAccount(t);
    await recordMessages(db(), [
      msg(t, acc.id, { at: NOW - 10, action: "canned_reply" }),
      msg(t, acc.id, { at: NOW - 5, action: "send_failed" }),
    ]);
    const [a] = await listAccountActivity(db(), t, NOW);
    expect(accountHealth(a!, NOW)).toEqual({ level: "danger", reason: "last_send_failed" });
  });
});

describe("the daily rollups behind insights (migration 0029)", () => {
  it("a message recorded twice counts once: a redelivery or a retried turn adds nothing", async () => {
    const t = (await newTenant()).id;
    const wa = await newAccount(t, "whatsapp");
    const first = msg(t, wa.id, {});
    const second = msg(t, wa.id, { direction: "outbound", action: "ai_reply" });
    await recordMessages(db(), [first, second, msg(t, wa.id, {})]);
    // A redelivered webhook or a retried turn: the UNIQUE key turns the row away, the count too.
    await recordMessages(db(), [first, second]);
    const today = (await tenantInsights(db(), t, NOW)).days[29]!;
    expect(today.received.whatsapp).toBe(2);
    expect(today.ai).toBe(1);
    expect(await scalar("SELECT SUM(n) FROM message_days WHERE tenant_id = ?", t)).toBe(3);
  });

  it("a restored debit is taken off the day it was taken, and the tenant's rows go with the tenant", async () => {
    const t = (await newTenant()).id;
    const wa = await newAccount(t, "whatsapp");
    await grantCredits(db(), {
      tenantId: t,
      amount: 10,
      source: "purchase",
      reference: "p",
      now: TODAY - 9 * DAY_MS,
    });
    await debitCredit(db(), t, "old", TODAY - 3 * DAY_MS);
    await debitCredit(db(), t, "new", NOW);
    // Given back today: the credit comes off three days ago, when it was taken.
    await restoreCredit(db(), t, "old");
    await restoreCredit(db(), t, "old");
    const i = await tenantInsights(db(), t, NOW);
    expect(i.days[26]!.credits).toBe(0);
    expect(i.days[29]!.credits).toBe(1);
    await recordMessages(db(), [msg(t, wa.id, {})]);
    await db().prepare("DELETE FROM tenants WHERE id = ?").bind(t).run();
    expect(await scalar("SELECT COUNT(*) FROM message_days WHERE tenant_id = ?", t)).toBe(0);
    expect(await scalar("SELECT COUNT(*) FROM credit_days WHERE tenant_id = ?", t)).toBe(0);
  });
});
