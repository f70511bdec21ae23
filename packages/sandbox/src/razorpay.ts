import { createHmac, randomInt } from "node:crypto";
import { type EventRefs, type EventSpec, RazorpayWebhooks, type WebhookEvent } from "./razorpay-webhooks.ts";

/**
 * A fake of Razorpay that speaks its wire format (see /tmp/razorpay-notes.md, from Razorpay's own
 * docs and SDK): the Orders, Payments, Refunds, Plans and Subscriptions APIs with HTTP Basic auth
 * (key id : key secret) and Razorpay's error envelope; ids as `<prefix>_` and 14 base62
 * characters; amounts in minor units; Unix-second timestamps; `notes: []` when empty; Checkout's
 * payment attempts (pay or fail) with their signatures; and the webhooks each state change sends
 * (razorpay-webhooks.ts). The HTTP routes are in razorpay-routes.ts, the pages in razorpay-pages.ts.
 */

export type RazorpayReply = { status: number; body: unknown; headers?: Record<string, string> };

/** A state change's reply and its webhooks (settled once each was first sent, or held). */
export type Outcome = { reply: RazorpayReply; delivered: Promise<WebhookEvent[]> };

export type Currency = "INR" | "USD";
type Notes = Record<string, string>;

export type OrderStatus = "created" | "attempted" | "paid";
export type PaymentStatus = "authorized" | "captured" | "refunded" | "failed";
export type SubscriptionStatus =
  | "created"
  | "authenticated"
  | "active"
  | "pending"
  | "halted"
  | "cancelled"
  | "completed"
  | "expired";
export type Period = "daily" | "weekly" | "monthly" | "quarterly" | "yearly";

export type RzOrder = {
  id: string;
  amount: number;
  currency: Currency;
  receipt: string | null;
  notes: Notes;
  status: OrderStatus;
  attempts: number;
  amountPaid: number;
  partialPayment: boolean;
  createdAt: number;
  /** Set on the order Razorpay makes for each invoice of a subscription. */
  subscriptionId: string | null;
};

/** Razorpay's error object, as Checkout's `payment.failed` and the payment's error_* fields carry it. */
export type CheckoutError = {
  code: string;
  description: string;
  source: string;
  step: string;
  reason: string;
  field: string | null;
};

export type RzPayment = {
  id: string;
  amount: number;
  currency: Currency;
  status: PaymentStatus;
  orderId: string | null;
  invoiceId: string | null;
  subscriptionId: string | null;
  amountRefunded: number;
  name: string;
  email: string;
  contact: string;
  notes: Notes;
  description: string | null;
  error: CheckoutError | null;
  cardId: string;
  createdAt: number;
};

export type RzRefund = {
  id: string;
  amount: number;
  currency: Currency;
  paymentId: string;
  notes: Notes;
  receipt: string | null;
  speedRequested: "normal" | "optimum";
  status: "pending" | "processed";
  createdAt: number;
};

export type RzPlan = {
  id: string;
  period: Period;
  interval: number;
  item: { id: string; name: string; description: string | null; amount: number; currency: Currency };
  notes: Notes;
  createdAt: number;
};

export type RzSubscription = {
  id: string;
  planId: string;
  status: SubscriptionStatus;
  quantity: number;
  notes: Notes;
  totalCount: number;
  paidCount: number;
  authAttempts: number;
  currentStart: number | null;
  currentEnd: number | null;
  endedAt: number | null;
  chargeAt: number | null;
  startAt: number;
  endAt: number;
  expireBy: number | null;
  customerNotify: boolean;
  offerId: string | null;
  /** cancel_at_cycle_end: cancelled when the cycle ends (the next "charged" move ends it instead). */
  cancelAtCycleEnd: boolean;
  createdAt: number;
};

export type CheckoutTarget = { orderId: string } | { subscriptionId: string };

export type Customer = {
  name?: string | undefined;
  email?: string | undefined;
  contact?: string | undefined;
  notes?: Notes | undefined;
  description?: string | undefined;
};

/** What Checkout hands the page: the handler's fields on success. */
export type CheckoutFields =
  | { razorpay_payment_id: string; razorpay_order_id: string; razorpay_signature: string }
  | { razorpay_payment_id: string; razorpay_subscription_id: string; razorpay_signature: string };

/** Checkout's `payment.failed` argument's `error`. */
export type CheckoutFailure = {
  code: string;
  description: string;
  source: string;
  step: string;
  reason: string;
  field: string | null;
  metadata: { payment_id: string; order_id?: string; subscription_id?: string };
};

export type AttemptResult =
  | {
      ok: true;
      payment: RzPayment;
      response: CheckoutFields | null;
      error: CheckoutFailure | null;
      delivered: Promise<WebhookEvent[]>;
    }
  | { ok: false; status: number; error: { code: string; description: string } };

export type SubscriptionMove = "charged" | "pending" | "halted" | "cancelled";
export const SUBSCRIPTION_MOVES: readonly SubscriptionMove[] = ["charged", "pending", "halted", "cancelled"];

/**
 * An API fault: the next `count` calls (default 1) matching `method` and `path` (after /v1, e.g.
 * "/orders", "/payments/:id/refund"; `:x` or `*` matches one segment; no path: any call) answer
 * `status` (500: SERVER_ERROR, 429: too many requests, others BAD_REQUEST_ERROR) or, with
 * `timeout`, no answer at all for `timeoutMs` (default 30 s). `when: "after"` carries the call
 * out first (an outcome the caller cannot know).
 */
export type RazorpayFault = {
  path?: string;
  method?: string;
  status?: number;
  timeout?: boolean;
  timeoutMs?: number;
  count?: number;
  when?: "before" | "after";
  code?: string;
  description?: string;
};

export type FakeRazorpayOptions = {
  keyId: string;
  keySecret: string;
  webhookSecret: string;
  webhookUrl?: string;
};

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/** Razorpay's ids: a prefix and 14 base62 characters (observed in every sample; not documented). */
export function razorpayId(prefix: string): string {
  let s = "";
  for (let i = 0; i < 14; i++) s += BASE62[randomInt(62)];
  return prefix ? `${prefix}_${s}` : s;
}

