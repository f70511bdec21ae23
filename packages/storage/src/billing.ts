/**
 * Money (PRODUCT.md §7, migrations/0017_billing.sql): prices, orders, payments, refunds,
 * subscriptions, webhook event ids and billing details. Every effect is idempotent by a key
 * Razorpay or we chose (the payment id as the ledger reference, the refund id, the event id), and
 * every multi-step change is one `db.batch` (one transaction), so a repeat, a race between the
 * Checkout callback and the webhook, or a crash midway can never grant, take back or record twice.
 * Credits and amounts always come from our own order record.
 */
import {
  AppError,
  type BillingDetails,
  type CreditPack,
  type Currency,
  type PaymentRecord,
  type PaymentStatus,
  type SubscriptionRecord,
  type SubscriptionStatus,
} from "@concierge/core";
import { creditLotId, grantLedgerStatement } from "./credits.ts";

export type { BillingDetails, CreditPack, Currency, PaymentRecord, PaymentStatus, SubscriptionRecord };

const DAY = 86_400_000;

const isWhole = (n: number, min: number) => Number.isInteger(n) && n >= min;

// ---------------------------------------------------------------------------------------------
// Prices: packs, the subdomain plan, trial credits (data, seeded by the migration, edited in /manage)

const PACK_COLUMNS = "id, currency, credits, amount, active, sort";
type PackRow = Omit<CreditPack, "active"> & { active: number };
const toPack = (r: PackRow): CreditPack => ({ ...r, active: r.active === 1 });

/** The active packs offered in a currency, in display order. */
export async function listCreditPacks(db: D1Database, currency: Currency): Promise<CreditPack[]> {
  const { results } = await db
    .prepare(
      `SELECT ${PACK_COLUMNS} FROM credit_packs WHERE currency = ? AND active = 1 ORDER BY sort, id LIMIT 50`,
    )
    .bind(currency)
    .all<PackRow>();
  return results.map(toPack);
}

/** Every pack of a currency, inactive ones included (the /manage panel). */
export async function listAllCreditPacks(db: D1Database, currency: Currency): Promise<CreditPack[]> {
  const { results } = await db
    .prepare(
      `SELECT ${PACK_COLUMNS} FROM credit_packs WHERE currency = ? ORDER BY active DESC, sort, id LIMIT 200`,
    )
    .bind(currency)
    .all<PackRow>();
  return results.map(toPack);
}

/** One pack by id, active or not; null if unknown. Callers check `active` and the currency. */
export async function getCreditPack(db: D1Database, id: string): Promise<CreditPack | null> {
  const row = await db
    .prepare(`SELECT ${PACK_COLUMNS} FROM credit_packs WHERE id = ?`)
    .bind(id)
    .first<PackRow>();
  return row ? toPack(row) : null;
}

/**
 * Creates or replaces a pack as given, whatever was stored under its id: for seeding prices
 * (tests, the local stack). The /manage panel saves through the pipeline with
 * insertCreditPackStatement or updateCreditPackStatement instead, which never overwrite by mistake.
 */
export async function saveCreditPack(db: D1Database, pack: CreditPack, now = Date.now()): Promise<void> {
  assertPack(pack);
  await db
    .prepare(
      `INSERT INTO credit_packs (id, currency, credits, amount, active, sort, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET currency = excluded.currency, credits = excluded.credits,
         amount = excluded.amount, active = excluded.active, sort = excluded.sort, updated_at = excluded.updated_at`,
    )
    .bind(pack.id, pack.currency, pack.credits, pack.amount, pack.active ? 1 : 0, pack.sort, now)
    .run();
}

function assertPack(pack: CreditPack): void {
  if (!isWhole(pack.credits, 1) || !isWhole(pack.amount, 100) || !Number.isInteger(pack.sort)) {
    throw new AppError(
      400,
      "invalid_pack",
      "A pack needs whole credits above 0 and an amount of at least 100.",
    );
  }
}

/**
 * A new pack, for a batch with its audit row: nothing when a pack has this id already (it is
 * never overwritten by typing its id), so `changes` says whether it was added. Throws on an
 * invalid pack.
 */
export function insertCreditPackStatement(
  db: D1Database,
  pack: CreditPack,
  now: number,
): D1PreparedStatement {
  assertPack(pack);
  return db
    .prepare(
      `INSERT INTO credit_packs (id, currency, credits, amount, active, sort, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO NOTHING`,
    )
    .bind(pack.id, pack.currency, pack.credits, pack.amount, pack.active ? 1 : 0, pack.sort, now);
}

/**
 * Reprices an existing pack (or turns it on or off), for a batch with its audit row. Only a pack
 * of this id in this currency (a pack never moves to another currency: its orders and its place
 * on the pricing page stay where they are), and only when something differs, so `changes` is 0
 * for an unknown pack, another currency, or a save that changes nothing. Orders already created
 * keep their own copy of credits and amount. Throws on an invalid pack.
 */
