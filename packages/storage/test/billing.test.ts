import { newId } from "@concierge/core";
import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  type CapturedPayment,
  forgetWebhookEvent,
  getBillingDetails,
  getCreditPack,
  getCurrentSubscription,
  getOrder,
  getOrderByRazorpayId,
  getPayment,
  getPaymentReceipt,
  getSubdomainPlan,
  getSubscription,
  emailSubdomainAutomatic,
  getTrialSettings,
  grantTrialCredits,
  insertCoveredEmailSubdomain,
  insertCreditPackStatement,
  insertOrder,
  listAllCreditPacks,
  listCreditPacks,
  listPayments,
  markOrderFailed,
  purgeWebhookEvents,
  recordCapturedPayment,
  recordSubscriptionPayment,
  recordWebhookEvent,
  saveBillingDetails,
  saveCreditPack,
  setSubdomainPlanId,
  setSubdomainPlanPriceStatement,
  setTrialSettings,
  setTrialSettingsStatement,
  subdomainCoverage,
  takeBackRefund,
  updateCreditPackStatement,
  upsertSubscription,
} from "../src/billing.ts";
import { listLedgerPage } from "../src/credit-history.ts";
import { creditBalance, debitCredit, grantCredits, restoreCredit } from "../src/credits.ts";
import { insertEmailSubdomain } from "../src/email-config.ts";
import { countingDb, db, newTenant, rows, scalar, tenantBefore0019 } from "./fixtures.ts";

const DAY = 86_400_000;

/** A tenant with an order for a pack as priced now (the pipeline's createOrder, in storage terms). */
async function tenantWithOrder(packId = "inr-100") {
  const tenantId = (await newTenant()).id;
  const pack = (await getCreditPack(db(), packId))!;
  const order = await insertOrder(db(), {
    id: newId("ord"),
    tenantId,
    packId: pack.id,
    credits: pack.credits,
    amount: pack.amount,
    currency: pack.currency,
    razorpayOrderId: newId("order"),
  });
  const capture: CapturedPayment = {
    tenantId,
    orderId: order.id,
    paymentId: newId("pay"),
    amount: order.amount,
    currency: order.currency,
    method: "upi",
    credits: order.credits,
  };
  return { tenantId, order, capture };
}

const ledgerRows = (tenantId: string, reference: string) =>
  rows<{ delta: number; reason: string; lot_id: string }>(
    "SELECT delta, reason, lot_id FROM credit_ledger WHERE tenant_id = ? AND reference = ?",
    tenantId,
    reference,
  );
const lotRemaining = (tenantId: string, reference: string) =>
  scalar("SELECT remaining FROM credit_lots WHERE id = ?", `lot:${tenantId}:${reference}`);

/** Spends `n` credits of the tenant, one AI reply at a time (the real debit). */
async function spend(tenantId: string, n: number, tag = "spend") {
  for (let i = 0; i < n; i++) expect(await debitCredit(db(), tenantId, `${tag}-${i}`)).toEqual({ ok: true });
}