export const RAZORPAY_ID = /^(order|pay|rfnd|plan|sub|item|inv|card)_[0-9A-Za-z]{14}$/;

const CURRENCIES: readonly string[] = ["INR", "USD"];
const PERIODS: readonly string[] = ["daily", "weekly", "monthly", "quarterly", "yearly"];
/** Sandbox's rate for the INR `base_amount` of a USD payment (Razorpay settles in INR). */
const USD_TO_INR = 85;
const ACCOUNT_ID = "acc_SandboxAcct001";
const MAX_NOTES = 15;
const MAX_NOTE_VALUE = 256;
const IDEMPOTENCY_KEY = /^[A-Za-z0-9_-]{10,100}$/;
const DAY = 24 * 60 * 60;

const nowSeconds = () => Math.floor(Date.now() / 1000);

type ErrorExtras = {
  code?: string;
  field?: string;
  source?: string;
  step?: string;
  reason?: string;
  metadata?: Record<string, unknown>;
};

/** Razorpay's error envelope. Validation errors carry source/step/reason; 401 carries neither. */
export function razorpayError(status: number, description: string, extras: ErrorExtras = {}): RazorpayReply {
  const error: Record<string, unknown> = {
    code: extras.code ?? "BAD_REQUEST_ERROR",
    description,
    source: extras.source ?? "business",
    step: extras.step ?? "payment_initiation",
    reason: extras.reason ?? "input_validation_failed",
    metadata: extras.metadata ?? {},
  };
  if (extras.field) error.field = extras.field;
  return { status, body: { error } };
}

export const AUTH_FAILED: RazorpayReply = {
  status: 401,
  body: { error: { code: "BAD_REQUEST_ERROR", description: "Authentication failed" } },
};

export const URL_NOT_FOUND: RazorpayReply = razorpayError(
  400,
  "The requested URL was not found on the server.",
  {
    source: "NA",
    step: "NA",
    reason: "NA",
  },
);

const notFound = () => razorpayError(400, "The id provided does not exist");

/** `notes` as Razorpay serialises it: `[]` when empty. */
const notesOut = (n: Notes): Notes | [] => (Object.keys(n).length ? { ...n } : []);

const done = (reply: RazorpayReply): Outcome => ({ reply, delivered: Promise.resolve([]) });

/** Minimum amount message as Razorpay words it ("The amount must be at least INR 1.00"). */
const minimumMessage = (currency: string) => `The amount must be at least ${currency} 1.00`;

export class FakeRazorpay {
  readonly keyId: string;
  readonly keySecret: string;
  readonly webhookSecret: string;
  readonly webhooks: RazorpayWebhooks;
  /** `${sandbox}` once the server listens: short_url and page links. */
  baseUrl = "";
  readonly orders = new Map<string, RzOrder>();
  readonly payments = new Map<string, RzPayment>();
  readonly refunds = new Map<string, RzRefund>();
  readonly plans = new Map<string, RzPlan>();
  readonly subscriptions = new Map<string, RzSubscription>();
  private readonly idempotency = new Map<string, { paymentId: string; request: string; refundId: string }>();
  private faults: (RazorpayFault & { remaining: number })[] = [];

  constructor(opts: FakeRazorpayOptions) {
    this.keyId = opts.keyId;
    this.keySecret = opts.keySecret;
    this.webhookSecret = opts.webhookSecret;
    this.webhooks = new RazorpayWebhooks({
      url: opts.webhookUrl ?? "",
      secret: () => this.webhookSecret,
      accountId: ACCOUNT_ID,
      newId: () => razorpayId(""),
    });
  }

  reset(): void {
    this.orders.clear();
    this.payments.clear();
    this.refunds.clear();
    this.plans.clear();
    this.subscriptions.clear();
    this.idempotency.clear();
    this.faults = [];
    this.webhooks.reset();
  }

  injectFault(f: RazorpayFault): void {
    this.faults.push({ ...f, remaining: Math.max(1, Math.floor(f.count ?? 1)) });
  }

  /** The first fault for this call, counted down (and dropped when used up). */
  takeFault(method: string, path: string): RazorpayFault | null {
    const f = this.faults.find(
      (x) =>
        (x.method === undefined || x.method.toUpperCase() === method.toUpperCase()) &&
        (x.path === undefined || pathMatches(x.path, path)),
    );
    if (!f) return null;
    f.remaining -= 1;
    if (f.remaining <= 0) this.faults = this.faults.filter((x) => x !== f);
    return f;
  }

  close(): void {
    this.webhooks.close();
  }

  /** HTTP Basic with the key id as user and the key secret as password. */
  authorized(header: string | undefined): boolean {
    const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header ?? "");
    if (!m) return false;
    const decoded = Buffer.from(m[1]!, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    return colon > 0 && decoded.slice(0, colon) === this.keyId && decoded.slice(colon + 1) === this.keySecret;
  }

  sign(message: string): string {
    return createHmac("sha256", this.keySecret).update(message, "utf8").digest("hex");
  }

  // ---- entities, as Razorpay serialises them ----

  orderEntity(o: RzOrder): Record<string, unknown> {
    return {
      amount: o.amount,
      amount_due: o.amount - o.amountPaid,
      amount_paid: o.amountPaid,
      attempts: o.attempts,
      created_at: o.createdAt,
      currency: o.currency,
      entity: "order",
      id: o.id,
      notes: notesOut(o.notes),
      offer_id: null,
      receipt: o.receipt,
      status: o.status,
    };
  }

