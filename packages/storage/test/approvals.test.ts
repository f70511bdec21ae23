import { describe, expect, it } from "vitest";
import {
  APPROVAL_TTL_MS,
  createApproval,
  getApproval,
  listExpiredApprovals,
  listPendingApprovals,
  transitionApproval,
} from "../src/approvals.ts";
import { db, newAccount, newTenant } from "./fixtures.ts";

const NOW = 1_800_000_000_000;
let seq = 0;

async function held(tenantId?: string, at = NOW) {
  const t = tenantId ?? (await newTenant()).id;
  const acc = await newAccount(t);
  const id = `apr-${++seq}-${acc.id}`;
  await createApproval(
    db(),
    {
      id,
      tenantId: t,
      accountId: acc.id,
      threadKey: `${t}/${acc.id}/cust`,
      conversationId: "conv-1",
      ruleId: null,
      creditRef: `credit-${id}`,
      reasons: ["always_approve", "low_confidence"],
    },
    at,
  );
  return { tenantId: t, id };
}

describe("approvals", () => {
  it("creates a pending approval that expires after the TTL, idempotent on its id", async () => {
    const a = await held();
    const row = await getApproval(db(), a.tenantId, a.id);
    expect(row).toMatchObject({
      id: a.id,
      status: "pending",
      reasons: ["always_approve", "low_confidence"],
      createdAt: NOW,
      expiresAt: NOW + APPROVAL_TTL_MS,
      decidedAt: null,
      decidedBy: null,
    });
    // A retried turn re-creating it changes nothing (not even the time).
    await createApproval(db(), { ...row!, reasons: [] }, NOW + 5);
    expect(await getApproval(db(), a.tenantId, a.id)).toEqual(row);
  });

  it("expires when the channel stops accepting the reply, if that is sooner than the TTL", async () => {
    const t = (await newTenant()).id;
    const acc = await newAccount(t);
    const base = {
      tenantId: t,
      accountId: acc.id,
      threadKey: `${t}/${acc.id}/cust`,
      conversationId: null,
      ruleId: null,
      creditRef: "credit-window",
      reasons: ["approval_always"],
    };
    await createApproval(db(), { ...base, id: "apr-window-soon", sendableUntil: NOW + 3_600_000 }, NOW);
    await createApproval(
      db(),
      { ...base, id: "apr-window-late", sendableUntil: NOW + 7 * APPROVAL_TTL_MS },
      NOW,
    );
    await createApproval(db(), { ...base, id: "apr-window-none", sendableUntil: null }, NOW);
    expect((await getApproval(db(), t, "apr-window-soon"))?.expiresAt).toBe(NOW + 3_600_000);
    expect((await getApproval(db(), t, "apr-window-late"))?.expiresAt).toBe(NOW + APPROVAL_TTL_MS);
    expect((await getApproval(db(), t, "apr-window-none"))?.expiresAt).toBe(NOW + APPROVAL_TTL_MS);
  });

  it("is invisible to another tenant", async () => {
    const a = await held();
    const other = await newTenant();
    expect(await getApproval(db(), other.id, a.id)).toBeNull();
    expect(
      await transitionApproval(db(), other.id, a.id, "pending", "sending", "x", { unexpiredOnly: false }),
    ).toEqual({
      changed: false,
    });
    expect((await getApproval(db(), a.tenantId, a.id))?.status).toBe("pending");
  });

  it("exactly one of two racing decisions wins", async () => {
    const a = await held();
    const decide = (by: string) =>
      transitionApproval(db(), a.tenantId, a.id, "pending", "sending", by, {
        unexpiredOnly: true,
        now: NOW + 1,
      });
    const [x, y] = await Promise.all([decide("alice"), decide("bob")]);
    expect([x.changed, y.changed].sort()).toEqual([false, true]);
    const row = await getApproval(db(), a.tenantId, a.id);
    expect(row?.status).toBe("sending");
    expect(row?.decidedBy).toBe(x.changed ? "alice" : "bob");
    expect(row?.decidedAt).toBe(NOW + 1);
  });

  it("a decision after the expiry is refused; the cron's unexpiredOnly:false move still works", async () => {
    const a = await held();
    const late = NOW + APPROVAL_TTL_MS + 1;
    expect(
      await transitionApproval(db(), a.tenantId, a.id, "pending", "sending", "alice", {
        unexpiredOnly: true,
        now: late,
      }),
    ).toEqual({ changed: false });
    expect(
      await transitionApproval(db(), a.tenantId, a.id, "pending", "expired", null, {
        unexpiredOnly: false,
        now: late,
      }),
    ).toEqual({ changed: true });
    expect(await getApproval(db(), a.tenantId, a.id)).toMatchObject({ status: "expired", decidedBy: null });
  });

  it("a later transition keeps who decided when it names nobody", async () => {
    const a = await held();
    await transitionApproval(db(), a.tenantId, a.id, "pending", "sending", "alice", {
      unexpiredOnly: true,
      now: NOW,
    });
    await transitionApproval(db(), a.tenantId, a.id, "sending", "sent", null, {
      unexpiredOnly: false,
      now: NOW + 9,
    });
    expect(await getApproval(db(), a.tenantId, a.id)).toMatchObject({
      status: "sent",
      decidedBy: "alice",
      decidedAt: NOW + 9,
    });
  });

  it("lists the tenant's pending, unexpired approvals oldest first", async () => {
    const t = (await newTenant()).id;
    const older = await held(t, NOW);
    const newer = await held(t, NOW + 10);
    const decided = await held(t, NOW + 20);
    await transitionApproval(db(), t, decided.id, "pending", "rejected", "x", { unexpiredOnly: false });
    await held(undefined, NOW);
    expect((await listPendingApprovals(db(), t, NOW + 30)).map((r) => r.id)).toEqual([older.id, newer.id]);
    // Past the first one's expiry only the newer is still pending for a person.
    expect((await listPendingApprovals(db(), t, NOW + APPROVAL_TTL_MS + 5)).map((r) => r.id)).toEqual([
      newer.id,
    ]);
  });

  it("the cron's expired list has only pending approvals past expiry, soonest first, bounded by the limit", async () => {
    const base = NOW + 1_000_000;
    const t = (await newTenant()).id;
    const a = await held(t, base);
    const b = await held(t, base + 1);
    const c = await held(t, base + 2);
    await transitionApproval(db(), t, b.id, "pending", "sent", null, { unexpiredOnly: false });
    const cut = base + APPROVAL_TTL_MS + 1;
    const mine = (await listExpiredApprovals(db(), cut)).filter((r) => r.tenantId === t).map((r) => r.id);
    expect(mine).toEqual([a.id]);
    expect(
      (await listExpiredApprovals(db(), cut + 1)).filter((r) => r.tenantId === t).map((r) => r.id),
    ).toEqual([a.id, c.id]);
    expect(await listExpiredApprovals(db(), cut + 1, 1)).toHaveLength(1);
  });
});