export function updateCreditPackStatement(
  db: D1Database,
  pack: CreditPack,
  now: number,
): D1PreparedStatement {
  assertPack(pack);
  const active = pack.active ? 1 : 0;
  return db
    .prepare(
      `UPDATE credit_packs SET credits = ?, amount = ?, active = ?, sort = ?, updated_at = ?
        WHERE id = ? AND currency = ? AND (credits <> ? OR amount <> ? OR active <> ? OR sort <> ?)`,
    )
    .bind(
      pack.credits,
      pack.amount,
      active,
      pack.sort,
      now,
      pack.id,
      pack.currency,
      pack.credits,
      pack.amount,
      active,
      pack.sort,
    );
}

export type SubdomainPlan = {
  currency: Currency;
  /** Per extra subdomain per month, minor units. */
  amount: number;
  /** The Razorpay plan at this price; null until first used. */
  razorpayPlanId: string | null;
  updatedAt: number;
};

/** The email-subdomain plan of a currency; null if there is none. */
export async function getSubdomainPlan(db: D1Database, currency: Currency): Promise<SubdomainPlan | null> {
  return db
    .prepare(
      `SELECT currency, amount, razorpay_plan_id AS razorpayPlanId, updated_at AS updatedAt
         FROM subdomain_plans WHERE currency = ?`,
    )
    .bind(currency)
    .first<SubdomainPlan>();
}

/**
 * Stores the Razorpay plan just created for this currency at `amount`, unless one is stored
 * already (two first uses at once: the first stored wins) or the price changed meanwhile (the plan
 * is then not stored: it has the old price). Returns the plan id to use now.
 */
export async function setSubdomainPlanId(
  db: D1Database,
  currency: Currency,
  amount: number,
  razorpayPlanId: string,
  now = Date.now(),
): Promise<string> {
  const [, read] = await db.batch([
    db
      .prepare(
        `UPDATE subdomain_plans SET razorpay_plan_id = ?, updated_at = ?
          WHERE currency = ? AND amount = ? AND razorpay_plan_id IS NULL`,
      )
      .bind(razorpayPlanId, now, currency, amount),
    db
      .prepare("SELECT razorpay_plan_id AS id FROM subdomain_plans WHERE currency = ? AND amount = ?")
      .bind(currency, amount),
  ]);
  const stored = (read?.results[0] as { id: string | null } | undefined)?.id;
  return stored ?? razorpayPlanId;
}

/**
 * A new monthly price for extra subdomains (the /manage panel), for a batch with its audit row.
 * Razorpay plans cannot change, so a new price forgets the stored plan: the next subscription
 * creates one at this price; existing subscriptions keep their own amount. The same price changes
 * no row (the stored plan stays valid). Throws on an invalid amount.
 */
export function setSubdomainPlanPriceStatement(
  db: D1Database,
  currency: Currency,
  amount: number,
  now: number,
): D1PreparedStatement {
  if (!isWhole(amount, 100)) throw new AppError(400, "invalid_amount", "The amount must be at least 100.");
  return db
    .prepare(
      `INSERT INTO subdomain_plans (currency, amount, razorpay_plan_id, updated_at) VALUES (?, ?, NULL, ?)
       ON CONFLICT (currency) DO UPDATE SET amount = excluded.amount, razorpay_plan_id = NULL,
         updated_at = excluded.updated_at
        WHERE subdomain_plans.amount <> excluded.amount`,
    )
    .bind(currency, amount, now);
}

export type TrialSettings = { credits: number; days: number; updatedAt: number };

/** What every new tenant gets: `credits` expiring after `days` (0 credits: no trial). */
export async function getTrialSettings(db: D1Database): Promise<TrialSettings> {
  const row = await db
    .prepare("SELECT credits, days, updated_at AS updatedAt FROM trial_credits WHERE id = 1")
    .first<TrialSettings>();
  return row ?? { credits: 0, days: 30, updatedAt: 0 };
}

/**
 * Changes the trial for tenants created from now on, as given: for seeding (tests). The /manage
 * panel saves through the pipeline with setTrialSettingsStatement and its audit row.
 */
export async function setTrialSettings(
  db: D1Database,
  settings: { credits: number; days: number },
  now = Date.now(),
): Promise<void> {
  await setTrialSettingsStatement(db, settings, now).run();
}

/**
 * setTrialSettings as a statement, for a batch with its audit row: no row changes when the
 * credits and days are what they are already, so a repeated save records nothing. Throws on
 * invalid settings.
 */
export function setTrialSettingsStatement(
  db: D1Database,
  settings: { credits: number; days: number },
  now: number,
): D1PreparedStatement {
  if (!isWhole(settings.credits, 0) || !isWhole(settings.days, 1) || settings.days > 3650) {
    throw new AppError(400, "invalid_trial", "Trial credits are a whole number; days from 1 to 3650.");
  }
  return db
    .prepare(
      `INSERT INTO trial_credits (id, credits, days, updated_at) VALUES (1, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET credits = excluded.credits, days = excluded.days, updated_at = excluded.updated_at
        WHERE trial_credits.credits <> excluded.credits OR trial_credits.days <> excluded.days`,
    )
    .bind(settings.credits, settings.days, now);
}

/** The trial lot's ledger reference: one per tenant, ever. */
export const TRIAL_REFERENCE = "trial";

/**
 * Grants the trial credits (as set now) to a new tenant: a `grant` lot expiring after the trial's
 * days, ledger reference `trial`, so it applies once per tenant however often this is called.
 * One batch; `applied` is true only for the call that granted.
 */