  paymentEntity(p: RzPayment, over: Partial<Record<string, unknown>> = {}): Record<string, unknown> {
    const captured = p.status === "captured" || p.status === "refunded";
    const international = p.currency !== "INR";
    const feeBase = Math.round(p.amount * 0.02);
    const tax = Math.round(feeBase * 0.18);
    return {
      id: p.id,
      entity: "payment",
      amount: p.amount,
      currency: p.currency,
      ...(international ? { base_amount: p.amount * USD_TO_INR, base_currency: "INR" } : {}),
      status: p.status,
      order_id: p.orderId,
      invoice_id: p.invoiceId,
      international,
      method: "card",
      amount_refunded: p.amountRefunded,
      amount_transferred: 0,
      refund_status:
        p.amountRefunded === 0 ? null : p.amountRefunded >= p.amount && captured ? "full" : "partial",
      // Razorpay's subscription payments carry `captured: "1"` (its documented sample); others a boolean.
      captured: p.subscriptionId ? (captured ? "1" : "0") : captured,
      description: p.description,
      card_id: p.cardId,
      card: {
        id: p.cardId,
        entity: "card",
        name: p.name,
        last4: international ? "4444" : "1111",
        network: international ? "MasterCard" : "Visa",
        type: "credit",
        issuer: null,
        international,
        emi: false,
        sub_type: "consumer",
        token_iin: null,
      },
      bank: null,
      wallet: null,
      vpa: null,
      email: p.email,
      contact: p.contact,
      ...(p.subscriptionId ? { customer_id: null, token_id: null } : {}),
      notes: notesOut(p.notes),
      fee: captured ? feeBase + tax : null,
      tax: captured ? tax : null,
      error_code: p.error?.code ?? null,
      error_description: p.error?.description ?? null,
      error_source: p.error?.source ?? null,
      error_step: p.error?.step ?? null,
      error_reason: p.error?.reason ?? null,
      acquirer_data: { auth_code: captured ? String(100000 + (p.createdAt % 900000)) : null },
      created_at: p.createdAt,
      ...over,
    };
  }

  refundEntity(r: RzRefund, status: RzRefund["status"] = r.status): Record<string, unknown> {
    return {
      id: r.id,
      entity: "refund",
      amount: r.amount,
      currency: r.currency,
      payment_id: r.paymentId,
      notes: notesOut(r.notes),
      receipt: r.receipt,
      acquirer_data: { arn: status === "processed" ? `${r.id.slice(5, 15).toUpperCase()}` : null },
      created_at: r.createdAt,
      batch_id: null,
      status,
      speed_processed: "normal",
      speed_requested: r.speedRequested,
    };
  }

  planEntity(p: RzPlan): Record<string, unknown> {
    return {
      id: p.id,
      entity: "plan",
      interval: p.interval,
      period: p.period,
      item: {
        id: p.item.id,
        active: true,
        name: p.item.name,
        description: p.item.description,
        amount: p.item.amount,
        unit_amount: p.item.amount,
        currency: p.item.currency,
        type: "plan",
        unit: null,
        tax_inclusive: false,
        hsn_code: null,
        sac_code: null,
        tax_rate: null,
        tax_id: null,
        tax_group_id: null,
        created_at: p.createdAt,
        updated_at: p.createdAt,
      },
      notes: notesOut(p.notes),
      created_at: p.createdAt,
    };
  }

  subscriptionEntity(
    s: RzSubscription,
    over: Partial<Record<string, unknown>> = {},
  ): Record<string, unknown> {
    return {
      id: s.id,
      entity: "subscription",
      plan_id: s.planId,
      customer_id: null,
      status: s.status,
      current_start: s.currentStart,
      current_end: s.currentEnd,
      ended_at: s.endedAt,
      quantity: s.quantity,
      notes: notesOut(s.notes),
      charge_at: s.chargeAt,
      start_at: s.startAt,
      end_at: s.endAt,
      auth_attempts: s.authAttempts,
      total_count: s.totalCount,
      paid_count: s.paidCount,
      customer_notify: s.customerNotify,
      created_at: s.createdAt,
      expire_by: s.expireBy,
      short_url: this.shortUrl(s.id),
      has_scheduled_changes: s.cancelAtCycleEnd,
      change_scheduled_at: s.cancelAtCycleEnd ? s.currentEnd : null,
      source: "api",
      ...(s.offerId ? { offer_id: s.offerId } : {}),
      remaining_count: Math.max(0, s.totalCount - s.paidCount),
      ...over,
    };
  }

  /** The hosted page where the customer makes a subscription's authentication payment. */
  shortUrl(subscriptionId: string): string {
    return `${this.baseUrl}/razorpay/subscriptions/${subscriptionId}/authenticate`;
  }

  // ---- Orders ----

  /** POST /v1/orders */
  createOrder(raw: unknown): RazorpayReply {
    const b = asObject(raw);
    if (!b) return razorpayError(400, "The request body must be a JSON object.");
    const extra = unexpected(b, [
      "amount",
      "currency",
      "receipt",
      "notes",
      "partial_payment",
      "first_payment_min_amount",
      "payment",
      "payment_capture",
      "method",
      "customer_id",
      "offer_id",
    ]);
    if (extra) return extra;
    const currency = b.currency;
    if (currency === undefined || currency === null || currency === "")
      return razorpayError(400, "The currency field is required.", { field: "currency" });
    if (typeof currency !== "string" || !CURRENCIES.includes(currency))
      return razorpayError(400, "Currency is not supported", { field: "currency" });
    const amount = amountOf(b.amount, currency);
    if (typeof amount !== "number") return amount;
    if (b.receipt !== undefined && b.receipt !== null) {
      if (typeof b.receipt !== "string")
        return razorpayError(400, "The receipt must be a string.", { field: "receipt" });
      if (b.receipt.length > 40)
        return razorpayError(400, "The receipt may not be greater than 40 characters.", { field: "receipt" });
    }
    const notes = notesOf(b.notes);
    if (!("ok" in notes)) return notes;
    const partial = b.partial_payment === true || b.partial_payment === 1 || b.partial_payment === "1";
    const order: RzOrder = {
      id: razorpayId("order"),
      amount,
      currency: currency as Currency,
      receipt: typeof b.receipt === "string" ? b.receipt : null,
      notes: notes.ok,
      status: "created",
      attempts: 0,
      amountPaid: 0,
      partialPayment: partial,
      createdAt: nowSeconds(),
      subscriptionId: null,
    };
    this.orders.set(order.id, order);
    return { status: 200, body: this.orderEntity(order) };
  }

