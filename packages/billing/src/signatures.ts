/**
 * Razorpay's three signatures (/tmp notes §3, §4; Razorpay's docs "payment signature
 * verification" and "validate webhooks"): each a lowercase hex HMAC-SHA256.
 * - Checkout (orders): over `order_id|payment_id`, keyed with the API key secret. The order id is
 *   OURS (the one stored when we created the order), never the one the browser echoes back.
 * - Checkout (subscriptions): over `payment_id|subscription_id` (the order is reversed), same key.
 * - Webhooks: over the raw request body bytes exactly as received, keyed with the webhook secret
 *   (set per webhook in Razorpay's dashboard; not the key secret). Never re-serialised JSON.
 * Every check compares in constant time, so a forger learns nothing from how long a refusal took.
 */
import { hmacSha256Hex, timingSafeEqualString, utf8 } from "@concierge/crypto";

/** What Razorpay sends: 64 lowercase hex characters. Anything else is refused before any HMAC. */
const SIGNATURE = /^[0-9a-f]{64}$/;

async function valid(secret: string, message: Uint8Array, signature: string | null | undefined) {
  if (!secret || typeof signature !== "string" || !SIGNATURE.test(signature)) return false;
  const expected = await hmacSha256Hex(secret, new Uint8Array(message));
  return timingSafeEqualString(expected, signature);
}

/** The Checkout handler's `razorpay_signature` for a payment of our order `razorpayOrderId`. */
export function checkoutSignatureValid(
  keySecret: string,
  razorpayOrderId: string,
  paymentId: string,
  signature: string,
): Promise<boolean> {
  return valid(keySecret, utf8(`${razorpayOrderId}|${paymentId}`), signature);
}

/** The subscription Checkout's `razorpay_signature`: over `payment_id|subscription_id`. */
export function subscriptionSignatureValid(
  keySecret: string,
  paymentId: string,
  subscriptionId: string,
  signature: string,
): Promise<boolean> {
  return valid(keySecret, utf8(`${paymentId}|${subscriptionId}`), signature);
}

/**
 * `X-Razorpay-Signature` over the raw body bytes as they arrived (read the request as bytes and
 * verify BEFORE parsing). A missing header is invalid.
 */
export function webhookSignatureValid(
  webhookSecret: string,
  rawBody: Uint8Array,
  signatureHeader: string | null | undefined,
): Promise<boolean> {
  return valid(webhookSecret, rawBody, signatureHeader?.trim());
}

/** Signs a Checkout result as Razorpay does (the sandbox's Checkout, tests). */
export function signCheckout(keySecret: string, razorpayOrderId: string, paymentId: string): Promise<string> {
  return hmacSha256Hex(keySecret, utf8(`${razorpayOrderId}|${paymentId}`));
}

/** Signs a subscription Checkout result as Razorpay does (the sandbox's Checkout, tests). */
export function signSubscriptionCheckout(
  keySecret: string,
  paymentId: string,
  subscriptionId: string,
): Promise<string> {
  return hmacSha256Hex(keySecret, utf8(`${paymentId}|${subscriptionId}`));
}

/** Signs a webhook body as Razorpay does: the value of `X-Razorpay-Signature` (the sandbox, tests). */
export function signWebhook(webhookSecret: string, rawBody: Uint8Array | string): Promise<string> {
  const bytes = typeof rawBody === "string" ? utf8(rawBody) : new Uint8Array(rawBody);
  return hmacSha256Hex(webhookSecret, bytes);
}
