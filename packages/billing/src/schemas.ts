/**
 * Razorpay's API responses, as far as we read them (Razorpay adds fields freely, so every object
 * is loose). The payment, refund and subscription entities are the contract's own schemas
 * (packages/core/src/contracts/billing.ts), shared with the webhook event; the rest are here.
 * `notes` is `{}` or, when empty, `[]`.
 */
import {
  type RazorpayPayment,
  RazorpayPaymentSchema,
  RazorpayRefundSchema,
  RazorpaySubscriptionSchema,
} from "@concierge/core";
import * as v from "valibot";

export { RazorpayPaymentSchema, RazorpayRefundSchema, RazorpaySubscriptionSchema };
export type { RazorpayPayment };

const Id = (prefix: string) => v.pipe(v.string(), v.regex(new RegExp(`^${prefix}_[A-Za-z0-9]{1,40}$`)));
const Int = v.pipe(v.number(), v.integer());
const Notes = v.union([v.record(v.string(), v.unknown()), v.array(v.unknown())]);

/** `POST /v1/orders`, `GET /v1/orders/:id`. */
export const RazorpayOrderSchema = v.looseObject({
  id: Id("order"),
  entity: v.literal("order"),
  amount: Int,
  amount_paid: v.optional(Int, 0),
  amount_due: v.optional(Int),
  currency: v.string(),
  receipt: v.nullish(v.string()),
  status: v.picklist(["created", "attempted", "paid"]),
  attempts: v.optional(Int, 0),
  notes: v.optional(Notes),
  created_at: v.number(),
});
export type RazorpayOrder = v.InferOutput<typeof RazorpayOrderSchema>;

export type RazorpayRefund = v.InferOutput<typeof RazorpayRefundSchema>;
export type RazorpaySubscription = v.InferOutput<typeof RazorpaySubscriptionSchema>;

/** `POST /v1/plans`: immutable; a new price is a new plan. */
export const RazorpayPlanSchema = v.looseObject({
  id: Id("plan"),
  entity: v.literal("plan"),
  period: v.picklist(["daily", "weekly", "monthly", "quarterly", "yearly"]),
  interval: Int,
  item: v.looseObject({
    amount: Int,
    currency: v.string(),
    name: v.optional(v.string()),
  }),
  notes: v.optional(Notes),
  created_at: v.optional(v.number()),
});
export type RazorpayPlan = v.InferOutput<typeof RazorpayPlanSchema>;

/**
 * Razorpay's error envelope: `{"error":{"code","description",…}}`. Only code and description are
 * reliable; source, step, reason, field and metadata are often missing (or "NA").
 */
export const RazorpayErrorSchema = v.object({
  error: v.looseObject({
    code: v.optional(v.string(), "UNKNOWN_ERROR"),
    description: v.optional(v.nullable(v.string()), null),
    field: v.nullish(v.string()),
    source: v.nullish(v.string()),
    step: v.nullish(v.string()),
    reason: v.nullish(v.string()),
  }),
});