  /** GET /v1/orders/:id */
  getOrder(id: string): RazorpayReply {
    const o = this.orders.get(id);
    return o ? { status: 200, body: this.orderEntity(o) } : notFound();
  }

  /** GET /v1/orders/:id/payments */
  orderPayments(id: string): RazorpayReply {
    if (!this.orders.has(id)) return notFound();
    const items = [...this.payments.values()]
      .filter((p) => p.orderId === id)
      .map((p) => this.paymentEntity(p));
    return { status: 200, body: { entity: "collection", count: items.length, items } };
  }

  // ---- Payments and refunds ----

  /** GET /v1/payments/:id */
  getPayment(id: string): RazorpayReply {
    const p = this.payments.get(id);
    return p ? { status: 200, body: this.paymentEntity(p) } : notFound();
  }

  /** GET /v1/payments/:id/refunds */
  paymentRefunds(id: string): RazorpayReply {
    if (!this.payments.has(id)) return notFound();
    const items = [...this.refunds.values()]
      .filter((r) => r.paymentId === id)
      .map((r) => this.refundEntity(r));
    return { status: 200, body: { entity: "collection", count: items.length, items } };
  }

  /** GET /v1/refunds/:id */
  getRefund(id: string): RazorpayReply {
    const r = this.refunds.get(id);
    return r ? { status: 200, body: this.refundEntity(r) } : notFound();
  }

  /**
   * POST /v1/payments/:id/refund (full without `amount`, else partial), with the optional
   * `X-Refund-Idempotency` key: the same key and body answer the same refund again; the same key
   * with another body is refused.
   */
  refund(paymentId: string, raw: unknown, idempotencyKey?: string): Outcome {
    const p = this.payments.get(paymentId);
    if (!p) return done(notFound());
    const b = raw === undefined || raw === null ? {} : asObject(raw);
    if (!b) return done(razorpayError(400, "The request body must be a JSON object."));
    const extra = unexpected(b, ["amount", "speed", "notes", "receipt"]);
    if (extra) return done(extra);
    let request = "";
    if (idempotencyKey !== undefined) {
      if (!IDEMPOTENCY_KEY.test(idempotencyKey)) {
        return done(
          razorpayError(400, "The idempotency key must be 10 to 100 letters, digits, _ or -.", {
            field: "X-Refund-Idempotency",
          }),
        );
      }
      request = JSON.stringify({ paymentId, body: sortKeys(b) });
      const seen = this.idempotency.get(idempotencyKey);
      if (seen) {
        if (seen.request !== request) {
          return done(
            razorpayError(400, "The idempotency key was already used with a different request.", {
              field: "X-Refund-Idempotency",
            }),
          );
        }
        return done({ status: 200, body: this.refundEntity(this.refunds.get(seen.refundId)!) });
      }
    }
    if (p.status !== "captured" && p.status !== "refunded") {
      return done(razorpayError(400, "The payment status should be captured for action to be taken"));
    }
    const remaining = p.amount - p.amountRefunded;
    if (remaining <= 0) return done(razorpayError(400, "The payment has been fully refunded already"));
    let amount = remaining;
    if (b.amount !== undefined && b.amount !== null) {
      const a = amountOf(b.amount, p.currency);
      if (typeof a !== "number") return done(a);
      if (a > remaining)
        return done(
          razorpayError(400, "The refund amount provided is greater than amount captured", {
            field: "amount",
          }),
        );
      amount = a;
    }
    if (b.speed !== undefined && b.speed !== "normal" && b.speed !== "optimum") {
      return done(razorpayError(400, "The selected speed is invalid.", { field: "speed" }));
    }
    const notes = notesOf(b.notes);
    if (!("ok" in notes)) return done(notes);
    const refund: RzRefund = {
      id: razorpayId("rfnd"),
      amount,
      currency: p.currency,
      paymentId: p.id,
      notes: notes.ok,
      receipt: typeof b.receipt === "string" ? b.receipt : null,
      speedRequested: b.speed === "optimum" ? "optimum" : "normal",
      status: "processed",
      createdAt: nowSeconds(),
    };
    this.refunds.set(refund.id, refund);
    if (idempotencyKey !== undefined) {
      this.idempotency.set(idempotencyKey, { paymentId: p.id, request, refundId: refund.id });
    }
    p.amountRefunded += amount;
    if (p.amountRefunded >= p.amount) p.status = "refunded";
    const refs: EventRefs = { payment: p.id, refund: refund.id, ...this.parentRefs(p) };
    const payment = { entity: this.paymentEntity(p) };
    const delivered = this.webhooks.emit(
      [
        {
          event: "refund.created",
          payload: { refund: { entity: this.refundEntity(refund, "pending") }, payment },
          refs,
        },
        {
          event: "refund.processed",
          payload: { refund: { entity: this.refundEntity(refund, "processed") }, payment },
          refs,
        },
      ],
      refund.createdAt,
    );
    return { reply: { status: 200, body: this.refundEntity(refund) }, delivered };
  }

  // ---- Plans and subscriptions ----

