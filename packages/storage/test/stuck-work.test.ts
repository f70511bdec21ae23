// Issue 17 items 9–12: the reads the sweeps and the alerts use to find work left stuck.
import { describe, expect, it } from "vitest";
import { createApproval, listStuckSendingApprovals, transitionApproval } from "../src/approvals.ts";
import { recordPersonaVerdict, savePersona } from "../src/personas.ts";
import {
  clearStuckAlarm,
  listStuckAlarmsDue,
  overdueSafetyCount,
  recordStuckAlarm,
  stuckAlarms,
} from "../src/platform-health.ts";
import { db, newAccount, newTenant } from "./fixtures.ts";

const NOW = 1_900_000_000_000;

describe("listStuckSendingApprovals", () => {
  it("lists approvals in sending since before the cut, oldest first, bounded", async () => {
    const t = (await newTenant()).id;
    const acc = await newAccount(t);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const id = `stuck-${i}-${acc.id}`;
      ids.push(id);
      await createApproval(
        db(),
        {
          id,
          tenantId: t,
          accountId: acc.id,
          threadKey: `${t}/${acc.id}/c${i}`,
          conversationId: null,
          ruleId: null,
          creditRef: `credit-${id}`,
          reasons: ["approval_always"],
        },
        NOW,
      );
    }
    // Two taken for sending at different times, one left pending.
    await transitionApproval(db(), t, ids[0]!, "pending", "sending", "a", {
      unexpiredOnly: false,
      now: NOW + 2,
    });
    await transitionApproval(db(), t, ids[1]!, "pending", "sending", "a", {
      unexpiredOnly: false,
      now: NOW + 1,
    });
    const mine = async (before: number, limit?: number) =>
      (await listStuckSendingApprovals(db(), before, limit)).filter((a) => a.tenantId === t).map((a) => a.id);
    expect(await mine(NOW + 1)).toEqual([]);
    expect(await mine(NOW + 2)).toEqual([ids[1]]);
    expect(await mine(NOW + 3)).toEqual([ids[1], ids[0]]);
    expect((await listStuckSendingApprovals(db(), NOW + 3, 1)).length).toBe(1);
  });
});

describe("stuck alarms", () => {
  it("records, refreshes, lists newest first without the thread key, and clears one object's alert", async () => {
    const t = (await newTenant()).id;
    const acc = await newAccount(t);
    const mine = async () => (await stuckAlarms(db(), 100)).recent.filter((r) => r.tenantId === t);
    await recordStuckAlarm(db(), {
      tenantId: t,
      threadKey: `${t}/${acc.id}/c1`,
      accountId: acc.id,
      attempts: 8,
      failedAt: NOW,
    });
    await recordStuckAlarm(db(), {
      tenantId: t,
      threadKey: `${t}/${acc.id}/c2`,
      accountId: acc.id,
      attempts: 8,
      failedAt: NOW + 1,
    });
    await recordStuckAlarm(db(), {
      tenantId: t,
      threadKey: `${t}/${acc.id}/c1`,
      accountId: acc.id,
      attempts: 8,
      failedAt: NOW + 2,
    });
    expect(await mine()).toEqual([
      { tenantId: t, accountId: acc.id, attempts: 8, failedAt: NOW + 2 },
      { tenantId: t, accountId: acc.id, attempts: 8, failedAt: NOW + 1 },
    ]);
    expect((await stuckAlarms(db())).count).toBeGreaterThanOrEqual(2);
    const due = async (before: number) =>
      (await listStuckAlarmsDue(db(), before, 100)).filter((r) => r.tenantId === t).map((r) => r.threadKey);
    expect(await due(NOW + 2)).toEqual([`${t}/${acc.id}/c2`]);
    expect(await due(NOW + 3)).toEqual([`${t}/${acc.id}/c2`, `${t}/${acc.id}/c1`]);
    await clearStuckAlarm(db(), t, `${t}/${acc.id}/c1`);
    expect(await mine()).toEqual([{ tenantId: t, accountId: acc.id, attempts: 8, failedAt: NOW + 1 }]);
  });
});

describe("overdueSafetyCount", () => {
  it("counts personas pending since before the cut, not judged or recent ones", async () => {
    const base = await overdueSafetyCount(db(), NOW);
    const a = (await newTenant()).id;
    const b = (await newTenant()).id;
    await savePersona(db(), a, { kind: "raw", prompt: "Be kind." }, "ha");
    await savePersona(db(), b, { kind: "raw", prompt: "Be quick." }, "hb");
    await db()
      .prepare("UPDATE personas SET updated_at = ? WHERE tenant_id IN (?, ?)")
      .bind(NOW - 10, a, b)
      .run();
    await recordPersonaVerdict(db(), b, "hb", "approved", null);
    expect(await overdueSafetyCount(db(), NOW)).toBe(base + 1);
    expect(await overdueSafetyCount(db(), NOW - 20)).toBeLessThanOrEqual(base);
  });
});
