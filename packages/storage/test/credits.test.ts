import { describe, expect, it } from "vitest";
import { listCreditLots, listLedgerPage } from "../src/credit-history.ts";
import {
  creditBalance,
  creditDebit,
  debitAiReply,
  debitCredit,
  grantCredits,
  restoreCredit,
} from "../src/credits.ts";
import { recordPersonaVerdict, savePersona } from "../src/personas.ts";
import { countingDb, db, newTenant, rows, scalar } from "./fixtures.ts";

const NOW = 1_800_000_000_000;
const HOUR = 3_600_000;

async function tenantWith(
  ...lots: { amount: number; reference: string; expiresAt?: number | null; now?: number }[]
) {
  const t = await newTenant();
  for (const l of lots) {
    await grantCredits(db(), {
      tenantId: t.id,
      source: l.expiresAt == null ? "purchase" : "grant",
      now: NOW,
      ...l,
    });
  }
  return t.id;
}

const lotRemaining = async (tenantId: string) =>
  Object.fromEntries(
    (
      await rows<{ id: string; remaining: number }>(
        "SELECT id, remaining FROM credit_lots WHERE tenant_id = ? ORDER BY id",
        tenantId,
      )
    ).map((r) => [r.id.split(":").pop(), r.remaining]),
  );

describe("grants", () => {
  it("a grant applies once per reference: a replayed payment adds nothing", async () => {
    const t = await tenantWith();
    expect(
      await grantCredits(db(), { tenantId: t, amount: 100, source: "purchase", reference: "pay_1" }),
    ).toEqual({
      applied: true,
    });
    expect(
      await grantCredits(db(), { tenantId: t, amount: 100, source: "purchase", reference: "pay_1" }),
    ).toEqual({
      applied: false,
    });
    // Even a replay claiming another amount changes nothing.
    expect(
      await grantCredits(db(), { tenantId: t, amount: 999, source: "purchase", reference: "pay_1" }),
    ).toEqual({
      applied: false,
    });
    expect(await creditBalance(db(), t)).toBe(100);
    expect(await scalar("SELECT COUNT(*) FROM credit_ledger WHERE tenant_id = ?", t)).toBe(1);
  });

  it("refuses amounts that are not whole positive numbers and expiries in the past, writing nothing", async () => {
    const t = await tenantWith();
    for (const amount of [0, -5, 1.5]) {
      await expect(
        grantCredits(db(), { tenantId: t, amount, source: "grant", reference: `g${amount}` }),
      ).rejects.toMatchObject({ code: "invalid_amount" });
    }
    await expect(
      grantCredits(db(), {
        tenantId: t,
        amount: 5,
        source: "grant",
        reference: "g",
        expiresAt: NOW,
        now: NOW,
      }),
    ).rejects.toMatchObject({ code: "invalid_expiry" });
    expect(await scalar("SELECT COUNT(*) FROM credit_lots WHERE tenant_id = ?", t)).toBe(0);
  });

  it("the same reference on two tenants is two grants", async () => {
    const a = await tenantWith({ amount: 3, reference: "shared" });
    const b = await tenantWith({ amount: 4, reference: "shared" });
    expect([await creditBalance(db(), a), await creditBalance(db(), b)]).toEqual([3, 4]);
  });
});