  /** POST /v1/plans */
  createPlan(raw: unknown): RazorpayReply {
    const b = asObject(raw);
    if (!b) return razorpayError(400, "The request body must be a JSON object.");
    const extra = unexpected(b, ["period", "interval", "item", "notes"]);
    if (extra) return extra;
    if (b.period === undefined)
      return razorpayError(400, "The period field is required.", { field: "period" });
    if (typeof b.period !== "string" || !PERIODS.includes(b.period)) {
      return razorpayError(400, `The period must be one of ${PERIODS.join(", ")}.`, { field: "period" });
    }
    const interval = integerOf(b.interval);
    if (b.interval === undefined)
      return razorpayError(400, "The interval field is required.", { field: "interval" });
    if (interval === null || interval < 1)
      return razorpayError(400, "The interval must be an integer of at least 1.", { field: "interval" });
    if (b.period === "daily" && interval < 7) {
      return razorpayError(400, "The interval for a daily plan must be at least 7.", { field: "interval" });
    }
    const item = asObject(b.item);
    if (!item) return razorpayError(400, "The item field is required.", { field: "item" });
    if (typeof item.name !== "string" || !item.name)
      return razorpayError(400, "The name field is required.", { field: "name" });
    if (typeof item.currency !== "string" || !CURRENCIES.includes(item.currency)) {
      return razorpayError(
        400,
        item.currency ? "Currency is not supported" : "The currency field is required.",
        {
          field: "currency",
        },
      );
    }
    const amount = amountOf(item.amount, item.currency);
    if (typeof amount !== "number") return amount;
    const notes = notesOf(b.notes);
    if (!("ok" in notes)) return notes;
    const plan: RzPlan = {
      id: razorpayId("plan"),
      period: b.period as Period,
      interval,
      item: {
        id: razorpayId("item"),
        name: item.name,
        description: typeof item.description === "string" ? item.description : null,
        amount,
        currency: item.currency as Currency,
      },
      notes: notes.ok,
      createdAt: nowSeconds(),
    };
    this.plans.set(plan.id, plan);
    return { status: 200, body: this.planEntity(plan) };
  }

  /** GET /v1/plans/:id */
  getPlan(id: string): RazorpayReply {
    const p = this.plans.get(id);
    return p ? { status: 200, body: this.planEntity(p) } : notFound();
  }

  /** POST /v1/subscriptions */
  createSubscription(raw: unknown): RazorpayReply {
    const b = asObject(raw);
    if (!b) return razorpayError(400, "The request body must be a JSON object.");
    const extra = unexpected(b, [
      "plan_id",
      "total_count",
      "quantity",
      "start_at",
      "expire_by",
      "customer_notify",
      "addons",
      "offer_id",
      "notes",
    ]);
    if (extra) return extra;
    if (typeof b.plan_id !== "string" || !b.plan_id)
      return razorpayError(400, "The plan id field is required.", { field: "plan_id" });
    const plan = this.plans.get(b.plan_id);
    if (!plan) return notFound();
    const total = integerOf(b.total_count);
    if (b.total_count === undefined)
      return razorpayError(400, "The total count field is required.", { field: "total_count" });
    if (total === null || total < 1 || total > 1200) {
      return razorpayError(400, "The total count must be an integer from 1 to 1200.", {
        field: "total_count",
      });
    }
    const quantity = b.quantity === undefined ? 1 : integerOf(b.quantity);
    if (quantity === null || quantity < 1)
      return razorpayError(400, "The quantity must be at least 1.", { field: "quantity" });
    const now = nowSeconds();
    const startAt = b.start_at === undefined ? null : integerOf(b.start_at);
    if (b.start_at !== undefined && (startAt === null || startAt < now)) {
      return razorpayError(400, "The start time must be in the future.", { field: "start_at" });
    }
    const expireBy = b.expire_by === undefined ? null : integerOf(b.expire_by);
    if (b.expire_by !== undefined && (expireBy === null || expireBy < now)) {
      return razorpayError(400, "The expire by time must be in the future.", { field: "expire_by" });
    }
    const notes = notesOf(b.notes);
    if (!("ok" in notes)) return notes;
    const start = startAt ?? now;
    const sub: RzSubscription = {
      id: razorpayId("sub"),
      planId: plan.id,
      status: "created",
      quantity,
      notes: notes.ok,
      totalCount: total,
      paidCount: 0,
      authAttempts: 0,
      currentStart: null,
      currentEnd: null,
      endedAt: null,
      chargeAt: start,
      startAt: start,
      endAt: addPeriods(start, plan, total),
      expireBy,
      customerNotify: !(b.customer_notify === false || b.customer_notify === 0 || b.customer_notify === "0"),
      offerId: typeof b.offer_id === "string" ? b.offer_id : null,
      cancelAtCycleEnd: false,
      createdAt: now,
    };
    this.subscriptions.set(sub.id, sub);
    return { status: 200, body: this.subscriptionEntity(sub) };
  }

  /** GET /v1/subscriptions/:id */
  getSubscription(id: string): RazorpayReply {
    const s = this.subscriptions.get(id);
    return s ? { status: 200, body: this.subscriptionEntity(s) } : notFound();
  }

  /** POST /v1/subscriptions/:id/cancel `{ cancel_at_cycle_end }` (false, the default: at once). */
  cancelSubscription(id: string, raw: unknown): Outcome {
    const s = this.subscriptions.get(id);
    if (!s) return done(notFound());
    const b = raw === undefined || raw === null ? {} : asObject(raw);
    if (!b) return done(razorpayError(400, "The request body must be a JSON object."));
    const atCycleEnd =
      b.cancel_at_cycle_end === true || b.cancel_at_cycle_end === 1 || b.cancel_at_cycle_end === "1";
    if (!["created", "authenticated", "active", "pending", "halted"].includes(s.status)) {
      return done(
        razorpayError(400, `Subscription is not cancellable in ${s.status} status.`, { field: "status" }),
      );
    }
    if (atCycleEnd && s.status === "active") {
      s.cancelAtCycleEnd = true;
      return done({ status: 200, body: this.subscriptionEntity(s) });
    }
    return this.cancelNow(s);
  }

  private cancelNow(s: RzSubscription): Outcome {
    const now = nowSeconds();
    s.status = "cancelled";
    s.endedAt = now;
    s.chargeAt = null;
    s.cancelAtCycleEnd = false;
    const delivered = this.webhooks.emit(
      [
        {
          event: "subscription.cancelled",
          payload: { subscription: { entity: this.subscriptionEntity(s) } },
          refs: { subscription: s.id },
        },
      ],
      now,
    );
    return { reply: { status: 200, body: this.subscriptionEntity(s) }, delivered };
  }