export async function grantTrialCredits(
  db: D1Database,
  tenantId: string,
  now = Date.now(),
): Promise<{ applied: boolean; credits: number; expiresAt: number | null }> {
  const lotId = creditLotId(tenantId, TRIAL_REFERENCE);
  const [lot, ledger] = await db.batch([
    db
      .prepare(
        `INSERT OR IGNORE INTO credit_lots (id, tenant_id, source, granted, remaining, expires_at, created_at)
         SELECT ?, t.id, 'grant', c.credits, 0, ? + c.days * ${DAY}, ?
           FROM tenants t, trial_credits c
          WHERE t.id = ? AND c.id = 1 AND c.credits > 0
         RETURNING granted, expires_at AS expiresAt`,
      )
      .bind(lotId, now, now, tenantId),
    grantLedgerStatement(db, lotId, TRIAL_REFERENCE, now),
  ]);
  const applied = (ledger?.meta.changes ?? 0) > 0;
  const row = lot?.results[0] as { granted: number; expiresAt: number } | undefined;
  return applied && row
    ? { applied, credits: row.granted, expiresAt: row.expiresAt }
    : { applied: false, credits: 0, expiresAt: null };
}

// ---------------------------------------------------------------------------------------------
// Orders

export type OrderStatus = "created" | "paid" | "failed";

/** An order our server created: credits and amount copied from the pack as priced then. */
export type OrderRecord = {
  id: string;
  tenantId: string;
  packId: string;
  credits: number;
  amount: number;
  currency: Currency;
  razorpayOrderId: string;
  status: OrderStatus;
  createdAt: number;
  updatedAt: number;
};

const ORDER_COLUMNS = `id, tenant_id AS tenantId, pack_id AS packId, credits, amount, currency,
  razorpay_order_id AS razorpayOrderId, status, created_at AS createdAt, updated_at AS updatedAt`;

/** Records an order just created at Razorpay, with the pack's credits and amount as priced now. */
export async function insertOrder(
  db: D1Database,
  order: {
    id: string;
    tenantId: string;
    packId: string;
    credits: number;
    amount: number;
    currency: Currency;
    razorpayOrderId: string;
  },
  now = Date.now(),
): Promise<OrderRecord> {
  const row = await db
    .prepare(
      `INSERT INTO orders (id, tenant_id, pack_id, credits, amount, currency, razorpay_order_id, status, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'created', ?, ?)
       RETURNING ${ORDER_COLUMNS}`,
    )
    .bind(
      order.id,
      order.tenantId,
      order.packId,
      order.credits,
      order.amount,
      order.currency,
      order.razorpayOrderId,
      now,
      now,
    )
    .first<OrderRecord>();
  return row!;
}

/** One of the tenant's orders by our id; another tenant's is null, as a missing one. */
export async function getOrder(
  db: D1Database,
  tenantId: string,
  orderId: string,
): Promise<OrderRecord | null> {
  return db
    .prepare(`SELECT ${ORDER_COLUMNS} FROM orders WHERE id = ? AND tenant_id = ?`)
    .bind(orderId, tenantId)
    .first<OrderRecord>();
}

/** The order Razorpay knows as `order_…` (webhooks, Checkout callbacks); callers check the tenant. */
export async function getOrderByRazorpayId(
  db: D1Database,
  razorpayOrderId: string,
): Promise<OrderRecord | null> {
  return db
    .prepare(`SELECT ${ORDER_COLUMNS} FROM orders WHERE razorpay_order_id = ?`)
    .bind(razorpayOrderId)
    .first<OrderRecord>();
}

/**
 * A payment attempt on the order failed (`payment.failed`): the order becomes `failed` unless it
 * is paid already (a paid order never goes back). With `payment`, the failed attempt is recorded
 * too (for the payments page); a payment already recorded keeps its status (captured stays
 * captured). A later capture still grants: `recordCapturedPayment` moves both to paid/captured.
 */
export async function markOrderFailed(
  db: D1Database,
  orderId: string,
  payment?: { paymentId: string; method: string | null },
  now = Date.now(),
): Promise<{ changed: boolean }> {
  const statements = [
    db
      .prepare("UPDATE orders SET status = 'failed', updated_at = ? WHERE id = ? AND status = 'created'")
      .bind(now, orderId),
  ];
  if (payment) {
    statements.push(
      db
        .prepare(
          `INSERT INTO payments (id, tenant_id, order_id, kind, credits, amount, currency, status, method, created_at, updated_at)
           SELECT ?, tenant_id, id, 'credits', credits, amount, currency, 'failed', ?, ?, ? FROM orders WHERE id = ?
           ON CONFLICT (id) DO NOTHING`,
        )
        .bind(payment.paymentId, payment.method, now, now, orderId),
    );
  }
  const [order] = await db.batch(statements);
  return { changed: (order?.meta.changes ?? 0) > 0 };
}

// ---------------------------------------------------------------------------------------------
// Payments, grants and refunds

export type CapturedPayment = {
  tenantId: string;
  /** Our order id ('ord_…'). */
  orderId: string;
  /** Razorpay's payment id ('pay_…'): the ledger reference of the grant. */
  paymentId: string;
  amount: number;
  currency: Currency;
  method: string | null;
  credits: number;
};