describe("migration 0017", () => {
  it("rebuilds credit_ledger without losing a row, an id or the trigger, and allows reason 'refund'", async () => {
    const mdb = env.MIGRATION_DB;
    const before = env.TEST_MIGRATIONS.filter((m) => m.name < "0017");
    expect(before.length).toBeGreaterThanOrEqual(16);
    expect(env.TEST_MIGRATIONS.some((m) => m.name.startsWith("0017"))).toBe(true);
    await applyD1Migrations(mdb, before);
    expect(
      await mdb.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'payments'").first("n"),
    ).toBe(0);

    // Rows as production has them before 0017: lots and ledger rows through the real functions.
    const t = await tenantBefore0019(mdb, "Before 0017");
    await grantCredits(mdb, { tenantId: t.id, amount: 10, source: "purchase", reference: "pay_old" });
    await grantCredits(mdb, {
      tenantId: t.id,
      amount: 5,
      source: "grant",
      reference: "g1",
      expiresAt: Date.now() + DAY,
    });
    // Debits as the code of the time wrote them (today's debit also writes a column 0036 adds).
    for (const ref of ["d1", "d2", "d3"]) {
      await mdb
        .prepare(
          `INSERT INTO credit_ledger (tenant_id, lot_id, delta, reason, reference, created_at)
           SELECT tenant_id, id, -1, 'ai_reply', ?, ? FROM credit_lots
            WHERE tenant_id = ? AND remaining > 0 AND (expires_at IS NULL OR expires_at > ?)
            ORDER BY expires_at IS NULL, expires_at, created_at LIMIT 1`,
        )
        .bind(ref, Date.now(), t.id, Date.now())
        .run();
    }
    await restoreCredit(mdb, t.id, "d2");
    const sd = await insertEmailSubdomain(mdb, {
      accountId: newId("acc"),
      tenantId: t.id,
      name: "before",
      domain: "before.cncg.test",
    });
    expect(sd.ok).toBe(true);
    const ledgerBefore = (await mdb.prepare("SELECT * FROM credit_ledger ORDER BY id").all()).results;
    const lotsBefore = (await mdb.prepare("SELECT * FROM credit_lots ORDER BY id").all()).results;
    expect(ledgerBefore).toHaveLength(6);

    await applyD1Migrations(mdb, env.TEST_MIGRATIONS);

    // Every row, with its id; no balance moved by the copy (the trigger fires on INSERT only).
    // (0036 adds the debits' local day; the rest of each row is as it was.)
    const ledgerAfter = (await mdb.prepare("SELECT * FROM credit_ledger ORDER BY id").all()).results;
    expect(ledgerAfter.map(({ day: _day, ...r }) => r)).toEqual(ledgerBefore);
    expect((await mdb.prepare("SELECT * FROM credit_lots ORDER BY id").all()).results).toEqual(lotsBefore);
    // The schema is the new one, under the old name, with its trigger, unique key and foreign keys.
    const schema = await mdb
      .prepare(
        "SELECT type, name, tbl_name AS tbl FROM sqlite_master WHERE tbl_name LIKE 'credit_ledger%' ORDER BY type, name",
      )
      .all<{ type: string; name: string; tbl: string }>();
    // (Later migrations add to it: 0029's tenant index and the per-day credit counts' triggers.)
    expect(schema.results).toEqual([
      { type: "index", name: "credit_ledger_lot", tbl: "credit_ledger" },
      { type: "index", name: "credit_ledger_tenant", tbl: "credit_ledger" },
      { type: "index", name: "sqlite_autoindex_credit_ledger_1", tbl: "credit_ledger" },
      { type: "table", name: "credit_ledger", tbl: "credit_ledger" },
      { type: "trigger", name: "credit_days_debit", tbl: "credit_ledger" },
      { type: "trigger", name: "credit_days_restore", tbl: "credit_ledger" },
      { type: "trigger", name: "credit_ledger_applies", tbl: "credit_ledger" },
    ]);
    const fks = await mdb
      .prepare(
        'SELECT "table" AS parent, "from" AS col, on_delete AS onDelete FROM pragma_foreign_key_list(\'credit_ledger\') ORDER BY col',
      )
      .all();
    expect(fks.results).toEqual([
      { parent: "credit_lots", col: "lot_id", onDelete: "CASCADE" },
      { parent: "tenants", col: "tenant_id", onDelete: "CASCADE" },
    ]);
    expect((await mdb.prepare("PRAGMA foreign_key_check").all()).results).toEqual([]);

    // The trigger still moves balances; AUTOINCREMENT continues after the highest copied id.
    const maxBefore = Math.max(...ledgerBefore.map((r) => r.id as number));
    const balance = await creditBalance(mdb, t.id);
    expect(await debitCredit(mdb, t.id, "after")).toEqual({ ok: true });
    expect(await creditBalance(mdb, t.id)).toBe(balance - 1);
    const newest = await mdb.prepare("SELECT MAX(id) AS id FROM credit_ledger").first<number>("id");
    expect(newest).toBe(maxBefore + 1);
    // The unique reference still holds; 'refund' is a reason now, anything else still is not.
    expect(await debitCredit(mdb, t.id, "after")).toEqual({ ok: true });
    expect(
      await mdb.prepare("SELECT COUNT(*) AS n FROM credit_ledger WHERE reference = 'after'").first("n"),
    ).toBe(1);
    await mdb
      .prepare(
        "INSERT INTO credit_ledger (tenant_id, lot_id, delta, reason, reference, created_at) VALUES (?, ?, -1, 'refund', 'rfnd_x', 1)",
      )
      .bind(t.id, `lot:${t.id}:pay_old`)
      .run();
    await expect(
      mdb
        .prepare(
          "INSERT INTO credit_ledger (tenant_id, lot_id, delta, reason, reference, created_at) VALUES (?, ?, -1, 'gift', 'x', 1)",
        )
        .bind(t.id, `lot:${t.id}:pay_old`)
        .run(),
    ).rejects.toThrow(/CHECK/);
    // A subdomain made before 0017 is a free one.
    expect(await mdb.prepare("SELECT paid FROM email_subdomains WHERE name = 'before'").first("paid")).toBe(
      0,
    );
  });

  it("seeds the packs, the subdomain plans and the trial as the design prices them", async () => {
    expect(
      (await listCreditPacks(db(), "INR")).map((p) => [p.id, p.credits, p.amount, p.active, p.sort]),
    ).toEqual([
      ["inr-100", 100, 49900, true, 1],
      ["inr-500", 500, 199900, true, 2],
      ["inr-2000", 2000, 699900, true, 3],
    ]);
    expect((await listCreditPacks(db(), "USD")).map((p) => [p.id, p.credits, p.amount])).toEqual([
      ["usd-100", 100, 900],
      ["usd-500", 500, 2900],
      ["usd-2000", 2000, 9900],
    ]);
    expect(await getSubdomainPlan(db(), "INR")).toMatchObject({ amount: 49900, razorpayPlanId: null });
    expect(await getSubdomainPlan(db(), "USD")).toMatchObject({ amount: 900, razorpayPlanId: null });
    expect(await getTrialSettings(db())).toMatchObject({ credits: 50, days: 30 });
  });
});

