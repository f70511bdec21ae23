/**
 * The Razorpay API over `fetch` (no SDK: it targets Node): HTTP Basic with key_id:key_secret,
 * JSON bodies, at `RAZORPAY_API_BASE_URL` (the sandbox locally; `https://api.razorpay.com/v1` in
 * production). Every call answers a result, never throws: `{ ok: true, value }` with the response
 * checked against its schema, or `{ ok: false, retryable, status, code, description }` where 5xx,
 * 429 and network failures (including timeouts) are retryable and every other 4xx is not.
 */
import * as v from "valibot";
import {
  type RazorpayOrder,
  RazorpayErrorSchema,
  RazorpayOrderSchema,
  type RazorpayPayment,
  RazorpayPaymentSchema,
  type RazorpayPlan,
  RazorpayPlanSchema,
  type RazorpayRefund,
  RazorpayRefundSchema,
  type RazorpaySubscription,
  RazorpaySubscriptionSchema,
} from "./schemas.ts";

export const RAZORPAY_API_BASE_URL = "https://api.razorpay.com/v1";

export type RazorpayFailure = {
  ok: false;
  /** Worth trying again later: 5xx, 429, or the request did not complete (network, timeout). */
  retryable: boolean;
  /** The HTTP status; 0 when no response arrived. */
  status: number;
  /** Razorpay's `error.code` (BAD_REQUEST_ERROR, SERVER_ERROR, …), or ours: network_error, timeout, invalid_response, http_<status>. */
  code: string;
  /** Razorpay's `error.description` (for logs; not shown to people as is). */
  description: string;
};
export type RazorpayResult<T> = { ok: true; value: T } | RazorpayFailure;

export type RazorpayClientOptions = {
  /** RAZORPAY_API_BASE_URL; default Razorpay's own. */
  baseUrl?: string | undefined;
  keyId: string;
  keySecret: string;
  /** A stand-in for the global fetch (tests pass a stub; nothing else should). */
  fetch?: typeof fetch;
  /** Per request; default 10 s (Workers' subrequests should not hang on a slow API). */
  timeoutMs?: number;
};

type Notes = Record<string, string>;

export type CreateOrderInput = {
  amount: number;
  currency: string;
  /** At most 40 characters: our order id. */
  receipt?: string;
  notes?: Notes;
};

export type RefundInput = {
  /** Minor units; omitted refunds the whole payment. */
  amount?: number;
  speed?: "normal" | "optimum";
  receipt?: string;
  notes?: Notes;
};

export type CreatePlanInput = {
  period: "daily" | "weekly" | "monthly" | "quarterly" | "yearly";
  interval: number;
  item: { name: string; amount: number; currency: string; description?: string };
  notes?: Notes;
};

export type CreateSubscriptionInput = {
  plan_id: string;
  /** Billing cycles; Razorpay requires a count. */
  total_count: number;
  quantity?: number;
  start_at?: number;
  expire_by?: number;
  customer_notify?: boolean;
  notes?: Notes;
};

export class RazorpayClient {
  readonly #base: string;
  readonly #auth: string;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;

  constructor(options: RazorpayClientOptions) {
    this.#base = (options.baseUrl || RAZORPAY_API_BASE_URL).replace(/\/+$/, "");
    this.#auth = `Basic ${btoa(`${options.keyId}:${options.keySecret}`)}`;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** `POST /orders`: the order Checkout is opened with. */
  createOrder(input: CreateOrderInput): Promise<RazorpayResult<RazorpayOrder>> {
    return this.#call("POST", "/orders", RazorpayOrderSchema, input);
  }

  /** `GET /payments/:id`: the payment as Razorpay has it now (status, order, amount). */
  getPayment(paymentId: string): Promise<RazorpayResult<RazorpayPayment>> {
    return this.#call("GET", `/payments/${encodeURIComponent(paymentId)}`, RazorpayPaymentSchema);
  }

  /**
   * `POST /payments/:id/refund`. With `idempotencyKey` (≥ 10 of `[A-Za-z0-9_-]`), a retry of the
   * same refund is safe: Razorpay answers it with the refund already made.
   */
  refundPayment(
    paymentId: string,
    input: RefundInput = {},
    idempotencyKey?: string,
  ): Promise<RazorpayResult<RazorpayRefund>> {
    const headers: Record<string, string> = idempotencyKey ? { "X-Refund-Idempotency": idempotencyKey } : {};
    return this.#call(
      "POST",
      `/payments/${encodeURIComponent(paymentId)}/refund`,
      RazorpayRefundSchema,
      input,
      headers,
    );
  }

  /** `POST /plans`: plans are immutable, so a price change means a new plan. */
  createPlan(input: CreatePlanInput): Promise<RazorpayResult<RazorpayPlan>> {
    return this.#call("POST", "/plans", RazorpayPlanSchema, input);
  }

  /** `POST /subscriptions`: `quantity` × the plan's amount per cycle. */
  createSubscription(input: CreateSubscriptionInput): Promise<RazorpayResult<RazorpaySubscription>> {
    return this.#call("POST", "/subscriptions", RazorpaySubscriptionSchema, input);
  }

  /** `GET /subscriptions/:id`. */
  getSubscription(subscriptionId: string): Promise<RazorpayResult<RazorpaySubscription>> {
    return this.#call(
      "GET",
      `/subscriptions/${encodeURIComponent(subscriptionId)}`,
      RazorpaySubscriptionSchema,
    );
  }

  /** `POST /subscriptions/:id/cancel`: at once unless `cancel_at_cycle_end`. */
  cancelSubscription(
    subscriptionId: string,
    input: { cancel_at_cycle_end: boolean } = { cancel_at_cycle_end: false },
  ): Promise<RazorpayResult<RazorpaySubscription>> {
    return this.#call(
      "POST",
      `/subscriptions/${encodeURIComponent(subscriptionId)}/cancel`,
      RazorpaySubscriptionSchema,
      input,
    );
  }

  async #call<S extends v.GenericSchema>(
    method: "GET" | "POST",
    path: string,
    schema: S,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<RazorpayResult<v.InferOutput<S>>> {
    let res: Response;
    try {
      res = await this.#fetch(`${this.#base}${path}`, {
        method,
        headers: {
          Authorization: this.#auth,
          Accept: "application/json",
          ...(body === undefined ? {} : { "Content-Type": "application/json" }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (err) {
      const timeout = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
      return failure(true, 0, timeout ? "timeout" : "network_error", String(err).slice(0, 200));
    }
    let json: unknown;
    try {
      json = await res.json();
    } catch {
      json = undefined;
    }
    if (res.ok) {
      const parsed = v.safeParse(schema, json);
      if (parsed.success) return { ok: true, value: parsed.output };
      // A 2xx that is not the entity we asked for: a proxy's page, or an API change. Retrying a
      // gateway's hiccup can help; a changed shape stays changed.
      return failure(
        json === undefined,
        res.status,
        "invalid_response",
        "Razorpay's answer had an unexpected shape.",
      );
    }
    const retryable = isRetryableStatus(res.status);
    const envelope = v.safeParse(RazorpayErrorSchema, json);
    return envelope.success
      ? failure(retryable, res.status, envelope.output.error.code, envelope.output.error.description ?? "")
      : failure(retryable, res.status, `http_${res.status}`, res.statusText);
  }
}

/** 5xx and 429 are worth retrying later; any other status will answer the same again. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

function failure(retryable: boolean, status: number, code: string, description: string): RazorpayFailure {
  return { ok: false, retryable, status, code, description };
}