/**
 * A captured payment of one of our orders, from the Checkout callback or any copy of the webhook,
 * in ONE batch: the payment is recorded (a `failed` row becomes `captured`, never the reverse),
 * the order marked `paid`, and the order's credits granted as a `purchase` lot whose ledger
 * reference is the payment id, so the ledger's UNIQUE (tenant_id, reference) grants exactly once.
 * `applied` is true only for the call that granted.
 *
 * Credits, amount and currency must equal the order's own record (the caller compares Razorpay's
 * payment with it first): every statement is conditioned on them, and a mismatch, an unknown order
 * or another tenant's order grants nothing and throws `order_mismatch`.
 */
export async function recordCapturedPayment(
  db: D1Database,
  p: CapturedPayment,
): Promise<{ applied: boolean }> {
  if (!isWhole(p.credits, 1) || !isWhole(p.amount, 1)) {
    throw new AppError(
      400,
      "invalid_payment",
      "A payment grants whole positive credits for a positive amount.",
    );
  }
  const now = Date.now();
  const lotId = creditLotId(p.tenantId, p.paymentId);
  // The order as the caller describes it: nothing below happens unless it matches ours.
  const ourOrder = "id = ? AND tenant_id = ? AND credits = ? AND amount = ? AND currency = ?";
  const order = [p.orderId, p.tenantId, p.credits, p.amount, p.currency];
  const results = await db.batch([
    db
      .prepare(
        `INSERT INTO payments (id, tenant_id, order_id, kind, credits, amount, currency, status, method, created_at, updated_at)
         SELECT ?, tenant_id, id, 'credits', credits, amount, currency, 'captured', ?, ?, ? FROM orders WHERE ${ourOrder}
         ON CONFLICT (id) DO UPDATE SET status = 'captured', method = COALESCE(excluded.method, payments.method),
           updated_at = excluded.updated_at
          WHERE payments.status = 'failed' AND payments.tenant_id = excluded.tenant_id
            AND payments.order_id = excluded.order_id`,
      )
      .bind(p.paymentId, p.method, now, now, ...order),
    db
      .prepare(`UPDATE orders SET status = 'paid', updated_at = ? WHERE ${ourOrder} AND status <> 'paid'`)
      .bind(now, ...order),
    db
      .prepare(
        `INSERT OR IGNORE INTO credit_lots (id, tenant_id, source, granted, remaining, expires_at, created_at)
         SELECT ?, tenant_id, 'purchase', credits, 0, NULL, ? FROM orders WHERE ${ourOrder}`,
      )
      .bind(lotId, now, ...order),
    grantLedgerStatement(db, lotId, p.paymentId, now),
  ]);
  if ((results[3]?.meta.changes ?? 0) > 0) return { applied: true };
  // Nothing granted now: granted before (a repeat), or the order did not match.
  const granted = await db
    .prepare("SELECT 1 AS one FROM credit_ledger WHERE tenant_id = ? AND reference = ? AND delta > 0")
    .bind(p.tenantId, p.paymentId)
    .first();
  if (!granted) {
    throw new AppError(
      409,
      "order_mismatch",
      "The payment does not match the order it names; nothing was granted.",
    );
  }
  return { applied: false };
}

/**
 * A captured charge of the email-subdomain subscription (`subscription.charged`), recorded once
 * for the payments page and receipts (kind 'subscription', no credits). `applied` is true only for
 * the call that recorded it (or turned a failed row captured).
 */
export async function recordSubscriptionPayment(
  db: D1Database,
  p: {
    tenantId: string;
    subscriptionId: string;
    paymentId: string;
    amount: number;
    currency: Currency;
    method: string | null;
  },
  now = Date.now(),
): Promise<{ applied: boolean }> {
  if (!isWhole(p.amount, 1)) throw new AppError(400, "invalid_payment", "A payment has a positive amount.");
  const res = await db
    .prepare(
      `INSERT INTO payments (id, tenant_id, subscription_id, kind, credits, amount, currency, status, method, created_at, updated_at)
       VALUES (?, ?, ?, 'subscription', 0, ?, ?, 'captured', ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET status = 'captured', updated_at = excluded.updated_at
        WHERE payments.status = 'failed' AND payments.tenant_id = excluded.tenant_id`,
    )
    .bind(p.paymentId, p.tenantId, p.subscriptionId, p.amount, p.currency, p.method, now, now)
    .run();
  return { applied: res.meta.changes > 0 };
}

const PAYMENT_COLUMNS = `id, tenant_id AS tenantId, order_id AS orderId, subscription_id AS subscriptionId, kind,
  credits, amount, currency, status, method, amount_refunded AS amountRefunded,
  credits_taken_back AS creditsTakenBack, created_at AS createdAt`;
const prefixed = (alias: string) => PAYMENT_COLUMNS.replace(/(^|,\s*)(\w+)/g, `$1${alias}.$2`);

/** A payment by Razorpay's id, whoever's it is (the refund webhook finds the tenant through it). */
export async function getPayment(db: D1Database, paymentId: string): Promise<PaymentRecord | null> {
  return db
    .prepare(`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE id = ?`)
    .bind(paymentId)
    .first<PaymentRecord>();
}

/**
 * One page of the tenant's payments, newest first. `before` is the cursor of the previous page's
 * last payment (`next` of that page); `next` is null on the last page.
 */