describe("a captured payment grants exactly once", () => {
  it("10 concurrent webhook copies plus the Checkout callback: one grant, one ledger row, one payment", async () => {
    const { tenantId, order, capture } = await tenantWithOrder();
    const results = await Promise.all([
      ...Array.from({ length: 10 }, () => recordCapturedPayment(db(), capture)),
      // The handler path: same payment, the method as Razorpay's payment fetch reports it.
      recordCapturedPayment(db(), { ...capture, method: "card" }),
    ]);
    expect(results.filter((r) => r.applied)).toHaveLength(1);
    expect(await ledgerRows(tenantId, capture.paymentId)).toEqual([
      { delta: 100, reason: "purchase", lot_id: `lot:${tenantId}:${capture.paymentId}` },
    ]);
    expect(await creditBalance(db(), tenantId)).toBe(100);
    expect(await scalar("SELECT COUNT(*) FROM credit_lots WHERE tenant_id = ?", tenantId)).toBe(1);
    expect(await scalar("SELECT COUNT(*) FROM payments WHERE tenant_id = ?", tenantId)).toBe(1);
    expect(await getOrder(db(), tenantId, order.id)).toMatchObject({ status: "paid" });
    expect(await getPayment(db(), capture.paymentId)).toMatchObject({
      tenantId,
      orderId: order.id,
      kind: "credits",
      credits: 100,
      amount: 49900,
      currency: "INR",
      status: "captured",
      amountRefunded: 0,
      creditsTakenBack: 0,
    });
    // And again later (a replayed webhook): nothing more.
    expect(await recordCapturedPayment(db(), capture)).toEqual({ applied: false });
    expect(await creditBalance(db(), tenantId)).toBe(100);
  });

  it("is one batch: the payment, the order, the lot and the ledger row together (no read first)", async () => {
    const { capture } = await tenantWithOrder();
    const counting = countingDb();
    expect(await recordCapturedPayment(counting.db, capture)).toEqual({ applied: true });
    expect(counting.statements.map((s) => /^\s*(\w+ (?:OR IGNORE )?\w+ \w+)/.exec(s)?.[1])).toEqual([
      "INSERT INTO payments",
      "UPDATE orders SET",
      "INSERT OR IGNORE INTO credit_lots",
      "INSERT INTO credit_ledger",
    ]);
  });

  it("two different payments of two orders are two grants", async () => {
    const a = await tenantWithOrder();
    const pack = (await getCreditPack(db(), "inr-500"))!;
    const second = await insertOrder(db(), {
      id: newId("ord"),
      tenantId: a.tenantId,
      packId: pack.id,
      credits: pack.credits,
      amount: pack.amount,
      currency: pack.currency,
      razorpayOrderId: newId("order"),
    });
    await recordCapturedPayment(db(), a.capture);
    const r = await recordCapturedPayment(db(), {
      ...a.capture,
      orderId: second.id,
      paymentId: newId("pay"),
      credits: second.credits,
      amount: second.amount,
    });
    expect(r).toEqual({ applied: true });
    expect(await creditBalance(db(), a.tenantId)).toBe(600);
  });

  it("grants nothing for another tenant's order, or credits and amount other than the order's, and says so", async () => {
    const { tenantId, capture } = await tenantWithOrder();
    const other = (await newTenant()).id;
    for (const wrong of [
      { ...capture, tenantId: other },
      { ...capture, credits: 2000 },
      { ...capture, amount: 100 },
      { ...capture, currency: "USD" as const },
      { ...capture, orderId: "ord_unknown" },
    ]) {
      await expect(recordCapturedPayment(db(), wrong)).rejects.toMatchObject({ code: "order_mismatch" });
    }
    expect(await creditBalance(db(), tenantId)).toBe(0);
    expect(await creditBalance(db(), other)).toBe(0);
    expect(await scalar("SELECT COUNT(*) FROM payments WHERE id = ?", capture.paymentId)).toBe(0);
    expect(await scalar("SELECT COUNT(*) FROM credit_lots WHERE tenant_id IN (?, ?)", tenantId, other)).toBe(
      0,
    );
    // The genuine one still grants afterwards.
    expect(await recordCapturedPayment(db(), capture)).toEqual({ applied: true });
  });

  it("a failed payment later captured grants; a failure after the capture changes nothing", async () => {
    const { tenantId, order, capture } = await tenantWithOrder();
    expect(await markOrderFailed(db(), order.id, { paymentId: capture.paymentId, method: "upi" })).toEqual({
      changed: true,
    });
    expect(await getOrder(db(), tenantId, order.id)).toMatchObject({ status: "failed" });
    expect(await getPayment(db(), capture.paymentId)).toMatchObject({ status: "failed", credits: 100 });
    expect(await creditBalance(db(), tenantId)).toBe(0);

    // The UPI retry succeeds: the same payment id is captured.
    expect(await recordCapturedPayment(db(), capture)).toEqual({ applied: true });
    expect(await getOrder(db(), tenantId, order.id)).toMatchObject({ status: "paid" });
    expect(await getPayment(db(), capture.paymentId)).toMatchObject({ status: "captured" });
    expect(await creditBalance(db(), tenantId)).toBe(100);

    // A late payment.failed (another attempt, or the same one replayed) never undoes the capture.
    expect(await markOrderFailed(db(), order.id, { paymentId: capture.paymentId, method: "upi" })).toEqual({
      changed: false,
    });
    expect(await markOrderFailed(db(), order.id, { paymentId: newId("pay"), method: null })).toEqual({
      changed: false,
    });
    expect(await getOrder(db(), tenantId, order.id)).toMatchObject({ status: "paid" });
    expect(await getPayment(db(), capture.paymentId)).toMatchObject({ status: "captured" });
    expect(await creditBalance(db(), tenantId)).toBe(100);
  });

  it("a failed attempt and a captured one with another payment id: the capture grants", async () => {
    const { tenantId, order, capture } = await tenantWithOrder();
    const failedId = newId("pay");
    await markOrderFailed(db(), order.id, { paymentId: failedId, method: "card" });
    expect(await recordCapturedPayment(db(), capture)).toEqual({ applied: true });
    expect(await getPayment(db(), failedId)).toMatchObject({ status: "failed" });
    expect(await creditBalance(db(), tenantId)).toBe(100);
  });
});

