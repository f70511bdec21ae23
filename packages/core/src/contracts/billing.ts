/**
 * Money (PRODUCT.md §7): what crosses the bindings for buying credits through Razorpay, the
 * email-subdomain subscription and receipts. Credits and amounts always come from our own order
 * record; nothing the browser or a webhook says about them is trusted.
 */
import * as v from "valibot";
import type { RpcResult } from "./rpc.ts";

export const CurrencySchema = v.picklist(["INR", "USD"]);
export type Currency = v.InferOutput<typeof CurrencySchema>;

/** A credit pack as priced now (minor units: paise, cents). Past orders keep their own copy. */
export type CreditPack = {
  id: string;
  currency: Currency;
  credits: number;
  amount: number;
  active: boolean;
  sort: number;
};

/** What the browser needs to open Razorpay Checkout for one order we created and recorded. */
export type CheckoutOrder = {
  /** Our order id. */
  orderId: string;
  razorpayOrderId: string;
  amount: number;
  currency: Currency;
  credits: number;
  /** The public key id Checkout is opened with. */
  keyId: string;
};

const RazorpayId = (prefix: string) =>
  v.pipe(v.string(), v.regex(new RegExp(`^${prefix}_[A-Za-z0-9]{1,40}$`)));
const Signature = v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/));

/** The Checkout handler's fields (or the callback_url POST), as the browser hands them over. */
export const CheckoutResultSchema = v.object({
  razorpay_order_id: RazorpayId("order"),
  razorpay_payment_id: RazorpayId("pay"),
  razorpay_signature: Signature,
});
export type CheckoutResult = v.InferOutput<typeof CheckoutResultSchema>;

/** The subscription Checkout's handler fields. */
export const SubscriptionCheckoutResultSchema = v.object({
  razorpay_subscription_id: RazorpayId("sub"),
  razorpay_payment_id: RazorpayId("pay"),
  razorpay_signature: Signature,
});
export type SubscriptionCheckoutResult = v.InferOutput<typeof SubscriptionCheckoutResultSchema>;

/**
 * What a confirmed payment did: `granted` now, `already_granted` (the webhook or an earlier
 * callback got there first), `pending` (authorized, not yet captured: the webhook grants it).
 */
export type PaymentOutcome = {
  status: "granted" | "already_granted" | "pending";
  paymentId: string;
  credits: number;
};

export type PaymentStatus = "captured" | "failed" | "refunded" | "partially_refunded";

/** One payment as the payments page and its receipt show it. */
export type PaymentRecord = {
  id: string;
  tenantId: string;
  orderId: string | null;
  subscriptionId: string | null;
  /** What was bought: a credit pack's credits, or the subdomain plan. */
  kind: "credits" | "subscription";
  credits: number;
  amount: number;
  currency: Currency;
  status: PaymentStatus;
  method: string | null;
  amountRefunded: number;
  creditsTakenBack: number;
  createdAt: number;
};

export type SubscriptionStatus =
  | "created"
  | "authenticated"
  | "active"
  | "pending"
  | "halted"
  | "cancelled"
  | "completed"
  | "expired"
  | "paused";

/** The tenant's email-subdomain subscription: `quantity` extra subdomains beyond the free quota. */
export type SubscriptionRecord = {
  id: string;
  tenantId: string;
  status: SubscriptionStatus;
  quantity: number;
  amount: number;
  currency: Currency;
  currentEnd: number | null;
  createdAt: number;
  updatedAt: number;
};

/** What the browser needs to open Checkout for a subscription. */
export type CheckoutSubscription = { subscriptionId: string; keyId: string; quantity: number };

/** GSTIN: 2 digits (state), PAN (5 letters, 4 digits, 1 letter), entity digit, Z, checksum. */
export const GSTIN_PATTERN = /^\d{2}[A-Z]{5}\d{4}[A-Z][1-9A-Z]Z[0-9A-Z]$/;

/** The tenant's billing details, printed on every receipt; entered once in settings. */
export const BillingDetailsSchema = v.object({
  legalName: v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(200)),
  address: v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(500)),
  gstin: v.nullable(v.pipe(v.string(), v.trim(), v.toUpperCase(), v.regex(GSTIN_PATTERN))),
});
export type BillingDetails = v.InferOutput<typeof BillingDetailsSchema>;

const Notes = v.union([v.record(v.string(), v.unknown()), v.array(v.unknown())]);

/** The payment entity, as far as we read it (Razorpay adds fields freely). */
export const RazorpayPaymentSchema = v.looseObject({
  id: RazorpayId("pay"),
  entity: v.literal("payment"),
  amount: v.pipe(v.number(), v.integer()),
  currency: v.string(),
  status: v.picklist(["created", "authorized", "captured", "refunded", "failed"]),
  order_id: v.nullish(v.string()),
  invoice_id: v.nullish(v.string()),
  method: v.nullish(v.string()),
  amount_refunded: v.optional(v.pipe(v.number(), v.integer()), 0),
  error_code: v.nullish(v.string()),
  error_description: v.nullish(v.string()),
  notes: v.optional(Notes),
  created_at: v.number(),
});
export type RazorpayPayment = v.InferOutput<typeof RazorpayPaymentSchema>;

export const RazorpayRefundSchema = v.looseObject({
  id: RazorpayId("rfnd"),
  entity: v.literal("refund"),
  amount: v.pipe(v.number(), v.integer()),
  currency: v.string(),
  payment_id: RazorpayId("pay"),
  status: v.picklist(["pending", "processed", "failed"]),
  created_at: v.number(),
});

export const RazorpaySubscriptionSchema = v.looseObject({
  id: RazorpayId("sub"),
  entity: v.literal("subscription"),
  plan_id: v.string(),
  status: v.picklist([
    "created",
    "authenticated",
    "active",
    "pending",
    "halted",
    "cancelled",
    "completed",
    "expired",
    "paused",
  ]),
  quantity: v.optional(v.pipe(v.number(), v.integer()), 1),
  current_end: v.nullish(v.number()),
  notes: v.optional(Notes),
});

/**
 * A webhook event as Razorpay posts it (`payload.<name>.entity`), checked by its signature in the
 * dashboard before it crosses into the pipeline. Unknown events still parse: they are
 * acknowledged and ignored.
 */
export const RazorpayEventSchema = v.looseObject({
  entity: v.literal("event"),
  event: v.pipe(v.string(), v.maxLength(100)),
  payload: v.looseObject({
    payment: v.optional(v.object({ entity: RazorpayPaymentSchema })),
    order: v.optional(v.object({ entity: v.looseObject({ id: RazorpayId("order") }) })),
    refund: v.optional(v.object({ entity: RazorpayRefundSchema })),
    subscription: v.optional(v.object({ entity: RazorpaySubscriptionSchema })),
  }),
  created_at: v.number(),
});
export type RazorpayEvent = v.InferOutput<typeof RazorpayEventSchema>;

/** What the pipeline did with an event; every outcome is acknowledged with a 2xx. */
export type EventOutcome =
  | "granted"
  | "already_granted"
  | "order_failed"
  | "refunded"
  | "subscription_updated"
  | "duplicate_event"
  | "unknown_order"
  | "amount_mismatch"
  | "ignored";

/**
 * The pipeline's `BillingEntrypoint`, bound by the dashboard's Razorpay webhook route only
 * (the tenant API's binding cannot reach it). The event was verified by its signature over the
 * raw body before it was parsed.
 */
export interface BillingApi {
  razorpayEvent(eventId: string, event: RazorpayEvent): Promise<RpcResult<{ outcome: EventOutcome }>>;
}