export async function listPayments(
  db: D1Database,
  tenantId: string,
  opts: { before?: string | null; limit?: number } = {},
): Promise<{ payments: PaymentRecord[]; next: string | null }> {
  const limit = Math.min(Math.max(opts.limit ?? 25, 1), 100);
  const cursor = parseCursor(opts.before);
  const { results } = await db
    .prepare(
      // A row-value cursor: one range of payments_tenant_time read newest first and cut at the
      // page, whatever the planner's statistics say (the OR form read every payment of the tenant).
      `SELECT ${PAYMENT_COLUMNS} FROM payments
        WHERE tenant_id = ? AND (created_at, id) < (?, ?)
        ORDER BY created_at DESC, id DESC LIMIT ?`,
    )
    .bind(tenantId, cursor.at, cursor.id, limit + 1)
    .all<PaymentRecord>();
  const payments = results.slice(0, limit);
  const last = payments[payments.length - 1];
  return { payments, next: results.length > limit && last ? `${last.createdAt}~${last.id}` : null };
}

/** `<created_at>~<id>`; anything else is the first page. */
function parseCursor(raw: string | null | undefined): { at: number; id: string } {
  const m = raw ? /^(\d{1,15})~([A-Za-z0-9_]{1,64})$/.exec(raw) : null;
  return m ? { at: Number(m[1]), id: m[2]! } : { at: Number.MAX_SAFE_INTEGER, id: "" };
}

export type StoredBillingDetails = BillingDetails & { updatedAt: number };

/** A payment with what its receipt prints: the Razorpay order, the subscription's quantity, the details. */
export type PaymentReceipt = {
  payment: PaymentRecord;
  razorpayOrderId: string | null;
  /** Extra subdomains, for a subscription charge. */
  quantity: number | null;
  details: StoredBillingDetails | null;
};

/** One of the tenant's payments with its order and the tenant's billing details; null if not theirs. */
export async function getPaymentReceipt(
  db: D1Database,
  tenantId: string,
  paymentId: string,
): Promise<PaymentReceipt | null> {
  const row = await db
    .prepare(
      `SELECT ${prefixed("p")}, o.razorpay_order_id AS razorpayOrderId, s.quantity,
              d.legal_name AS legalName, d.address, d.gstin, d.updated_at AS detailsUpdatedAt
         FROM payments p
         LEFT JOIN orders o ON o.id = p.order_id
         LEFT JOIN subscriptions s ON s.id = p.subscription_id
         LEFT JOIN tenant_billing_details d ON d.tenant_id = p.tenant_id
        WHERE p.id = ? AND p.tenant_id = ?`,
    )
    .bind(paymentId, tenantId)
    .first<
      PaymentRecord & {
        razorpayOrderId: string | null;
        quantity: number | null;
        legalName: string | null;
        address: string | null;
        gstin: string | null;
        detailsUpdatedAt: number | null;
      }
    >();
  if (!row) return null;
  const { razorpayOrderId, quantity, legalName, address, gstin, detailsUpdatedAt, ...payment } = row;
  return {
    payment,
    razorpayOrderId,
    quantity,
    details:
      legalName !== null && address !== null && detailsUpdatedAt !== null
        ? { legalName, address, gstin, updatedAt: detailsUpdatedAt }
        : null,
  };
}

export type RefundInput = {
  tenantId: string;
  /** Razorpay's payment id, recorded by recordCapturedPayment or recordSubscriptionPayment. */
  paymentId: string;
  /** Razorpay's refund id ('rfnd_…'): applies once, and is the ledger reference. */
  refundId: string;
  /** This refund's amount, minor units. */
  refundAmount: number;
};

/**
 * A processed refund, in ONE batch: the refund is recorded once (PRIMARY KEY), and ONE
 * conditional ledger insert (reason 'refund', reference = the refund id) takes back this refund's
 * share of the payment's credits — credits × refunded amount ÷ payment amount, counted so that
 * partial refunds add up to exactly the credits at a full refund — but never more than the
 * payment's lot still holds: a full refund after half the credits were spent takes back only the
 * unspent half, and no balance goes below zero. The payment's refunded amount, status and credits
 * taken back move with it. A repeat applies nothing: `applied` false, `creditsTakenBack` 0 (what
 * this call took back). A payment that is not this tenant's records nothing.
 */