  // ---- Checkout: what the Pay and Fail buttons do ----

  /** Whether Checkout can take a payment for this target now; null when it can. */
  checkoutProblem(target: CheckoutTarget): { status: number; description: string } | null {
    if ("orderId" in target) {
      const o = this.orders.get(target.orderId);
      if (!o || o.subscriptionId) return { status: 400, description: "The id provided does not exist" };
      if (o.status === "paid") return { status: 400, description: "This order has already been paid." };
      return null;
    }
    const s = this.subscriptions.get(target.subscriptionId);
    if (!s) return { status: 400, description: "The id provided does not exist" };
    if (s.status !== "created") {
      return { status: 400, description: `This subscription is ${s.status}: there is nothing to pay here.` };
    }
    return null;
  }

  /** The amount and currency Checkout shows for a target. */
  checkoutAmount(target: CheckoutTarget): { amount: number; currency: Currency } | null {
    if ("orderId" in target) {
      const o = this.orders.get(target.orderId);
      return o ? { amount: o.amount - o.amountPaid, currency: o.currency } : null;
    }
    const s = this.subscriptions.get(target.subscriptionId);
    const plan = s ? this.plans.get(s.planId) : undefined;
    return s && plan ? { amount: plan.item.amount * s.quantity, currency: plan.item.currency } : null;
  }

  /**
   * One Checkout attempt: "pay" makes a captured payment (on the order, or the subscription's
   * first charge), "fail" a failed one. Sends the webhooks Razorpay would.
   */
  attempt(target: CheckoutTarget, outcome: "pay" | "fail", customer: Customer = {}): AttemptResult {
    const problem = this.checkoutProblem(target);
    if (problem)
      return { ok: false, status: problem.status, error: { code: "BAD_REQUEST_ERROR", ...problem } };
    if ("orderId" in target) return this.attemptOrder(this.orders.get(target.orderId)!, outcome, customer);
    return this.attemptSubscription(this.subscriptions.get(target.subscriptionId)!, outcome, customer);
  }

  /** The fields Checkout gives the handler (or posts to callback_url) for a captured payment. */
  successFields(p: RzPayment): CheckoutFields | null {
    if (p.status !== "captured" && p.status !== "refunded") return null;
    if (p.subscriptionId) {
      return {
        razorpay_payment_id: p.id,
        razorpay_subscription_id: p.subscriptionId,
        razorpay_signature: this.sign(`${p.id}|${p.subscriptionId}`),
      };
    }
    return {
      razorpay_payment_id: p.id,
      razorpay_order_id: p.orderId!,
      razorpay_signature: this.sign(`${p.orderId}|${p.id}`),
    };
  }

  /** Checkout's `payment.failed` error object for a failed payment. */
  failure(p: RzPayment): CheckoutFailure | null {
    if (!p.error) return null;
    return {
      ...p.error,
      metadata: {
        payment_id: p.id,
        ...(p.orderId ? { order_id: p.orderId } : {}),
        ...(p.subscriptionId ? { subscription_id: p.subscriptionId } : {}),
      },
    };
  }

  private newPayment(
    base: { amount: number; currency: Currency; orderId: string | null; subscriptionId: string | null },
    outcome: "pay" | "fail",
    customer: Customer,
  ): RzPayment {
    const p: RzPayment = {
      id: razorpayId("pay"),
      amount: base.amount,
      currency: base.currency,
      status: outcome === "pay" ? "captured" : "failed",
      orderId: base.orderId,
      invoiceId: base.subscriptionId ? razorpayId("inv") : null,
      subscriptionId: base.subscriptionId,
      amountRefunded: 0,
      name: clip(customer.name, 100) ?? "Sandbox Customer",
      email: clip(customer.email, 100) ?? "customer@example.com",
      contact: clip(customer.contact, 20) ?? "+919000090000",
      notes: customer.notes ?? {},
      description:
        clip(customer.description, 255) ??
        (base.subscriptionId ? "Recurring Payment via Subscription" : null),
      error:
        outcome === "fail"
          ? {
              code: "BAD_REQUEST_ERROR",
              description: "Payment failed",
              source: "bank",
              step: "payment_authorization",
              reason: "payment_failed",
              field: null,
            }
          : null,
      cardId: razorpayId("card"),
      createdAt: nowSeconds(),
    };
    this.payments.set(p.id, p);
    return p;
  }

  private attemptOrder(o: RzOrder, outcome: "pay" | "fail", customer: Customer): AttemptResult {
    const p = this.newPayment(
      { amount: o.amount - o.amountPaid, currency: o.currency, orderId: o.id, subscriptionId: null },
      outcome,
      customer,
    );
    o.attempts += 1;
    if (o.status === "created") o.status = "attempted";
    const refs: EventRefs = { order: o.id, payment: p.id };
    let specs: EventSpec[];
    if (outcome === "pay") {
      o.status = "paid";
      o.amountPaid = o.amount;
      specs = [
        ...this.captureEvents(p, refs),
        {
          event: "order.paid",
          payload: { payment: { entity: this.paymentEntity(p) }, order: { entity: this.orderEntity(o) } },
          refs,
        },
      ];
    } else {
      specs = [{ event: "payment.failed", payload: { payment: { entity: this.paymentEntity(p) } }, refs }];
    }
    const delivered = this.webhooks.emit(specs, p.createdAt);
    return { ok: true, payment: p, response: this.successFields(p), error: this.failure(p), delivered };
  }

  /** payment.authorized (the snapshot before capture) and payment.captured. */
  private captureEvents(p: RzPayment, refs: EventRefs): EventSpec[] {
    return [
      {
        event: "payment.authorized",
        payload: {
          payment: {
            entity: this.paymentEntity(p, {
              status: "authorized",
              captured: p.subscriptionId ? "0" : false,
              fee: null,
              tax: null,
            }),
          },
        },
        refs,
      },
      { event: "payment.captured", payload: { payment: { entity: this.paymentEntity(p) } }, refs },
    ];
  }