describe("debits", () => {
  it("takes from the soonest-expiring lot first, never-expiring lots last", async () => {
    const t = await tenantWith(
      { amount: 2, reference: "forever" },
      { amount: 1, reference: "late", expiresAt: NOW + 48 * HOUR },
      { amount: 1, reference: "soon", expiresAt: NOW + HOUR },
    );
    await debitCredit(db(), t, "d1", NOW);
    expect(await lotRemaining(t)).toEqual({ forever: 2, late: 1, soon: 0 });
    await debitCredit(db(), t, "d2", NOW);
    expect(await lotRemaining(t)).toEqual({ forever: 2, late: 0, soon: 0 });
    await debitCredit(db(), t, "d3", NOW);
    expect(await lotRemaining(t)).toEqual({ forever: 1, late: 0, soon: 0 });
  });

  it("skips expired lots: they are neither spent nor counted in the balance", async () => {
    const t = await tenantWith(
      { amount: 5, reference: "expiring", expiresAt: NOW + HOUR },
      { amount: 1, reference: "forever" },
    );
    const later = NOW + 2 * HOUR;
    expect(await creditBalance(db(), t, NOW)).toBe(6);
    expect(await creditBalance(db(), t, later)).toBe(1);
    expect(await debitCredit(db(), t, "d1", later)).toEqual({ ok: true });
    expect(await debitCredit(db(), t, "d2", later)).toEqual({ ok: false });
    expect(await lotRemaining(t)).toEqual({ expiring: 5, forever: 0 });
  });

  it("the balance never goes negative: with credit for one, only one of many concurrent debits succeeds", async () => {
    const t = await tenantWith({ amount: 1, reference: "one" });
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => debitCredit(db(), t, `race-${i}`, NOW)),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(await creditBalance(db(), t, NOW)).toBe(0);
    expect(await scalar("SELECT MIN(remaining) FROM credit_lots WHERE tenant_id = ?", t)).toBe(0);
    expect(await scalar("SELECT COUNT(*) FROM credit_ledger WHERE tenant_id = ? AND delta < 0", t)).toBe(1);
  });

  it("a successful debit is one statement (the conditional INSERT; the trigger moves the lot), never read-then-write", async () => {
    const t = await tenantWith({ amount: 2, reference: "two" });
    const counting = countingDb();
    expect(await debitCredit(counting.db, t, "one-statement", NOW)).toEqual({ ok: true });
    expect(counting.statements).toHaveLength(1);
    expect(counting.statements[0]).toMatch(/^\s*INSERT INTO credit_ledger/);
    expect(await lotRemaining(t)).toEqual({ two: 1 });
  });

  it("a retried debit with the same reference takes nothing more and still reports ok", async () => {
    const t = await tenantWith({ amount: 3, reference: "three" });
    expect(await debitCredit(db(), t, "turn-1", NOW)).toEqual({ ok: true });
    expect(await debitCredit(db(), t, "turn-1", NOW)).toEqual({ ok: true });
    expect(await creditBalance(db(), t, NOW)).toBe(2);
    expect(await creditDebit(db(), t, "turn-1")).toEqual({ at: NOW, restored: false });
    expect(await creditDebit(db(), t, "turn-unknown")).toBeNull();
  });

  it("a debit on an empty balance fails and writes no ledger row", async () => {
    const t = await tenantWith();
    expect(await debitCredit(db(), t, "d", NOW)).toEqual({ ok: false });
    expect(await scalar("SELECT COUNT(*) FROM credit_ledger WHERE tenant_id = ?", t)).toBe(0);
  });
});

