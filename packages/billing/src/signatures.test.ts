import { utf8 } from "@concierge/crypto";
import { describe, expect, it } from "vitest";
import {
  checkoutSignatureValid,
  signCheckout,
  signSubscriptionCheckout,
  signWebhook,
  subscriptionSignatureValid,
  webhookSignatureValid,
} from "./signatures.ts";

// The razorpay-node SDK's own test vectors (test/utils/razorpay-utils.spec.js), recomputed
// independently with Python's hmac (see the Razorpay notes, §3).
const SDK_SECRET = "EnLs21M47BllR3X8PSFtjtbd";
const ORDER = { orderId: "order_IEIaMR65cu6nz3", paymentId: "pay_IH4NVgf4Dreq1l" };
const ORDER_SIGNATURE = "0d4e745a1838664ad6c9c9902212a32d627d68e917290b0ad5f08ff4561bc50f";
const SUBSCRIPTION = { paymentId: "pay_IDZNwZZFtnjyym", subscriptionId: "sub_ID6MOhgkcoHj9I" };
const SUBSCRIPTION_SIGNATURE = "601f383334975c714c91a7d97dd723eb56520318355863dcf3821c0d07a17693";
const WEBHOOK_SECRET = "123456";
const WEBHOOK_BODY = '{"a":1,"b":2,"c":{"d":3}}';
const WEBHOOK_SIGNATURE = "2fe04e22977002e6c7cb553adab8b460cb9e2a4970d5953cb27a8472752e3bbc";

/** The signature with one hex digit changed (still 64 lowercase hex characters). */
const flip = (sig: string, at = 10) => sig.slice(0, at) + (sig[at] === "0" ? "1" : "0") + sig.slice(at + 1);

describe("Razorpay's SDK test vectors", () => {
  it("Checkout (orders): order_id|payment_id with the key secret", async () => {
    expect(await signCheckout(SDK_SECRET, ORDER.orderId, ORDER.paymentId)).toBe(ORDER_SIGNATURE);
    expect(await checkoutSignatureValid(SDK_SECRET, ORDER.orderId, ORDER.paymentId, ORDER_SIGNATURE)).toBe(
      true,
    );
  });

  it("Checkout (subscriptions): payment_id|subscription_id with the key secret", async () => {
    expect(
      await signSubscriptionCheckout(SDK_SECRET, SUBSCRIPTION.paymentId, SUBSCRIPTION.subscriptionId),
    ).toBe(SUBSCRIPTION_SIGNATURE);
    expect(
      await subscriptionSignatureValid(
        SDK_SECRET,
        SUBSCRIPTION.paymentId,
        SUBSCRIPTION.subscriptionId,
        SUBSCRIPTION_SIGNATURE,
      ),
    ).toBe(true);
  });

  it("webhooks: the raw body with the webhook secret", async () => {
    expect(await signWebhook(WEBHOOK_SECRET, WEBHOOK_BODY)).toBe(WEBHOOK_SIGNATURE);
    expect(await webhookSignatureValid(WEBHOOK_SECRET, utf8(WEBHOOK_BODY), WEBHOOK_SIGNATURE)).toBe(true);
  });
});