export async function takeBackRefund(
  db: D1Database,
  r: RefundInput,
  now = Date.now(),
): Promise<{ applied: boolean; creditsTakenBack: number }> {
  if (!isWhole(r.refundAmount, 1))
    throw new AppError(400, "invalid_amount", "A refund has a positive amount.");
  const lotId = creditLotId(r.tenantId, r.paymentId);
  const fresh = "NOT EXISTS (SELECT 1 FROM refunds WHERE id = ?)";
  // This refund's share of the credits: what the refunded total after it is worth minus what it
  // was worth before it (whole credits, rounded down each time, so the shares add up exactly).
  // D1 binds a JS number as REAL: the cast keeps this integer arithmetic (division rounds down).
  const share = `(p.credits * MIN(p.amount, p.amount_refunded + CAST(? AS INTEGER)) / p.amount - p.credits * p.amount_refunded / p.amount)`;
  const takenBy =
    "COALESCE((SELECT -delta FROM credit_ledger WHERE tenant_id = ? AND reference = ? AND delta < 0), 0)";
  const [ledger, , refund] = await db.batch([
    db
      .prepare(
        `INSERT INTO credit_ledger (tenant_id, lot_id, delta, reason, reference, created_at)
         SELECT l.tenant_id, l.id, -MIN(l.remaining, ${share}), 'refund', ?, ?
           FROM payments p JOIN credit_lots l ON l.id = ? AND l.tenant_id = p.tenant_id
          WHERE p.id = ? AND p.tenant_id = ? AND p.status IN ('captured', 'partially_refunded')
            AND ${fresh} AND MIN(l.remaining, ${share}) > 0
         ON CONFLICT (tenant_id, reference) DO NOTHING
         RETURNING -delta AS taken`,
      )
      .bind(r.refundAmount, r.refundId, now, lotId, r.paymentId, r.tenantId, r.refundId, r.refundAmount),
    db
      .prepare(
        `UPDATE payments SET amount_refunded = MIN(amount, amount_refunded + CAST(? AS INTEGER)),
           status = CASE WHEN amount_refunded + ? >= amount THEN 'refunded' ELSE 'partially_refunded' END,
           credits_taken_back = credits_taken_back + ${takenBy},
           updated_at = ?
          WHERE id = ? AND tenant_id = ? AND status IN ('captured', 'partially_refunded') AND ${fresh}`,
      )
      .bind(r.refundAmount, r.refundAmount, r.tenantId, r.refundId, now, r.paymentId, r.tenantId, r.refundId),
    db
      .prepare(
        `INSERT INTO refunds (id, tenant_id, payment_id, amount, credits_taken_back, created_at)
         SELECT ?, tenant_id, id, ?, ${takenBy}, ? FROM payments WHERE id = ? AND tenant_id = ?
         ON CONFLICT (id) DO NOTHING`,
      )
      .bind(r.refundId, r.refundAmount, r.tenantId, r.refundId, now, r.paymentId, r.tenantId),
  ]);
  const taken = (ledger?.results[0] as { taken: number } | undefined)?.taken ?? 0;
  return { applied: (refund?.meta.changes ?? 0) > 0, creditsTakenBack: taken };
}

// ---------------------------------------------------------------------------------------------
// Subscriptions

const SUBSCRIPTION_COLUMNS = `id, tenant_id AS tenantId, status, quantity, amount, currency,
  current_end AS currentEnd, created_at AS createdAt, updated_at AS updatedAt`;

/** Statuses Razorpay never leaves: no later event or fetch revives them. */
const TERMINAL = "('cancelled', 'completed', 'expired')";

export type SubscriptionUpdate = {
  id: string;
  tenantId: string;
  status: SubscriptionStatus;
  quantity: number;
  /** Per cycle for all of `quantity` at creation; kept as first recorded. */
  amount: number;
  currency: Currency;
  currentEnd: number | null;
  /** When Razorpay's state was this (the event's created_at, or the fetch's time), in ms. */
  at: number;
};

/**
 * Records the subscription's state as Razorpay reports it, and returns the stored record. Webhooks
 * arrive late, twice and out of order, so the state moves only forward in time: an update older
 * than the stored one changes nothing (compared in whole seconds, Razorpay's resolution: events
 * of the same second apply in arrival order), `created` never replaces a later status, and a
 * terminal status (cancelled, completed, expired) is never left. Another tenant's id changes nothing.
 */
export async function upsertSubscription(db: D1Database, s: SubscriptionUpdate): Promise<SubscriptionRecord> {
  if (!isWhole(s.quantity, 1) || !isWhole(s.amount, 1)) {
    throw new AppError(
      400,
      "invalid_subscription",
      "A subscription has a whole quantity and amount above 0.",
    );
  }
  const [, read] = await db.batch([
    db
      .prepare(
        `INSERT INTO subscriptions (id, tenant_id, status, quantity, amount, currency, current_end, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET status = excluded.status, quantity = excluded.quantity,
           current_end = COALESCE(excluded.current_end, subscriptions.current_end),
           updated_at = MAX(subscriptions.updated_at, excluded.updated_at)
          WHERE subscriptions.tenant_id = excluded.tenant_id
            AND excluded.updated_at / 1000 >= subscriptions.updated_at / 1000
            AND subscriptions.status NOT IN ${TERMINAL}
            AND NOT (excluded.status = 'created' AND subscriptions.status <> 'created')`,
      )
      .bind(s.id, s.tenantId, s.status, s.quantity, s.amount, s.currency, s.currentEnd, s.at, s.at),
    db
      .prepare(`SELECT ${SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE id = ? AND tenant_id = ?`)
      .bind(s.id, s.tenantId),
  ]);
  const row = read?.results[0] as SubscriptionRecord | undefined;
  if (!row) throw new AppError(404, "not_found", "No such subscription for this tenant.");
  return row;
}

/** A subscription by Razorpay's id; with `tenantId`, only that tenant's (another's is null). */
export async function getSubscription(
  db: D1Database,
  id: string,
  tenantId?: string | null,
): Promise<SubscriptionRecord | null> {
  const row = await db
    .prepare(`SELECT ${SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE id = ?`)
    .bind(id)
    .first<SubscriptionRecord>();
  return row && (tenantId == null || row.tenantId === tenantId) ? row : null;
}