describe("an AI reply's debit with the persona check (debitAiReply)", () => {
  const persona = { kind: "raw", prompt: "You are the shop's assistant." } as const;
  async function withPersona(t: string, status: "pending" | "approved" | "rejected", hash = "h1") {
    await savePersona(db(), t, persona, hash);
    if (status !== "pending") await recordPersonaVerdict(db(), t, hash, status, null);
  }
  const debits = (t: string) =>
    scalar("SELECT COUNT(*) FROM credit_ledger WHERE tenant_id = ? AND delta < 0", t);

  it("takes one credit only while the persona is approved, and says so with the persona and the balance after", async () => {
    const t = await tenantWith({ amount: 3, reference: "three" });
    expect(await debitAiReply(db(), t, "ai-0", null, NOW)).toEqual({
      debited: false,
      persona: null,
      balance: 3,
    });
    await withPersona(t, "pending");
    expect(await debitAiReply(db(), t, "ai-1", null, NOW)).toMatchObject({
      debited: false,
      persona: { hash: "h1", status: "pending" },
      balance: 3,
    });
    await withPersona(t, "rejected");
    expect((await debitAiReply(db(), t, "ai-2", null, NOW)).debited).toBe(false);
    expect(await debits(t)).toBe(0);
    await withPersona(t, "approved", "h2");
    expect(await debitAiReply(db(), t, "ai-3", null, NOW)).toEqual({
      debited: true,
      persona: { hash: "h2", status: "approved", persona },
      balance: 2,
    });
    expect(await debits(t)).toBe(1);
  });

  it("sends the persona's text only when the caller's copy is of another version", async () => {
    const t = await tenantWith({ amount: 5, reference: "five" });
    await withPersona(t, "approved", "v1");
    expect((await debitAiReply(db(), t, "ai-1", "v1", NOW)).persona).toEqual({
      hash: "v1",
      status: "approved",
      persona: null,
    });
    expect((await debitAiReply(db(), t, "ai-2", "v0", NOW)).persona?.persona).toEqual(persona);
  });

  it("is one round trip: one batch of the conditional INSERT and one read", async () => {
    const t = await tenantWith({ amount: 2, reference: "two" });
    await withPersona(t, "approved");
    const counting = countingDb();
    expect((await debitAiReply(counting.db, t, "one-trip", "h1", NOW)).debited).toBe(true);
    expect(counting.statements).toHaveLength(2);
    expect(counting.statements[0]).toMatch(/^\s*INSERT INTO credit_ledger/);
    expect(counting.statements[0]).toMatch(/safety_status = 'approved'/);
    expect(await lotRemaining(t)).toEqual({ two: 1 });
  });

  it("a retry with the same reference takes nothing more and finds its debit; after a restore it finds none", async () => {
    const t = await tenantWith({ amount: 3, reference: "three" });
    await withPersona(t, "approved");
    expect((await debitAiReply(db(), t, "turn-1", null, NOW)).debited).toBe(true);
    expect(await debitAiReply(db(), t, "turn-1", "h1", NOW)).toMatchObject({ debited: true, balance: 2 });
    expect(await debits(t)).toBe(1);
    await restoreCredit(db(), t, "turn-1");
    expect(await debitAiReply(db(), t, "turn-1", "h1", NOW)).toMatchObject({ debited: false, balance: 3 });
    expect(await debits(t)).toBe(1);
  });

  it("never overdraws: with credit for one, one of many concurrent debits succeeds; none without credit", async () => {
    const t = await tenantWith({ amount: 1, reference: "one" });
    await withPersona(t, "approved");
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => debitAiReply(db(), t, `race-${i}`, "h1", NOW)),
    );
    expect(results.filter((r) => r.debited)).toHaveLength(1);
    expect(results.map((r) => r.balance)).toContain(0);
    expect(await creditBalance(db(), t, NOW)).toBe(0);
    expect((await debitAiReply(db(), t, "after", "h1", NOW)).debited).toBe(false);
    expect(await debits(t)).toBe(1);
  });

  it("reads only the tenant's own rows, through indexes: rows read do not grow with other tenants", async () => {
    const t = await tenantWith({ amount: 2, reference: "p" });
    await withPersona(t, "approved");
    for (let i = 0; i < 20; i++) await tenantWith({ amount: 5, reference: "p" });
    const counting = countingDb();
    await debitAiReply(counting.db, t, "plan", "h1", NOW);
    const plan: string[] = [];
    let rowsRead = 0;
    for (const r of counting.recorded) {
      const explained = await db()
        .prepare(`EXPLAIN QUERY PLAN ${r.sql}`)
        .bind(...r.binds)
        .all<{ detail: string }>();
      plan.push(...explained.results.map((x) => x.detail));
      // Replayed (the INSERT now conflicts and adds nothing): what each statement reads.
      rowsRead += (
        await db()
          .prepare(r.sql)
          .bind(...r.binds)
          .run()
      ).meta.rows_read;
    }
    // No table is scanned (the one-row `(SELECT 1)` the persona is joined to is not a table).
    expect(plan.filter((d) => /^SCAN (?!CONSTANT|\()/.test(d))).toEqual([]);
    // The tenant's own lots through one of their (tenant_id, …) indexes, in both statements.
    expect(
      plan.join("\n").match(/SEARCH credit_lots USING (COVERING )?INDEX \w+ \(tenant_id=\?/g),
    ).toHaveLength(2);
    // A handful of this tenant's rows (its lot, its persona, its ledger entries), not the 20 others'.
    expect(rowsRead).toBeLessThan(20);
  });

  it("the balance it returns counts only this tenant's unexpired lots", async () => {
    const t = await tenantWith(
      { amount: 4, reference: "p" },
      { amount: 9, reference: "g", expiresAt: NOW + HOUR },
    );
    const other = await tenantWith({ amount: 50, reference: "p" });
    await withPersona(t, "approved");
    expect((await debitAiReply(db(), t, "a", "h1", NOW)).balance).toBe(12);
    expect((await debitAiReply(db(), t, "b", "h1", NOW + 2 * HOUR)).balance).toBe(3);
    expect(await creditBalance(db(), other, NOW)).toBe(50);
  });
});