describe("refunds take back only unspent credits", () => {
  async function paid(packId = "inr-100") {
    const t = await tenantWithOrder(packId);
    await recordCapturedPayment(db(), t.capture);
    return t;
  }
  const refund = (t: Awaited<ReturnType<typeof paid>>, refundAmount: number, refundId = newId("rfnd")) =>
    takeBackRefund(db(), { tenantId: t.tenantId, paymentId: t.capture.paymentId, refundId, refundAmount });

  it("a full refund after half the credits were spent takes back only the unspent half; the balance never goes negative", async () => {
    const t = await paid();
    await spend(t.tenantId, 50);
    expect(await creditBalance(db(), t.tenantId)).toBe(50);
    const refundId = newId("rfnd");
    expect(await refund(t, 49900, refundId)).toEqual({ applied: true, creditsTakenBack: 50 });
    expect(await creditBalance(db(), t.tenantId)).toBe(0);
    expect(await lotRemaining(t.tenantId, t.capture.paymentId)).toBe(0);
    expect(await ledgerRows(t.tenantId, refundId)).toEqual([
      { delta: -50, reason: "refund", lot_id: `lot:${t.tenantId}:${t.capture.paymentId}` },
    ]);
    expect(await getPayment(db(), t.capture.paymentId)).toMatchObject({
      status: "refunded",
      amountRefunded: 49900,
      creditsTakenBack: 50,
    });
    expect(
      await rows("SELECT amount, credits_taken_back AS taken FROM refunds WHERE id = ?", refundId),
    ).toEqual([{ amount: 49900, taken: 50 }]);
    expect(await scalar("SELECT MIN(remaining) FROM credit_lots WHERE tenant_id = ?", t.tenantId)).toBe(0);
    // The page shows it as a refund entry.
    const { entries } = await listLedgerPage(db(), t.tenantId);
    expect(entries[0]).toMatchObject({ reason: "refund", delta: -50, reference: refundId });
  });

  it("takes back only from that payment's lot: other credits (the trial, another pack) stay", async () => {
    const t = await paid();
    await grantTrialCredits(db(), t.tenantId);
    await grantCredits(db(), { tenantId: t.tenantId, amount: 7, source: "purchase", reference: "pay_other" });
    expect(await creditBalance(db(), t.tenantId)).toBe(157);
    // The trial (soonest expiry) is spent first: 57 spent leaves the pack's 100 untouched... then 43 of it.
    await spend(t.tenantId, 100);
    expect(await creditBalance(db(), t.tenantId)).toBe(57);
    const remainingOfPack = await lotRemaining(t.tenantId, t.capture.paymentId);
    const r = await refund(t, 49900);
    expect(r.creditsTakenBack).toBe(remainingOfPack);
    expect(await creditBalance(db(), t.tenantId)).toBe(57 - remainingOfPack);
    expect(await lotRemaining(t.tenantId, "pay_other")).toBeGreaterThanOrEqual(0);
  });

  it("everything spent: a refund takes back nothing and writes no ledger row, but is recorded", async () => {
    const t = await paid();
    await spend(t.tenantId, 100);
    const refundId = newId("rfnd");
    expect(await refund(t, 49900, refundId)).toEqual({ applied: true, creditsTakenBack: 0 });
    expect(await ledgerRows(t.tenantId, refundId)).toEqual([]);
    expect(await creditBalance(db(), t.tenantId)).toBe(0);
    expect(await getPayment(db(), t.capture.paymentId)).toMatchObject({
      status: "refunded",
      creditsTakenBack: 0,
    });
    expect(await scalar("SELECT COUNT(*) FROM refunds WHERE id = ?", refundId)).toBe(1);
  });

  it("a partial refund takes back proportionally, never more than remains", async () => {
    const t = await paid();
    // A quarter refunded, nothing spent: a quarter of the credits.
    expect(await refund(t, 12475)).toEqual({ applied: true, creditsTakenBack: 25 });
    expect(await getPayment(db(), t.capture.paymentId)).toMatchObject({
      status: "partially_refunded",
      amountRefunded: 12475,
      creditsTakenBack: 25,
    });
    // 70 of the 75 left are spent; half the amount refunded now is worth 50 credits, only 5 remain.
    await spend(t.tenantId, 70);
    expect(await refund(t, 24950)).toEqual({ applied: true, creditsTakenBack: 5 });
    expect(await creditBalance(db(), t.tenantId)).toBe(0);
    expect(await getPayment(db(), t.capture.paymentId)).toMatchObject({
      status: "partially_refunded",
      amountRefunded: 37425,
      creditsTakenBack: 30,
    });
    // The last quarter: nothing left to take.
    expect(await refund(t, 12475)).toEqual({ applied: true, creditsTakenBack: 0 });
    expect(await getPayment(db(), t.capture.paymentId)).toMatchObject({
      status: "refunded",
      amountRefunded: 49900,
    });
  });

  it("refunds in thirds, nothing spent: 33 + 33 + 34, exactly the pack at the full refund", async () => {
    const t = await paid();
    const taken = [];
    for (const part of [16633, 16633, 16634]) taken.push((await refund(t, part)).creditsTakenBack);
    expect(taken).toEqual([33, 33, 34]);
    expect(await creditBalance(db(), t.tenantId)).toBe(0);
    expect(await getPayment(db(), t.capture.paymentId)).toMatchObject({
      status: "refunded",
      creditsTakenBack: 100,
    });
  });

  it("a refund recorded twice (and five times at once) applies once", async () => {
    const t = await paid();
    const refundId = newId("rfnd");
    const results = [await refund(t, 24950, refundId)];
    results.push(...(await Promise.all(Array.from({ length: 5 }, () => refund(t, 24950, refundId)))));
    expect(results.filter((r) => r.applied)).toHaveLength(1);
    expect(results.map((r) => r.creditsTakenBack)).toEqual([50, 0, 0, 0, 0, 0]);
    expect(await creditBalance(db(), t.tenantId)).toBe(50);
    expect(await ledgerRows(t.tenantId, refundId)).toHaveLength(1);
    expect(await scalar("SELECT COUNT(*) FROM refunds WHERE payment_id = ?", t.capture.paymentId)).toBe(1);
    expect(await getPayment(db(), t.capture.paymentId)).toMatchObject({
      amountRefunded: 24950,
      creditsTakenBack: 50,
    });
  });

  it("a refund naming another tenant's payment, or an unknown one, changes nothing", async () => {
    const t = await paid();
    const other = (await newTenant()).id;
    expect(
      await takeBackRefund(db(), {
        tenantId: other,
        paymentId: t.capture.paymentId,
        refundId: newId("rfnd"),
        refundAmount: 49900,
      }),
    ).toEqual({ applied: false, creditsTakenBack: 0 });
    expect(
      await takeBackRefund(db(), {
        tenantId: t.tenantId,
        paymentId: "pay_none",
        refundId: "rfnd_n",
        refundAmount: 1,
      }),
    ).toEqual({ applied: false, creditsTakenBack: 0 });
    expect(await creditBalance(db(), t.tenantId)).toBe(100);
    expect(await getPayment(db(), t.capture.paymentId)).toMatchObject({
      status: "captured",
      amountRefunded: 0,
    });
  });

  it("a refund of a subscription charge is recorded, and takes back no credits", async () => {
    const tenantId = (await newTenant()).id;
    const paymentId = newId("pay");
    await recordSubscriptionPayment(db(), {
      tenantId,
      subscriptionId: newId("sub"),
      paymentId,
      amount: 49900,
      currency: "INR",
      method: "card",
    });
    expect(
      await takeBackRefund(db(), { tenantId, paymentId, refundId: newId("rfnd"), refundAmount: 49900 }),
    ).toEqual({ applied: true, creditsTakenBack: 0 });
    expect(await getPayment(db(), paymentId)).toMatchObject({ kind: "subscription", status: "refunded" });
  });
});