describe("Checkout signatures refuse anything tampered", () => {
  it("a changed digit, another payment, another order, another secret", async () => {
    const { orderId, paymentId } = ORDER;
    expect(await checkoutSignatureValid(SDK_SECRET, orderId, paymentId, flip(ORDER_SIGNATURE))).toBe(false);
    expect(await checkoutSignatureValid(SDK_SECRET, orderId, "pay_IH4NVgf4Dreq1m", ORDER_SIGNATURE)).toBe(
      false,
    );
    // Another tenant's order with this tenant's genuine payment signature.
    expect(await checkoutSignatureValid(SDK_SECRET, "order_IEIaMR65cu6nz4", paymentId, ORDER_SIGNATURE)).toBe(
      false,
    );
    expect(await checkoutSignatureValid("another-secret", orderId, paymentId, ORDER_SIGNATURE)).toBe(false);
    expect(await checkoutSignatureValid("", orderId, paymentId, ORDER_SIGNATURE)).toBe(false);
  });

  it("the parts swapped: an order signature is not a subscription signature, nor the reverse", async () => {
    // payment|order instead of order|payment.
    const swapped = await signSubscriptionCheckout(SDK_SECRET, ORDER.paymentId, ORDER.orderId);
    expect(await checkoutSignatureValid(SDK_SECRET, ORDER.orderId, ORDER.paymentId, swapped)).toBe(false);
    const asOrder = await signCheckout(SDK_SECRET, SUBSCRIPTION.subscriptionId, SUBSCRIPTION.paymentId);
    expect(
      await subscriptionSignatureValid(
        SDK_SECRET,
        SUBSCRIPTION.paymentId,
        SUBSCRIPTION.subscriptionId,
        asOrder,
      ),
    ).toBe(false);
    expect(
      await subscriptionSignatureValid(
        SDK_SECRET,
        SUBSCRIPTION.paymentId,
        "sub_ID6MOhgkcoHj9J",
        SUBSCRIPTION_SIGNATURE,
      ),
    ).toBe(false);
  });

  it("malformed signatures are refused: empty, short, long, uppercase, not hex, padded", async () => {
    const { orderId, paymentId } = ORDER;
    for (const bad of [
      "",
      ORDER_SIGNATURE.slice(0, 63),
      `${ORDER_SIGNATURE}0`,
      ORDER_SIGNATURE.toUpperCase(),
      `${ORDER_SIGNATURE.slice(0, 63)}g`,
      ` ${ORDER_SIGNATURE}`,
      "0".repeat(64),
    ]) {
      expect(await checkoutSignatureValid(SDK_SECRET, orderId, paymentId, bad), JSON.stringify(bad)).toBe(
        false,
      );
    }
  });
});

describe("webhook signatures are over the raw bytes", () => {
  const body = utf8(WEBHOOK_BODY);

  it("a missing or malformed header is refused", async () => {
    for (const header of [null, undefined, "", `sha256=${WEBHOOK_SIGNATURE}`, WEBHOOK_SIGNATURE.slice(1)]) {
      expect(await webhookSignatureValid(WEBHOOK_SECRET, body, header)).toBe(false);
    }
  });

  it("a body changed by one byte, or the key secret instead of the webhook secret, is refused", async () => {
    const changed = utf8('{"a":1,"b":3,"c":{"d":3}}');
    expect(await webhookSignatureValid(WEBHOOK_SECRET, changed, WEBHOOK_SIGNATURE)).toBe(false);
    expect(await webhookSignatureValid(WEBHOOK_SECRET, body, flip(WEBHOOK_SIGNATURE, 63))).toBe(false);
    expect(await webhookSignatureValid(SDK_SECRET, body, WEBHOOK_SIGNATURE)).toBe(false);
  });

  it("a signature over re-serialised JSON does not verify the bytes that arrived, and the reverse", async () => {
    // Razorpay's bodies are not in JSON.stringify's form (spacing, key order, escapes): what a
    // careless receiver would sign after parsing is different bytes.
    const raw =
      '{"entity":"event", "event":"payment.captured","payload":{"payment":{"entity":{"amount":49900}}},"contains":["payment"],"created_at":1}';
    const reserialised = JSON.stringify(JSON.parse(raw));
    expect(reserialised).not.toBe(raw);
    const overRaw = await signWebhook(WEBHOOK_SECRET, raw);
    const overReserialised = await signWebhook(WEBHOOK_SECRET, reserialised);
    expect(await webhookSignatureValid(WEBHOOK_SECRET, utf8(raw), overRaw)).toBe(true);
    expect(await webhookSignatureValid(WEBHOOK_SECRET, utf8(raw), overReserialised)).toBe(false);
    expect(await webhookSignatureValid(WEBHOOK_SECRET, utf8(reserialised), overRaw)).toBe(false);
  });

  it("accepts the header with surrounding whitespace (proxies fold headers) but nothing else around it", async () => {
    expect(await webhookSignatureValid(WEBHOOK_SECRET, body, ` ${WEBHOOK_SIGNATURE} `)).toBe(true);
    expect(await webhookSignatureValid(WEBHOOK_SECRET, body, `${WEBHOOK_SIGNATURE},v1`)).toBe(false);
  });

  it("reads the bytes of any Uint8Array view, not its whole underlying buffer", async () => {
    const padded = utf8(`xx${WEBHOOK_BODY}yy`);
    const view = padded.subarray(2, 2 + WEBHOOK_BODY.length);
    expect(await webhookSignatureValid(WEBHOOK_SECRET, view, WEBHOOK_SIGNATURE)).toBe(true);
  });
});