  /** The order Razorpay makes for each invoice of a subscription. */
  private invoiceOrder(s: RzSubscription, plan: RzPlan, outcome: "pay" | "fail"): RzOrder {
    const amount = plan.item.amount * s.quantity;
    const o: RzOrder = {
      id: razorpayId("order"),
      amount,
      currency: plan.item.currency,
      receipt: null,
      notes: {},
      status: outcome === "pay" ? "paid" : "attempted",
      attempts: 1,
      amountPaid: outcome === "pay" ? amount : 0,
      partialPayment: false,
      createdAt: nowSeconds(),
      subscriptionId: s.id,
    };
    this.orders.set(o.id, o);
    return o;
  }

  private attemptSubscription(s: RzSubscription, outcome: "pay" | "fail", customer: Customer): AttemptResult {
    const plan = this.plans.get(s.planId)!;
    const order = this.invoiceOrder(s, plan, outcome);
    const p = this.newPayment(
      { amount: order.amount, currency: order.currency, orderId: order.id, subscriptionId: s.id },
      outcome,
      customer,
    );
    const refs: EventRefs = { subscription: s.id, payment: p.id, order: order.id };
    if (outcome === "fail") {
      s.authAttempts += 1;
      const delivered = this.webhooks.emit(
        [{ event: "payment.failed", payload: { payment: { entity: this.paymentEntity(p) } }, refs }],
        p.createdAt,
      );
      return { ok: true, payment: p, response: null, error: this.failure(p), delivered };
    }
    const authenticated = this.subscriptionEntity(s, { status: "authenticated" });
    this.startCycle(s, plan, p.createdAt);
    const payment = { entity: this.paymentEntity(p) };
    const subscription = { entity: this.subscriptionEntity(s) };
    const delivered = this.webhooks.emit(
      [
        ...this.captureEvents(p, refs),
        { event: "subscription.authenticated", payload: { subscription: { entity: authenticated } }, refs },
        // Razorpay's activated event says it contains only the subscription, yet carries the payment.
        {
          event: "subscription.activated",
          contains: ["subscription"],
          payload: { subscription, payment },
          refs,
        },
        { event: "subscription.charged", payload: { subscription, payment }, refs },
        ...this.completedEvents(s, payment, refs),
      ],
      p.createdAt,
    );
    return { ok: true, payment: p, response: this.successFields(p), error: null, delivered };
  }

  /** A paid charge: the next billing cycle starts (or the last one ends the subscription). */
  private startCycle(s: RzSubscription, plan: RzPlan, now: number): void {
    s.paidCount += 1;
    s.authAttempts = 0;
    s.currentStart = s.currentEnd !== null && s.currentEnd > now ? s.currentEnd : now;
    s.currentEnd = addPeriods(s.currentStart, plan, 1);
    s.chargeAt = s.currentEnd;
    s.status = "active";
    if (s.paidCount >= s.totalCount) {
      s.status = "completed";
      s.chargeAt = null;
      s.endedAt = now;
    }
  }

  private completedEvents(s: RzSubscription, payment: { entity: unknown }, refs: EventRefs): EventSpec[] {
    if (s.status !== "completed") return [];
    return [
      {
        event: "subscription.completed",
        payload: { subscription: { entity: this.subscriptionEntity(s) }, payment },
        refs,
      },
    ];
  }

  /**
   * Moves a subscription as Razorpay's billing would: "charged" (the next invoice is paid; from
   * pending or halted it is activated again), "pending" (a charge failed, will be retried),
   * "halted" (retries used up), "cancelled".
   */
  moveSubscription(id: string, to: SubscriptionMove): Outcome {
    const s = this.subscriptions.get(id);
    if (!s) return done(notFound());
    const plan = this.plans.get(s.planId)!;
    const refused = () =>
      done(
        razorpayError(400, `The subscription is ${s.status}: it cannot be moved to ${to}.`, {
          field: "status",
        }),
      );
    if (to === "cancelled") {
      if (!["created", "authenticated", "active", "pending", "halted"].includes(s.status)) return refused();
      return this.cancelNow(s);
    }
    if (to === "charged") {
      if (!["created", "authenticated", "active", "pending", "halted"].includes(s.status)) return refused();
      // cancel_at_cycle_end: the cycle ended, so the subscription ends instead of renewing.
      if (s.cancelAtCycleEnd) return this.cancelNow(s);
      if (s.status === "created") {
        const r = this.attemptSubscription(s, "pay", {});
        return r.ok
          ? { reply: { status: 200, body: this.subscriptionEntity(s) }, delivered: r.delivered }
          : done(razorpayError(r.status, r.error.description));
      }
      const before = s.status;
      const order = this.invoiceOrder(s, plan, "pay");
      const p = this.newPayment(
        { amount: order.amount, currency: order.currency, orderId: order.id, subscriptionId: s.id },
        "pay",
        {},
      );
      this.startCycle(s, plan, p.createdAt);
      const refs: EventRefs = { subscription: s.id, payment: p.id, order: order.id };
      const payment = { entity: this.paymentEntity(p) };
      const subscription = { entity: this.subscriptionEntity(s) };
      const delivered = this.webhooks.emit(
        [
          ...this.captureEvents(p, refs),
          ...(before === "pending" || before === "halted"
            ? [
                {
                  event: "subscription.activated",
                  contains: ["subscription"],
                  payload: { subscription, payment },
                  refs,
                },
              ]
            : []),
          { event: "subscription.charged", payload: { subscription, payment }, refs },
          ...this.completedEvents(s, payment, refs),
        ],
        p.createdAt,
      );
      return { reply: { status: 200, body: this.subscriptionEntity(s) }, delivered };
    }
    // pending / halted: a charge failed.
    if (!["active", "pending", "halted"].includes(s.status) || (to === "pending" && s.status === "halted")) {
      return refused();
    }
    const order = this.invoiceOrder(s, plan, "fail");
    const p = this.newPayment(
      { amount: order.amount, currency: order.currency, orderId: order.id, subscriptionId: s.id },
      "fail",
      {},
    );
    s.status = to;
    s.authAttempts = to === "halted" ? 4 : s.authAttempts + 1;
    s.chargeAt = to === "halted" ? null : p.createdAt + DAY;
    const refs: EventRefs = { subscription: s.id, payment: p.id, order: order.id };
    const delivered = this.webhooks.emit(
      [
        { event: "payment.failed", payload: { payment: { entity: this.paymentEntity(p) } }, refs },
        {
          event: `subscription.${to}`,
          contains: ["subscription"],
          payload: { subscription: { entity: this.subscriptionEntity(s) } },
          refs: { subscription: s.id },
        },
      ],
      p.createdAt,
    );
    return { reply: { status: 200, body: this.subscriptionEntity(s) }, delivered };
  }

