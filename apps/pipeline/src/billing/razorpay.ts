import { RazorpayClient } from "@concierge/billing";
import { errorBody, type RpcError } from "@concierge/core";
import type { PipelineEnv } from "../env.ts";

/** The Razorpay API with the platform's key, at RAZORPAY_API_BASE_URL (the sandbox locally). */
export function razorpay(env: PipelineEnv): RazorpayClient {
  return new RazorpayClient({
    baseUrl: env.RAZORPAY_API_BASE_URL,
    keyId: env.RAZORPAY_KEY_ID,
    keySecret: env.RAZORPAY_KEY_SECRET,
  });
}

/**
 * A failed Razorpay call as the dashboard shows it: try again later (5xx, 429, network), or
 * Razorpay refused (4xx: nothing to retry). Razorpay's own words stay in the log, not the answer.
 */
export function razorpayError(r: { retryable: boolean }): RpcError {
  return r.retryable
    ? errorBody(
        "razorpay_unavailable",
        "Razorpay could not be reached just now. Nothing was charged; try again.",
      )
    : errorBody("razorpay_refused", "Razorpay refused the request. Nothing was charged.");
}