describe("restores", () => {
  it("gives back exactly one credit to the lot it came from, once", async () => {
    const t = await tenantWith(
      { amount: 1, reference: "soon", expiresAt: NOW + HOUR },
      { amount: 1, reference: "forever" },
    );
    await debitCredit(db(), t, "turn-1", NOW);
    expect(await restoreCredit(db(), t, "turn-1")).toEqual({ applied: true });
    expect(await restoreCredit(db(), t, "turn-1")).toEqual({ applied: false });
    expect(await lotRemaining(t)).toEqual({ forever: 1, soon: 1 });
    expect(await creditDebit(db(), t, "turn-1")).toEqual({ at: NOW, restored: true });
  });

  it("a retried debit after its restore is not ok (the credit was given back) and takes nothing", async () => {
    const t = await tenantWith({ amount: 2, reference: "two" });
    await debitCredit(db(), t, "turn-1", NOW);
    await restoreCredit(db(), t, "turn-1");
    expect(await debitCredit(db(), t, "turn-1", NOW)).toEqual({ ok: false });
    expect(await creditBalance(db(), t, NOW)).toBe(2);
  });

  it("restoring a debit that never happened, or another tenant's, applies nothing", async () => {
    const t = await tenantWith({ amount: 2, reference: "two" });
    const other = await tenantWith({ amount: 2, reference: "two" });
    await debitCredit(db(), t, "turn-1", NOW);
    expect(await restoreCredit(db(), t, "never")).toEqual({ applied: false });
    expect(await restoreCredit(db(), other, "turn-1")).toEqual({ applied: false });
    expect(await creditBalance(db(), other, NOW)).toBe(2);
    expect(await creditBalance(db(), t, NOW)).toBe(1);
  });
});

describe("billing history", () => {
  it("lists lots newest first and pages the ledger newest first with a cursor", async () => {
    const t = await newTenant();
    await grantCredits(db(), { tenantId: t.id, amount: 5, source: "purchase", reference: "old", now: NOW });
    await grantCredits(db(), { tenantId: t.id, amount: 9, source: "grant", reference: "new", now: NOW + 1 });
    expect((await listCreditLots(db(), t.id)).map((l) => [l.source, l.granted, l.remaining])).toEqual([
      ["grant", 9, 9],
      ["purchase", 5, 5],
    ]);
    for (let i = 0; i < 4; i++) await debitCredit(db(), t.id, `d${i}`, NOW + 10);
    const first = await listLedgerPage(db(), t.id, { limit: 4 });
    expect(first.entries.map((e) => e.reference)).toEqual(["d3", "d2", "d1", "d0"]);
    expect(first.next).toBe(first.entries[3]!.id);
    const second = await listLedgerPage(db(), t.id, { limit: 4, before: first.next });
    expect(second.entries.map((e) => [e.reference, e.delta, e.reason])).toEqual([
      ["new", 9, "grant"],
      ["old", 5, "purchase"],
    ]);
    expect(second.next).toBeNull();
    expect((await listLedgerPage(db(), (await newTenant()).id)).entries).toEqual([]);
  });
});