/**
 * The tenant's current subscription: a live one (authenticated, active, pending, halted) if there
 * is one, else the most recently updated; null if the tenant never subscribed.
 */
export async function getCurrentSubscription(
  db: D1Database,
  tenantId: string,
): Promise<SubscriptionRecord | null> {
  return db
    .prepare(
      `SELECT ${SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE tenant_id = ?
        ORDER BY status IN ('authenticated', 'active', 'pending', 'halted') DESC, updated_at DESC, id LIMIT 1`,
    )
    .bind(tenantId)
    .first<SubscriptionRecord>();
}

/**
 * How many extra subdomains the tenant's subscriptions in these statuses pay for (the caller
 * names the statuses that count, e.g. active and authenticated), and how many of its subdomains
 * are marked paid. Bounded by the tenant indexes.
 */
export async function subdomainCoverage(
  db: D1Database,
  tenantId: string,
  statuses: readonly SubscriptionStatus[],
): Promise<{ quota: number; subdomains: number; paid: number; covered: number }> {
  const marks = statuses.map(() => "?").join(", ") || "NULL";
  const row = await db
    .prepare(
      `SELECT t.email_subdomain_quota AS quota,
              (SELECT COUNT(*) FROM email_subdomains WHERE tenant_id = t.id) AS subdomains,
              (SELECT COUNT(*) FROM email_subdomains WHERE tenant_id = t.id AND paid = 1) AS paid,
              (SELECT COALESCE(SUM(quantity), 0) FROM subscriptions WHERE tenant_id = t.id AND status IN (${marks})) AS covered
         FROM tenants t WHERE t.id = ?`,
    )
    .bind(...statuses, tenantId)
    .first<{ quota: number; subdomains: number; paid: number; covered: number }>();
  return row ?? { quota: 0, subdomains: 0, paid: 0, covered: 0 };
}

/** Marks one of the tenant's subdomains as beyond the free quota (paid) or not. */
export async function setEmailSubdomainPaid(
  db: D1Database,
  tenantId: string,
  accountId: string,
  paid: boolean,
  now = Date.now(),
): Promise<boolean> {
  const res = await db
    .prepare("UPDATE email_subdomains SET paid = ?, updated_at = ? WHERE account_id = ? AND tenant_id = ?")
    .bind(paid ? 1 : 0, now, accountId, tenantId)
    .run();
  return res.meta.changes > 0;
}

// ---------------------------------------------------------------------------------------------
// Webhook events

/**
 * Records a webhook's X-Razorpay-Event-Id: `fresh` is true the first time only, so a duplicate
 * delivery is recognised (INSERT … ON CONFLICT DO NOTHING: one statement, race-free).
 */
export async function recordWebhookEvent(
  db: D1Database,
  id: string,
  event: string,
  now = Date.now(),
): Promise<{ fresh: boolean }> {
  const res = await db
    .prepare(
      "INSERT INTO webhook_events (id, event, received_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING",
    )
    .bind(id, event.slice(0, 100), now)
    .run();
  return { fresh: res.meta.changes > 0 };
}

/** Forgets an event id whose processing failed, so Razorpay's retry of it is processed. */
export async function forgetWebhookEvent(db: D1Database, id: string): Promise<void> {
  await db.prepare("DELETE FROM webhook_events WHERE id = ?").bind(id).run();
}

/** Event ids are kept this long: Razorpay retries for 24 h and replays events up to 7 days old. */
export const WEBHOOK_EVENT_RETENTION_MS = 30 * DAY;

/** The daily purge: up to `limit` event ids received before `before`. Returns how many went. */
export async function purgeWebhookEvents(db: D1Database, before: number, limit = 1000): Promise<number> {
  const res = await db
    .prepare(
      "DELETE FROM webhook_events WHERE id IN (SELECT id FROM webhook_events WHERE received_at < ? ORDER BY received_at LIMIT ?)",
    )
    .bind(before, limit)
    .run();
  return res.meta.changes;
}

// ---------------------------------------------------------------------------------------------
// Billing details

/** The tenant's billing details as saved; null until entered. */
export async function getBillingDetails(
  db: D1Database,
  tenantId: string,
): Promise<StoredBillingDetails | null> {
  return db
    .prepare(
      `SELECT legal_name AS legalName, address, gstin, updated_at AS updatedAt
         FROM tenant_billing_details WHERE tenant_id = ?`,
    )
    .bind(tenantId)
    .first<StoredBillingDetails>();
}

/** Saves the tenant's billing details (validated by BillingDetailsSchema before). False: no such tenant. */
export async function saveBillingDetails(
  db: D1Database,
  tenantId: string,
  details: BillingDetails,
  now = Date.now(),
): Promise<boolean> {
  const res = await db
    .prepare(
      `INSERT INTO tenant_billing_details (tenant_id, legal_name, address, gstin, updated_at)
       SELECT id, ?, ?, ?, ? FROM tenants WHERE id = ?
       ON CONFLICT (tenant_id) DO UPDATE SET legal_name = excluded.legal_name, address = excluded.address,
         gstin = excluded.gstin, updated_at = excluded.updated_at`,
    )
    .bind(details.legalName, details.address, details.gstin, now, tenantId)
    .run();
  return res.meta.changes > 0;
}

