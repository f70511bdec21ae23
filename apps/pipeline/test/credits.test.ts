import { env } from "cloudflare:workers";
import { createTenant, creditBalance, debitCredit, grantCredits, restoreCredit } from "@concierge/storage";
import { TEST_SECRETS } from "@concierge/testing/secrets";
import { describe, expect, it } from "vitest";

// Credits against the real local D1 with the real migrations (trigger, constraints and all).
let n = 0;
async function tenant(): Promise<string> {
  n += 1;
  const t = await createTenant(env.DB, TEST_SECRETS.encryptionKey, {
    id: `t_credits_${n}_${Date.now()}`,
    name: "Credits",
  });
  return t.id;
}

describe("credits", () => {
  it("grants a purchase once, however often the payment is replayed", async () => {
    const t = await tenant();
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        grantCredits(env.DB, { tenantId: t, amount: 100, source: "purchase", reference: "pay_1" }),
      ),
    );
    expect(results.filter((r) => r.applied)).toHaveLength(1);
    expect(await creditBalance(env.DB, t)).toBe(100);
  });

  it("lets 50 concurrent debits against 20 credits take exactly 20, never going negative", async () => {
    const t = await tenant();
    await grantCredits(env.DB, { tenantId: t, amount: 12, source: "purchase", reference: "pay_a" });
    await grantCredits(env.DB, {
      tenantId: t,
      amount: 8,
      source: "grant",
      reference: "grant_a",
      expiresAt: Date.now() + 86_400_000,
    });
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => debitCredit(env.DB, t, `turn:${i}`)),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(20);
    expect(await creditBalance(env.DB, t)).toBe(0);
    const negative = await env.DB.prepare("SELECT COUNT(*) AS n FROM credit_lots WHERE remaining < 0").first<{
      n: number;
    }>();
    expect(negative!.n).toBe(0);
    const ledger = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM credit_ledger WHERE tenant_id = ? AND reason = 'ai_reply'",
    )
      .bind(t)
      .first<{ n: number }>();
    expect(ledger!.n).toBe(20);
  });

  it("spends the soonest-expiring credits first and never expired ones", async () => {
    const t = await tenant();
    const now = Date.now();
    await grantCredits(env.DB, { tenantId: t, amount: 1, source: "purchase", reference: "forever" });
    await grantCredits(env.DB, {
      tenantId: t,
      amount: 1,
      source: "grant",
      reference: "late",
      expiresAt: now + 7_200_000,
    });
    await grantCredits(env.DB, {
      tenantId: t,
      amount: 1,
      source: "grant",
      reference: "soon",
      expiresAt: now + 3_600_000,
    });
    const order: string[] = [];
    for (let i = 0; i < 3; i++) {
      await debitCredit(env.DB, t, `d${i}`);
      const row = await env.DB.prepare(
        "SELECT lot_id FROM credit_ledger WHERE tenant_id = ? AND reference = ?",
      )
        .bind(t, `d${i}`)
        .first<{ lot_id: string }>();
      order.push(row!.lot_id.split(":").pop()!);
    }
    expect(order).toEqual(["soon", "late", "forever"]);

    const t2 = await tenant();
    await grantCredits(env.DB, {
      tenantId: t2,
      amount: 5,
      source: "grant",
      reference: "g",
      expiresAt: now + 1000,
    });
    expect(await creditBalance(env.DB, t2, now + 2000)).toBe(0);
    expect(await debitCredit(env.DB, t2, "late-debit", now + 2000)).toEqual({ ok: false });
  });

  it("treats a retried debit as the same debit, and restores a credit exactly once", async () => {
    const t = await tenant();
    await grantCredits(env.DB, { tenantId: t, amount: 2, source: "purchase", reference: "p" });
    expect(await debitCredit(env.DB, t, "turn:x")).toEqual({ ok: true });
    expect(await debitCredit(env.DB, t, "turn:x")).toEqual({ ok: true });
    expect(await creditBalance(env.DB, t)).toBe(1);
    const restores = await Promise.all([
      restoreCredit(env.DB, t, "turn:x"),
      restoreCredit(env.DB, t, "turn:x"),
    ]);
    expect(restores.filter((r) => r.applied)).toHaveLength(1);
    expect(await creditBalance(env.DB, t)).toBe(2);
    expect(await restoreCredit(env.DB, t, "never-debited")).toEqual({ applied: false });
    // A restored reference is spent: reusing it neither charges nor counts as paid.
    expect(await debitCredit(env.DB, t, "turn:x")).toEqual({ ok: false });
    expect(await creditBalance(env.DB, t)).toBe(2);
  });

  it("refuses bad grants with a clear error and changes nothing", async () => {
    const t = await tenant();
    for (const amount of [0, -5, 1.5]) {
      await expect(
        grantCredits(env.DB, { tenantId: t, amount, source: "grant", reference: `bad${amount}` }),
      ).rejects.toThrow(/whole positive/);
    }
    await expect(
      grantCredits(env.DB, {
        tenantId: t,
        amount: 5,
        source: "grant",
        reference: "past",
        expiresAt: Date.now() - 1,
      }),
    ).rejects.toThrow(/future/);
    expect(await creditBalance(env.DB, t)).toBe(0);
  });
});