  private parentRefs(p: RzPayment): EventRefs {
    return {
      ...(p.orderId ? { order: p.orderId } : {}),
      ...(p.subscriptionId ? { subscription: p.subscriptionId } : {}),
    };
  }

  /** Everything, for the sandbox's /razorpay page and tests. */
  snapshot() {
    const newest = <T extends { createdAt: number }>(m: Map<string, T>) =>
      [...m.values()].reverse().sort((a, b) => b.createdAt - a.createdAt);
    return {
      keyId: this.keyId,
      webhookUrl: this.webhooks.url,
      modes: this.webhooks.modeSettings(),
      held: this.webhooks.heldCount(),
      orders: newest(this.orders).map((o) => ({
        ...this.orderEntity(o),
        subscription_id: o.subscriptionId,
      })),
      payments: newest(this.payments).map((p) => ({
        ...this.paymentEntity(p),
        subscription_id: p.subscriptionId,
      })),
      refunds: newest(this.refunds).map((r) => this.refundEntity(r)),
      plans: newest(this.plans).map((p) => this.planEntity(p)),
      subscriptions: newest(this.subscriptions).map((s) => this.subscriptionEntity(s)),
    };
  }
}

// ---- validation helpers ----

/** A fault path ("/payments/:id/refund"; `*` also matches one segment) against a call's path. */
function pathMatches(pattern: string, path: string): boolean {
  const want = pattern
    .replace(/^\/?(razorpay\/)?v1(?=\/)/, "")
    .split("/")
    .filter(Boolean);
  const got = path.split("/").filter(Boolean);
  return want.length === got.length && want.every((w, i) => w === got[i] || w === "*" || w.startsWith(":"));
}

function asObject(v: unknown): Record<string, unknown> | null {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

/** Razorpay refuses fields it does not know: "<field> is/are not required and should not be sent". */
function unexpected(b: Record<string, unknown>, allowed: string[]): RazorpayReply | null {
  const extra = Object.keys(b).filter((k) => !allowed.includes(k));
  return extra.length
    ? razorpayError(400, `${extra.join(", ")} is/are not required and should not be sent`, {
        field: extra[0]!,
      })
    : null;
}

/** An integer (or a string of digits, which Razorpay also takes); null otherwise. */
function integerOf(v: unknown): number | null {
  if (typeof v === "number" && Number.isSafeInteger(v)) return v;
  if (typeof v === "string" && /^\d{1,15}$/.test(v)) return Number(v);
  return null;
}

function amountOf(v: unknown, currency: string): number | RazorpayReply {
  if (v === undefined || v === null || v === "")
    return razorpayError(400, "The amount field is required.", { field: "amount" });
  const n = integerOf(v);
  if (n === null) return razorpayError(400, "The amount must be an integer.", { field: "amount" });
  if (n < 100) return razorpayError(400, minimumMessage(currency), { field: "amount" });
  return n;
}

/** Notes: key-value pairs, at most 15, each value at most 256 characters (`[]` means none). */
function notesOf(v: unknown): { ok: Notes } | RazorpayReply {
  if (v === undefined || v === null || (Array.isArray(v) && v.length === 0)) return { ok: {} };
  const o = asObject(v);
  if (!o) return razorpayError(400, "The notes must be an object of key-value pairs.", { field: "notes" });
  const entries = Object.entries(o);
  if (entries.length > MAX_NOTES)
    return razorpayError(400, "The notes may not have more than 15 items.", { field: "notes" });
  const out: Notes = {};
  for (const [k, value] of entries) {
    if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") {
      return razorpayError(400, `The notes.${k} must be a string.`, { field: "notes" });
    }
    const s = String(value);
    if (s.length > MAX_NOTE_VALUE) {
      return razorpayError(400, `The notes.${k} may not be greater than 256 characters.`, { field: "notes" });
    }
    out[k] = s;
  }
  return { ok: out };
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  const o = asObject(v);
  if (!o) return v;
  return Object.fromEntries(
    Object.keys(o)
      .sort()
      .map((k) => [k, sortKeys(o[k])]),
  );
}

function clip(s: string | undefined, max: number): string | undefined {
  const t = s?.trim();
  return t ? t.slice(0, max) : undefined;
}

/** `n` billing cycles of the plan after `t` (Unix seconds), by calendar in UTC. */
function addPeriods(t: number, plan: Pick<RzPlan, "period" | "interval">, n: number): number {
  const d = new Date(t * 1000);
  const k = plan.interval * n;
  switch (plan.period) {
    case "daily":
      d.setUTCDate(d.getUTCDate() + k);
      break;
    case "weekly":
      d.setUTCDate(d.getUTCDate() + 7 * k);
      break;
    case "monthly":
      d.setUTCMonth(d.getUTCMonth() + k);
      break;
    case "quarterly":
      d.setUTCMonth(d.getUTCMonth() + 3 * k);
      break;
    case "yearly":
      d.setUTCFullYear(d.getUTCFullYear() + k);
      break;
  }
  return Math.floor(d.getTime() / 1000);
}
