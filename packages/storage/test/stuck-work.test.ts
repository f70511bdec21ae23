// Issue 17 items 9–12: the reads the sweeps and the alerts use to find work left stuck.
import { describe, expect, it } from "vitest";
import { createApproval, listStuckSendingApprovals, transitionApproval } from "../src/approvals.ts";
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