describe("trial credits", () => {
  it("apply once per tenant (however often asked, even at once) and expire after the trial's days", async () => {
    const tenantId = (await newTenant()).id;
    const now = Date.now();
    const results = await Promise.all(
      Array.from({ length: 5 }, () => grantTrialCredits(db(), tenantId, now)),
    );
    expect(results.filter((r) => r.applied)).toEqual([
      { applied: true, credits: 50, expiresAt: now + 30 * DAY },
    ]);
    expect(await grantTrialCredits(db(), tenantId, now + DAY)).toEqual({
      applied: false,
      credits: 0,
      expiresAt: null,
    });
    expect(await ledgerRows(tenantId, "trial")).toEqual([
      { delta: 50, reason: "grant", lot_id: `lot:${tenantId}:trial` },
    ]);
    expect(await rows("SELECT source FROM credit_lots WHERE tenant_id = ?", tenantId)).toEqual([
      { source: "grant" },
    ]);
    expect(await creditBalance(db(), tenantId, now + 30 * DAY - 1)).toBe(50);
    expect(await creditBalance(db(), tenantId, now + 30 * DAY)).toBe(0);
    expect(await debitCredit(db(), tenantId, "late", now + 31 * DAY)).toEqual({ ok: false });
  });

  it("follow the settings for tenants created later; 0 credits is no trial; an unknown tenant gets nothing", async () => {
    await setTrialSettings(db(), { credits: 20, days: 7 });
    try {
      const a = (await newTenant()).id;
      expect(await grantTrialCredits(db(), a, 1_000)).toEqual({
        applied: true,
        credits: 20,
        expiresAt: 1_000 + 7 * DAY,
      });
      await setTrialSettings(db(), { credits: 0, days: 7 });
      const b = (await newTenant()).id;
      expect((await grantTrialCredits(db(), b)).applied).toBe(false);
      expect(await creditBalance(db(), b)).toBe(0);
      expect((await grantTrialCredits(db(), "t_unknown")).applied).toBe(false);
      await expect(setTrialSettings(db(), { credits: -1, days: 7 })).rejects.toMatchObject({
        code: "invalid_trial",
      });
      // The panel's statement: the trial it is already changes no row (no audit row follows).
      expect((await setTrialSettingsStatement(db(), { credits: 0, days: 7 }, 5).run()).meta.changes).toBe(0);
      expect((await setTrialSettingsStatement(db(), { credits: 0, days: 8 }, 5).run()).meta.changes).toBe(1);
    } finally {
      await setTrialSettings(db(), { credits: 50, days: 30 });
    }
  });
});

describe("webhook event ids", () => {
  it("are fresh exactly once, even when ten copies arrive at once", async () => {
    const id = newId("evt");
    const results = await Promise.all(
      Array.from({ length: 10 }, () => recordWebhookEvent(db(), id, "payment.captured")),
    );
    expect(results.filter((r) => r.fresh)).toHaveLength(1);
    expect(await recordWebhookEvent(db(), id, "payment.captured")).toEqual({ fresh: false });
  });

  it("a forgotten id (processing failed) is fresh again for Razorpay's retry", async () => {
    const id = newId("evt");
    await recordWebhookEvent(db(), id, "refund.processed");
    await forgetWebhookEvent(db(), id);
    expect(await recordWebhookEvent(db(), id, "refund.processed")).toEqual({ fresh: true });
  });

  it("the purge removes only ids received before the cut-off, a bounded number at a time", async () => {
    const old = [newId("evt"), newId("evt"), newId("evt")];
    for (const [i, id] of old.entries()) await recordWebhookEvent(db(), id, "x", 1_000 + i);
    const recent = newId("evt");
    await recordWebhookEvent(db(), recent, "x", 5_000);
    expect(await purgeWebhookEvents(db(), 2_000, 2)).toBe(2);
    expect(await purgeWebhookEvents(db(), 2_000, 2)).toBe(1);
    expect(await purgeWebhookEvents(db(), 2_000, 2)).toBe(0);
    expect(await recordWebhookEvent(db(), recent, "x")).toEqual({ fresh: false });
    expect(await recordWebhookEvent(db(), old[0]!, "x")).toEqual({ fresh: true });
  });
});

