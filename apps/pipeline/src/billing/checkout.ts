/**
 * Buying credits (PRODUCT.md §7): the order is created by us, at Razorpay and in D1, with the
 * pack's credits and amount copied as priced now; the Checkout handler's fields are then checked
 * against that record only. Nothing the browser says about credits or amounts is ever read.
 */
import { checkoutSignatureValid } from "@concierge/billing";
import {
  type CheckoutOrder,
  CheckoutResultSchema,
  createLogger,
  errorBody,
  newId,
  type PaymentOutcome,
  type RpcResult,
} from "@concierge/core";
import {
  getCreditPack,
  getOrderByRazorpayId,
  getTenantPreferences,
  insertOrder,
  recordCapturedPayment,
} from "@concierge/storage";
import * as v from "valibot";
import type { PipelineEnv } from "../env.ts";
import { razorpay, razorpayError } from "./razorpay.ts";

const log = createLogger("pipeline.billing");

/**
 * Creates the Razorpay order for one pack offered in the tenant's currency and records it. A pack
 * that is inactive, unknown or priced in another currency is `not_found`, as for any other id.
 */
export async function createOrder(
  env: PipelineEnv,
  tenantId: string,
  packId: unknown,
): Promise<RpcResult<{ order: CheckoutOrder }>> {
  if (typeof tenantId !== "string" || typeof packId !== "string" || packId.length > 64) {
    return errorBody("not_found", "No such credit pack.");
  }
  const prefs = await getTenantPreferences(env.DB, tenantId);
  if (!prefs) return errorBody("not_found", "No such tenant.");
  const pack = await getCreditPack(env.DB, packId);
  if (!pack?.active || pack.currency !== prefs.currency) {
    return errorBody("not_found", "No such credit pack.");
  }
  const orderId = newId("ord");
  // Our id as the receipt and in the notes: a person reading Razorpay's dashboard finds the
  // order here. The notes are never read back for credits or amounts.
  const created = await razorpay(env).createOrder({
    amount: pack.amount,
    currency: pack.currency,
    receipt: orderId,
    notes: { tenant_id: tenantId, order_id: orderId },
  });
  if (!created.ok) {
    log.warn("billing.order_create_failed", {
      tenant_id: tenantId,
      status: created.status,
      code: created.code,
      retryable: created.retryable,
    });
    return razorpayError(created);
  }
  await insertOrder(env.DB, {
    id: orderId,
    tenantId,
    packId: pack.id,
    credits: pack.credits,
    amount: pack.amount,
    currency: pack.currency,
    razorpayOrderId: created.value.id,
  });
  log.info("billing.order_created", { tenant_id: tenantId, order_id: orderId, pack_id: pack.id });
  return {
    ok: true,
    order: {
      orderId,
      razorpayOrderId: created.value.id,
      amount: pack.amount,
      currency: pack.currency,
      credits: pack.credits,
      keyId: env.RAZORPAY_KEY_ID,
    },
  };
}

/**
 * The Checkout handler's fields. The signature is checked over OUR stored Razorpay order id of
 * THAT tenant's order (another tenant's order is `not_found`, as a missing one); then Razorpay is
 * asked for the payment itself: only a captured payment of this order, for exactly the order's
 * amount and currency, grants, and only once whichever of this and the webhook comes first.
 */
export async function confirmCheckout(
  env: PipelineEnv,
  tenantId: string,
  input: unknown,
): Promise<RpcResult<PaymentOutcome>> {
  const parsed = v.safeParse(CheckoutResultSchema, input);
  if (!parsed.success) return errorBody("invalid_input", "The payment details are incomplete.");
  const result = parsed.output;
  const order = await getOrderByRazorpayId(env.DB, result.razorpay_order_id);
  if (!order || order.tenantId !== tenantId) return errorBody("not_found", "No such order.");
  const fields = { tenant_id: tenantId, order_id: order.id, payment_id: result.razorpay_payment_id };
  if (
    !(await checkoutSignatureValid(
      env.RAZORPAY_KEY_SECRET,
      order.razorpayOrderId,
      result.razorpay_payment_id,
      result.razorpay_signature,
    ))
  ) {
    log.warn("billing.checkout_signature_invalid", fields);
    return errorBody("invalid_signature", "The payment could not be verified.");
  }
  const fetched = await razorpay(env).getPayment(result.razorpay_payment_id);
  if (!fetched.ok) {
    log.warn("billing.payment_fetch_failed", { ...fields, status: fetched.status, code: fetched.code });
    return razorpayError(fetched);
  }
  const payment = fetched.value;
  if (payment.order_id !== order.razorpayOrderId) {
    log.error("billing.payment_order_mismatch", fields);
    return errorBody("payment_mismatch", "This payment does not belong to this order.");
  }
  if (payment.amount !== order.amount || payment.currency !== order.currency) {
    log.error("billing.amount_mismatch", { ...fields, amount: payment.amount, currency: payment.currency });
    return errorBody("amount_mismatch", "The payment's amount differs from the order's.");
  }
  switch (payment.status) {
    case "captured": {
      const { applied } = await recordCapturedPayment(env.DB, {
        tenantId,
        orderId: order.id,
        paymentId: payment.id,
        amount: order.amount,
        currency: order.currency,
        method: payment.method ?? null,
        credits: order.credits,
      });
      log.info(applied ? "billing.granted" : "billing.already_granted", { ...fields, via: "checkout" });
      return {
        ok: true,
        status: applied ? "granted" : "already_granted",
        paymentId: payment.id,
        credits: order.credits,
      };
    }
    case "created":
    case "authorized":
      // Not captured yet (late authorization, manual capture): payment.captured grants it later.
      log.info("billing.payment_pending", fields);
      return { ok: true, status: "pending", paymentId: payment.id, credits: order.credits };
    case "failed":
      log.info("billing.payment_failed", fields);
      return errorBody("payment_failed", "The payment failed. Nothing was charged.");
    case "refunded":
      // Refunded already: whatever the webhooks granted and took back stands; nothing more here.
      log.info("billing.payment_refunded", fields);
      return errorBody("payment_refunded", "This payment was refunded.");
  }
}