// ---------------------------------------------------------------------------------------------
// Email-subdomain gating (written for the pipeline's createEmailSubdomain and emailRoute)

type EmailSubdomain = import("@concierge/core").EmailSubdomain;

/**
 * Creates a subdomain as insertEmailSubdomain does (channel account and row in one transaction,
 * UNIQUE names under races), but up to the free quota PLUS what the tenant's subscriptions in
 * `covering` statuses pay for, and marks the row `paid` when it lies beyond the free quota. The
 * count, the limit and the mark are all decided inside the INSERTs, so two tabs at once cannot
 * both slip under the limit.
 */
export async function insertCoveredEmailSubdomain(
  db: D1Database,
  input: { accountId: string; tenantId: string; name: string; domain: string },
  covering: readonly SubscriptionStatus[],
  now = Date.now(),
): Promise<
  | { ok: true; subdomain: EmailSubdomain & { paid: boolean } }
  | { ok: false; code: "name_taken" | "quota_reached" | "no_tenant" }
> {
  const { accountId, tenantId, name, domain } = input;
  const marks = covering.map(() => "?").join(", ") || "NULL";
  const count = "(SELECT COUNT(*) FROM email_subdomains WHERE tenant_id = ?2)";
  const quota = "(SELECT email_subdomain_quota FROM tenants WHERE id = ?2)";
  const covered = `(SELECT COALESCE(SUM(quantity), 0) FROM subscriptions WHERE tenant_id = ?2 AND status IN (${marks}))`;
  let results: D1Result[];
  try {
    results = await db.batch([
      db
        .prepare(
          `INSERT INTO channel_accounts (id, tenant_id, channel, external_id, display_name, created_at)
           SELECT ?1, ?2, 'email', ?3, ?3, ?4 WHERE ${count} < ${quota} + ${covered}`,
        )
        .bind(accountId, tenantId, domain, now, ...covering),
      db
        .prepare(
          `INSERT INTO email_subdomains (account_id, tenant_id, name, domain, status, paid, created_at, updated_at)
           SELECT ?1, ?2, ?3, ?4, 'provisioning', ${count} >= ${quota}, ?5, ?5
            WHERE EXISTS (SELECT 1 FROM channel_accounts WHERE id = ?1)`,
        )
        .bind(accountId, tenantId, name, domain, now),
    ]);
  } catch (err) {
    if (String(err).includes("UNIQUE constraint failed")) return { ok: false, code: "name_taken" };
    throw err;
  }
  if ((results[1]?.meta.changes ?? 0) === 0) {
    const tenant = await db.prepare("SELECT 1 AS one FROM tenants WHERE id = ?").bind(tenantId).first();
    return { ok: false, code: tenant ? "quota_reached" : "no_tenant" };
  }
  const row = await db
    .prepare(
      `SELECT account_id AS accountId, tenant_id AS tenantId, name, domain, status, cf_rule_id AS cfRuleId,
              status_error AS statusError, routing_json AS routingJson, routing_version AS routingVersion,
              created_at AS createdAt, updated_at AS updatedAt, paid
         FROM email_subdomains WHERE account_id = ? AND tenant_id = ?`,
    )
    .bind(accountId, tenantId)
    .first<EmailSubdomain & { paid: number }>();
  return { ok: true, subdomain: { ...row!, paid: row!.paid === 1 } };
}

/**
 * Whether a subdomain's forwards and automatic replies may run: a free one always; a paid one
 * (beyond the free quota) only while one of the tenant's subscriptions is in a `covering` status.
 * Null for an unknown subdomain.
 */
export async function emailSubdomainAutomatic(
  db: D1Database,
  accountId: string,
  covering: readonly SubscriptionStatus[],
): Promise<boolean | null> {
  const marks = covering.map(() => "?").join(", ") || "NULL";
  const row = await db
    .prepare(
      `SELECT s.paid = 0 OR EXISTS (SELECT 1 FROM subscriptions WHERE tenant_id = s.tenant_id AND status IN (${marks}))
                AS automatic
         FROM email_subdomains s WHERE s.account_id = ?`,
    )
    .bind(...covering, accountId)
    .first<{ automatic: number }>();
  return row ? row.automatic === 1 : null;
}

/**
 * After a subdomain is deleted: paid subdomains that now fit within the free quota become free
 * (oldest first), so a lapsed subscription never pauses one the tenant no longer pays for. One
 * statement. Returns how many were freed.
 */
export async function freePaidSubdomainsWithinQuota(
  db: D1Database,
  tenantId: string,
  now = Date.now(),
): Promise<number> {
  const res = await db
    .prepare(
      `UPDATE email_subdomains SET paid = 0, updated_at = ?2
        WHERE account_id IN (
          SELECT account_id FROM email_subdomains WHERE tenant_id = ?1 AND paid = 1
           ORDER BY created_at, account_id
           LIMIT MAX(0, (SELECT email_subdomain_quota FROM tenants WHERE id = ?1)
                        - (SELECT COUNT(*) FROM email_subdomains WHERE tenant_id = ?1 AND paid = 0)))`,
    )
    .bind(tenantId, now)
    .run();
  return res.meta.changes;
}