describe("subscriptions", () => {
  const T = 1_800_000_000_000;
  const base = (tenantId: string, id = newId("sub")) => ({
    id,
    tenantId,
    quantity: 2,
    amount: 99800,
    currency: "INR" as const,
    currentEnd: null,
  });

  it("an older event never undoes a newer state, in any arrival order", async () => {
    const tenantId = (await newTenant()).id;
    const s = base(tenantId);
    await upsertSubscription(db(), { ...s, status: "created", at: T });
    await upsertSubscription(db(), { ...s, status: "active", at: T + 10_000, currentEnd: T + 30 * DAY });
    // subscription.halted arrives, then the older subscription.pending (reordered) and a replayed activation.
    expect((await upsertSubscription(db(), { ...s, status: "halted", at: T + 20_000 })).status).toBe(
      "halted",
    );
    expect((await upsertSubscription(db(), { ...s, status: "pending", at: T + 15_000 })).status).toBe(
      "halted",
    );
    expect((await upsertSubscription(db(), { ...s, status: "active", at: T + 10_000 })).status).toBe(
      "halted",
    );
    // Paying again is newer: active.
    const back = await upsertSubscription(db(), { ...s, status: "active", at: T + 40_000 });
    expect(back).toMatchObject({
      status: "active",
      updatedAt: T + 40_000,
      currentEnd: T + 30 * DAY,
      createdAt: T,
    });
  });

  it("never goes back to created, never leaves cancelled, and another tenant cannot touch it", async () => {
    const tenantId = (await newTenant()).id;
    const s = base(tenantId);
    await upsertSubscription(db(), { ...s, status: "authenticated", at: T });
    expect((await upsertSubscription(db(), { ...s, status: "created", at: T + 1_000 })).status).toBe(
      "authenticated",
    );
    await upsertSubscription(db(), { ...s, status: "cancelled", at: T + 2_000 });
    expect((await upsertSubscription(db(), { ...s, status: "active", at: T + 9_000 })).status).toBe(
      "cancelled",
    );
    const other = (await newTenant()).id;
    await expect(
      upsertSubscription(db(), { ...s, tenantId: other, status: "active", at: T + 9_000 }),
    ).rejects.toMatchObject({ code: "not_found" });
    expect(await getSubscription(db(), s.id, other)).toBeNull();
    expect((await getSubscription(db(), s.id, tenantId))?.status).toBe("cancelled");
  });

  it("events of the same second apply in arrival order (Razorpay's times are whole seconds)", async () => {
    const tenantId = (await newTenant()).id;
    const s = base(tenantId);
    // Our own record at creation carries milliseconds; Razorpay's first event the same second does not.
    await upsertSubscription(db(), { ...s, status: "created", at: T + 700 });
    expect((await upsertSubscription(db(), { ...s, status: "authenticated", at: T })).status).toBe(
      "authenticated",
    );
    expect((await getSubscription(db(), s.id))?.updatedAt).toBe(T + 700);
  });

  it("the current subscription is the live one; coverage counts the statuses the caller names", async () => {
    const tenantId = (await newTenant()).id;
    const old = base(tenantId);
    await upsertSubscription(db(), { ...old, status: "cancelled", at: T + 50_000 });
    expect((await getCurrentSubscription(db(), tenantId))?.id).toBe(old.id);
    const live = base(tenantId);
    await upsertSubscription(db(), { ...live, quantity: 3, status: "active", at: T });
    expect((await getCurrentSubscription(db(), tenantId))?.id).toBe(live.id);
    expect(await subdomainCoverage(db(), tenantId, ["active", "authenticated"])).toEqual({
      quota: 3,
      subdomains: 0,
      paid: 0,
      covered: 3,
    });
    expect((await subdomainCoverage(db(), tenantId, ["authenticated"])).covered).toBe(0);
    expect(await getCurrentSubscription(db(), (await newTenant()).id)).toBeNull();
  });
});

describe("prices and orders", () => {
  it("a price change does not change an existing order, nor what its payment grants", async () => {
    const { tenantId, order, capture } = await tenantWithOrder("usd-100");
    await saveCreditPack(db(), {
      id: "usd-100",
      currency: "USD",
      credits: 80,
      amount: 1200,
      active: true,
      sort: 1,
    });
    try {
      expect(await getCreditPack(db(), "usd-100")).toMatchObject({ credits: 80, amount: 1200 });
      expect(await getOrder(db(), tenantId, order.id)).toEqual(order);
      expect(order).toMatchObject({ credits: 100, amount: 900, currency: "USD" });
      // The payment is for the order as it was; the pack's new values grant nothing.
      await expect(
        recordCapturedPayment(db(), { ...capture, credits: 80, amount: 1200 }),
      ).rejects.toMatchObject({ code: "order_mismatch" });
      expect(await recordCapturedPayment(db(), capture)).toEqual({ applied: true });
      expect(await creditBalance(db(), tenantId)).toBe(100);
    } finally {
      await saveCreditPack(db(), {
        id: "usd-100",
        currency: "USD",
        credits: 100,
        amount: 900,
        active: true,
        sort: 1,
      });
    }
  });

  it("an inactive pack is not offered but still found by id (its orders stay valid)", async () => {
    await saveCreditPack(db(), {
      id: "inr-old",
      currency: "INR",
      credits: 10,
      amount: 5000,
      active: false,
      sort: 0,
    });
    expect((await listCreditPacks(db(), "INR")).map((p) => p.id)).not.toContain("inr-old");
    expect((await listAllCreditPacks(db(), "INR")).map((p) => p.id)).toContain("inr-old");
    expect(await getCreditPack(db(), "inr-old")).toMatchObject({ active: false });
    await expect(
      saveCreditPack(db(), { id: "cheap", currency: "INR", credits: 1, amount: 99, active: true, sort: 0 }),
    ).rejects.toMatchObject({ code: "invalid_pack" });
  });

  it("the panel's saves: a new pack never overwrites one; an edit changes only an existing pack, in its currency, when something differs", async () => {
    const pack = {
      id: "inr-panel",
      currency: "INR" as const,
      credits: 40,
      amount: 19900,
      active: true,
      sort: 7,
    };
    const insert = (p: typeof pack) => insertCreditPackStatement(db(), p, 1).run();
    const update = (p: typeof pack) => updateCreditPackStatement(db(), p, 2).run();
    expect((await insert(pack)).meta.changes).toBe(1);
    // The same id again as a new pack: nothing, the first stays.
    expect((await insert({ ...pack, credits: 1, amount: 100 })).meta.changes).toBe(0);
    expect(await getCreditPack(db(), "inr-panel")).toMatchObject({ credits: 40, amount: 19900 });
    // An edit that changes nothing, one of an unknown pack, and one into another currency: nothing.
    expect((await update(pack)).meta.changes).toBe(0);
    expect((await update({ ...pack, id: "inr-nobody" })).meta.changes).toBe(0);
    expect(await getCreditPack(db(), "inr-nobody")).toBeNull();
    expect((await update({ ...pack, currency: "USD" as "INR", amount: 500 })).meta.changes).toBe(0);
    expect(await getCreditPack(db(), "inr-panel")).toMatchObject({ currency: "INR", amount: 19900 });
    // Each field on its own is a change.
    for (const changed of [{ credits: 41 }, { amount: 20900 }, { active: false }, { sort: 8 }]) {
      expect((await update({ ...pack, ...changed })).meta.changes, JSON.stringify(changed)).toBe(1);
      expect(await getCreditPack(db(), "inr-panel")).toMatchObject(changed);
      await update(pack);
    }
    expect(() => insertCreditPackStatement(db(), { ...pack, amount: 99 }, 1)).toThrow(/at least 100/);
    expect(() => updateCreditPackStatement(db(), { ...pack, credits: 0 }, 1)).toThrow(/at least 100/);
  });

  it("orders are found by our id only for their tenant, and by Razorpay's id", async () => {
    const { tenantId, order } = await tenantWithOrder();
    expect(await getOrder(db(), (await newTenant()).id, order.id)).toBeNull();
    expect(await getOrderByRazorpayId(db(), order.razorpayOrderId)).toEqual(order);
    expect(order).toMatchObject({ tenantId, status: "created", packId: "inr-100" });
    expect(await getOrderByRazorpayId(db(), "order_unknown")).toBeNull();
    // Razorpay's order id is unique.
    await expect(
      insertOrder(db(), { ...order, id: newId("ord"), razorpayOrderId: order.razorpayOrderId }),
    ).rejects.toThrow(/UNIQUE/);
  });

  it("the subdomain plan: the first stored Razorpay plan wins; a new price forgets it", async () => {
    expect(await setSubdomainPlanId(db(), "INR", 49900, "plan_first")).toBe("plan_first");
    expect(await setSubdomainPlanId(db(), "INR", 49900, "plan_second")).toBe("plan_first");
    // A plan created at a price that changed meanwhile is not stored (it has the old price).
    expect(await setSubdomainPlanId(db(), "INR", 10000, "plan_stale")).toBe("plan_stale");
    const price = (amount: number) => setSubdomainPlanPriceStatement(db(), "INR", amount, 1).run();
    expect((await price(59900)).meta.changes).toBe(1);
    expect(await getSubdomainPlan(db(), "INR")).toMatchObject({ amount: 59900, razorpayPlanId: null });
    await price(49900);
    expect(await setSubdomainPlanId(db(), "INR", 49900, "plan_third")).toBe("plan_third");
    // The same price again keeps the plan and changes no row (no audit row follows).
    expect((await price(49900)).meta.changes).toBe(0);
    expect((await getSubdomainPlan(db(), "INR"))?.razorpayPlanId).toBe("plan_third");
  });
});

describe("payments page and receipts", () => {
  it("pages the tenant's payments newest first, by a cursor, and shows no other tenant's", async () => {
    const tenantId = (await newTenant()).id;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const id = `pay_${String(i).padStart(3, "0")}${tenantId.slice(-6)}`;
      ids.push(id);
      await recordSubscriptionPayment(
        db(),
        { tenantId, subscriptionId: "sub_x", paymentId: id, amount: 100 + i, currency: "INR", method: null },
        // Two share a millisecond: the id orders them.
        1_000 + Math.min(i, 3),
      );
    }
    await recordSubscriptionPayment(db(), {
      tenantId: (await newTenant()).id,
      subscriptionId: "sub_y",
      paymentId: newId("pay"),
      amount: 100,
      currency: "INR",
      method: null,
    });
    const seen: string[] = [];
    let before: string | null = null;
    for (let pages = 0; pages < 5; pages++) {
      const page: Awaited<ReturnType<typeof listPayments>> = await listPayments(db(), tenantId, {
        before,
        limit: 2,
      });
      expect(page.payments.length).toBeLessThanOrEqual(2);
      seen.push(...page.payments.map((p) => p.id));
      before = page.next;
      if (!before) break;
    }
    expect(seen).toEqual([...ids].reverse());
    expect((await listPayments(db(), tenantId, { before: "garbage" })).payments).toHaveLength(5);
  });

  it("a receipt carries the payment, its Razorpay order and the tenant's billing details; only for its tenant", async () => {
    const { tenantId, order, capture } = await tenantWithOrder();
    await recordCapturedPayment(db(), capture);
    const withoutDetails = await getPaymentReceipt(db(), tenantId, capture.paymentId);
    expect(withoutDetails).toMatchObject({
      razorpayOrderId: order.razorpayOrderId,
      quantity: null,
      details: null,
    });
    expect(
      await saveBillingDetails(db(), tenantId, {
        legalName: "Acme",
        address: "1 MG Road",
        gstin: "29ABCDE1234F1Z5",
      }),
    ).toBe(true);
    const receipt = await getPaymentReceipt(db(), tenantId, capture.paymentId);
    expect(receipt?.payment).toMatchObject({
      id: capture.paymentId,
      credits: 100,
      amount: 49900,
      method: "upi",
    });
    expect(receipt?.details).toMatchObject({
      legalName: "Acme",
      address: "1 MG Road",
      gstin: "29ABCDE1234F1Z5",
    });
    expect(await getPaymentReceipt(db(), (await newTenant()).id, capture.paymentId)).toBeNull();
    // Details are saved once and replaced, never duplicated; an unknown tenant saves nothing.
    await saveBillingDetails(db(), tenantId, { legalName: "Acme Ltd", address: "2 MG Road", gstin: null });
    expect(await getBillingDetails(db(), tenantId)).toMatchObject({ legalName: "Acme Ltd", gstin: null });
    expect(await saveBillingDetails(db(), "t_unknown", { legalName: "X", address: "Y", gstin: null })).toBe(
      false,
    );
  });

  it("a subscription charge's receipt names the subdomains it paid for", async () => {
    const tenantId = (await newTenant()).id;
    const sub = newId("sub");
    await upsertSubscription(db(), {
      id: sub,
      tenantId,
      status: "active",
      quantity: 2,
      amount: 99800,
      currency: "INR",
      currentEnd: null,
      at: 1,
    });
    const paymentId = newId("pay");
    const args = {
      tenantId,
      subscriptionId: sub,
      paymentId,
      amount: 99800,
      currency: "INR" as const,
      method: "card",
    };
    expect(await recordSubscriptionPayment(db(), args)).toEqual({ applied: true });
    expect(await recordSubscriptionPayment(db(), args)).toEqual({ applied: false });
    expect(await getPaymentReceipt(db(), tenantId, paymentId)).toMatchObject({
      razorpayOrderId: null,
      quantity: 2,
      payment: { kind: "subscription", credits: 0, subscriptionId: sub },
    });
  });
});

describe("email subdomains beyond the free quota", () => {
  const COVERING = ["active", "authenticated"] as const;
  const ALLOWS_AUTOMATIC = ["active", "authenticated", "pending"] as const;
  async function tenantWithQuota(quota: number) {
    const tenantId = (await newTenant()).id;
    await env.DB.prepare("UPDATE tenants SET email_subdomain_quota = ? WHERE id = ?")
      .bind(quota, tenantId)
      .run();
    return tenantId;
  }
  const add = (tenantId: string, name = `s${newId("n").slice(-12)}`) =>
    insertCoveredEmailSubdomain(
      db(),
      { accountId: newId("acc"), tenantId, name, domain: `${name}.cncg.test` },
      COVERING,
    );
  const subscribe = (
    tenantId: string,
    id: string,
    status: "active" | "halted" | "pending",
    at: number,
    quantity = 1,
  ) =>
    upsertSubscription(db(), {
      id,
      tenantId,
      status,
      quantity,
      amount: 49900 * quantity,
      currency: "INR",
      currentEnd: null,
      at,
    });

  it("up to the free quota for free; beyond it only as far as a covering subscription pays, marked paid", async () => {
    const tenantId = await tenantWithQuota(1);
    const free = await add(tenantId);
    expect(free.ok && free.subdomain.paid).toBe(false);
    expect(await add(tenantId)).toEqual({ ok: false, code: "quota_reached" });
    const sub = newId("sub");
    await subscribe(tenantId, sub, "pending", 1_000);
    // A subscription still retrying its charge allows no new paid subdomain.
    expect(await add(tenantId)).toEqual({ ok: false, code: "quota_reached" });
    await subscribe(tenantId, sub, "active", 2_000);
    const paid = await add(tenantId);
    expect(paid.ok && paid.subdomain.paid).toBe(true);
    expect(await add(tenantId)).toEqual({ ok: false, code: "quota_reached" });
    expect(await subdomainCoverage(db(), tenantId, COVERING)).toEqual({
      quota: 1,
      subdomains: 2,
      paid: 1,
      covered: 1,
    });
    expect(await add("t_unknown")).toEqual({ ok: false, code: "no_tenant" });
  });

  it("two created at once for one paid slot: exactly one gets it", async () => {
    const tenantId = await tenantWithQuota(0);
    await subscribe(tenantId, newId("sub"), "active", 1_000);
    const results = await Promise.all([add(tenantId), add(tenantId), add(tenantId)]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(await scalar("SELECT COUNT(*) FROM email_subdomains WHERE tenant_id = ?", tenantId)).toBe(1);
    expect(await scalar("SELECT COUNT(*) FROM channel_accounts WHERE tenant_id = ?", tenantId)).toBe(1);
  });

  it("a paid subdomain is automatic only while covered: halted stops it, charged again restores it; free ones always are", async () => {
    const tenantId = await tenantWithQuota(1);
    const sub = newId("sub");
    await subscribe(tenantId, sub, "active", 1_000);
    const free = await add(tenantId);
    const paid = await add(tenantId);
    if (!free.ok || !paid.ok) throw new Error("setup");
    const automatic = (accountId: string) => emailSubdomainAutomatic(db(), accountId, ALLOWS_AUTOMATIC);
    expect([await automatic(free.subdomain.accountId), await automatic(paid.subdomain.accountId)]).toEqual([
      true,
      true,
    ]);
    await subscribe(tenantId, sub, "pending", 2_000);
    expect(await automatic(paid.subdomain.accountId)).toBe(true);
    await subscribe(tenantId, sub, "halted", 3_000);
    expect([await automatic(free.subdomain.accountId), await automatic(paid.subdomain.accountId)]).toEqual([
      true,
      false,
    ]);
    await subscribe(tenantId, sub, "active", 4_000);
    expect(await automatic(paid.subdomain.accountId)).toBe(true);
    expect(await automatic("acc_unknown")).toBeNull();
  });
});
