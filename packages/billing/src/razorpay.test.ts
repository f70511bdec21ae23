import { describe, expect, it } from "vitest";
import { isRetryableStatus, RAZORPAY_API_BASE_URL, RazorpayClient } from "./razorpay.ts";

/** What the client asked of the stub: method, URL, headers and the JSON body. */
type Seen = { method: string; url: string; headers: Headers; body: unknown };

/**
 * A local stand-in for `fetch` (no network): answers each request with `respond(seen)` and keeps
 * what was asked.
 */
function stub(respond: (seen: Seen) => Response | Promise<Response>) {
  const seen: Seen[] = [];
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const s: Seen = {
      method: init?.method ?? "GET",
      url: String(input),
      headers: new Headers(init?.headers),
      body: typeof init?.body === "string" ? JSON.parse(init.body) : undefined,
    };
    seen.push(s);
    return respond(s);
  }) as typeof globalThis.fetch;
  return { fetch, seen };
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
const rzpError = (status: number, code: string, description: string) =>
  json(status, { error: { code, description, source: "NA", step: "NA", reason: "NA", metadata: {} } });

const KEY_ID = "rzp_test_AbCdEfGhIjKlMn";
const KEY_SECRET = "test-key-secret";
const client = (
  fetch: typeof globalThis.fetch,
  baseUrl = "http://sandbox.test/razorpay/v1/",
  timeoutMs?: number,
) =>
  new RazorpayClient({
    baseUrl,
    keyId: KEY_ID,
    keySecret: KEY_SECRET,
    fetch,
    ...(timeoutMs ? { timeoutMs } : {}),
  });

// From Razorpay's docs (orders create; payment entity; subscription entity), as the notes quote them.
const ORDER = {
  amount: 49900,
  amount_due: 49900,
  amount_paid: 0,
  attempts: 0,
  created_at: 1756455561,
  currency: "INR",
  entity: "order",
  id: "order_RB58MiP5SPFYyM",
  notes: [],
  offer_id: null,
  receipt: "ord_123",
  status: "created",
};
const PAYMENT = {
  id: "pay_JRP3Y66cNcf2qF",
  entity: "payment",
  amount: 49900,
  currency: "INR",
  status: "captured",
  order_id: "order_RB58MiP5SPFYyM",
  invoice_id: null,
  international: false,
  method: "card",
  amount_refunded: 0,
  refund_status: null,
  captured: true,
  notes: { tenant_id: "t_1" },
  fee: 45,
  tax: 0,
  error_code: null,
  error_description: null,
  created_at: 1651722469,
};
const SUBSCRIPTION = {
  id: "sub_00000000000001",
  entity: "subscription",
  plan_id: "plan_00000000000001",
  status: "created",
  current_start: null,
  current_end: null,
  quantity: 2,
  notes: [],
  total_count: 120,
  created_at: 1773394958,
};

describe("requests", () => {
  it("creates an order: POST <base>/orders, HTTP Basic key_id:key_secret, JSON in and out (notes: [] accepted)", async () => {
    const { fetch, seen } = stub(() => json(200, ORDER));
    const r = await client(fetch).createOrder({
      amount: 49900,
      currency: "INR",
      receipt: "ord_123",
      notes: { order_id: "ord_123" },
    });
    // Razorpay's empty `notes` is `[]`; it parses (as an empty record).
    expect(r).toEqual({ ok: true, value: { ...ORDER, notes: {} } });
    expect(seen).toHaveLength(1);
    const [s] = seen;
    expect(s!.method).toBe("POST");
    expect(s!.url).toBe("http://sandbox.test/razorpay/v1/orders");
    expect(s!.headers.get("authorization")).toBe(`Basic ${btoa(`${KEY_ID}:${KEY_SECRET}`)}`);
    expect(s!.headers.get("content-type")).toBe("application/json");
    expect(s!.body).toEqual({
      amount: 49900,
      currency: "INR",
      receipt: "ord_123",
      notes: { order_id: "ord_123" },
    });
  });

  it("uses Razorpay's own base URL when none is configured", async () => {
    const { fetch, seen } = stub(() => json(200, PAYMENT));
    await new RazorpayClient({ keyId: KEY_ID, keySecret: KEY_SECRET, fetch }).getPayment(PAYMENT.id);
    expect(seen[0]!.url).toBe(`${RAZORPAY_API_BASE_URL}/payments/pay_JRP3Y66cNcf2qF`);
    expect(RAZORPAY_API_BASE_URL).toBe("https://api.razorpay.com/v1");
  });

  it("fetches a payment with GET and no body, and escapes the id into the path", async () => {
    const { fetch, seen } = stub(() => json(200, PAYMENT));
    const r = await client(fetch).getPayment(PAYMENT.id);
    expect(r.ok && r.value.status).toBe("captured");
    expect(r.ok && r.value.order_id).toBe(ORDER.id);
    expect(seen[0]!.method).toBe("GET");
    expect(seen[0]!.body).toBeUndefined();
    expect(seen[0]!.headers.get("content-type")).toBeNull();
    await client(fetch).getPayment("pay_x/../../orders");
    expect(seen[1]!.url).toBe("http://sandbox.test/razorpay/v1/payments/pay_x%2F..%2F..%2Forders");
  });

  it("refunds with the idempotency header, so a retried refund is the same refund", async () => {
    const refund = {
      id: "rfnd_FP8QHiV938haTz",
      entity: "refund",
      amount: 24950,
      currency: "INR",
      payment_id: PAYMENT.id,
      notes: [],
      receipt: null,
      created_at: 1597078866,
      status: "processed",
    };
    const { fetch, seen } = stub(() => json(200, refund));
    const r = await client(fetch).refundPayment(PAYMENT.id, { amount: 24950 }, "refund-ord_123-1");
    expect(r.ok && r.value.id).toBe(refund.id);
    expect(seen[0]!.url).toBe(`http://sandbox.test/razorpay/v1/payments/${PAYMENT.id}/refund`);
    expect(seen[0]!.headers.get("x-refund-idempotency")).toBe("refund-ord_123-1");
    expect(seen[0]!.body).toEqual({ amount: 24950 });
  });

  it("plans and subscriptions: create, fetch, cancel (at once by default)", async () => {
    const plan = {
      id: "plan_00000000000001",
      entity: "plan",
      interval: 1,
      period: "monthly",
      item: { id: "item_1", name: "Extra email subdomain", amount: 49900, currency: "INR" },
      notes: [],
      created_at: 1580219935,
    };
    const { fetch, seen } = stub((s) =>
      s.url.endsWith("/plans")
        ? json(200, plan)
        : s.url.endsWith("/cancel")
          ? json(200, { ...SUBSCRIPTION, status: "cancelled" })
          : json(200, SUBSCRIPTION),
    );
    const c = client(fetch);
    const p = await c.createPlan({
      period: "monthly",
      interval: 1,
      item: { name: "Extra email subdomain", amount: 49900, currency: "INR" },
    });
    expect(p.ok && p.value.id).toBe(plan.id);
    const s = await c.createSubscription({ plan_id: plan.id, total_count: 120, quantity: 2 });
    expect(s.ok && [s.value.status, s.value.quantity]).toEqual(["created", 2]);
    const g = await c.getSubscription(SUBSCRIPTION.id);
    expect(g.ok && g.value.id).toBe(SUBSCRIPTION.id);
    const x = await c.cancelSubscription(SUBSCRIPTION.id);
    expect(x.ok && x.value.status).toBe("cancelled");
    expect(seen.map((q) => `${q.method} ${q.url.replace("http://sandbox.test/razorpay/v1", "")}`)).toEqual([
      "POST /plans",
      "POST /subscriptions",
      `GET /subscriptions/${SUBSCRIPTION.id}`,
      `POST /subscriptions/${SUBSCRIPTION.id}/cancel`,
    ]);
    expect(seen[3]!.body).toEqual({ cancel_at_cycle_end: false });
  });
});

describe("error classification", () => {
  it.each([
    [500, "SERVER_ERROR", true],
    [502, "SERVER_ERROR", true],
    [503, "SERVICE_UNAVAILABLE", true],
    [504, "SERVER_ERROR", true],
    [429, "BAD_REQUEST_ERROR", true],
    [400, "BAD_REQUEST_ERROR", false],
    [401, "BAD_REQUEST_ERROR", false],
    [404, "BAD_REQUEST_ERROR", false],
    [409, "BAD_REQUEST_ERROR", false],
  ])(
    "HTTP %i with Razorpay's envelope (%s): retryable %s, code and description kept",
    async (status, code, retryable) => {
      const { fetch } = stub(() => rzpError(status, code, `described ${status}`));
      expect(await client(fetch).getPayment("pay_1")).toEqual({
        ok: false,
        retryable,
        status,
        code,
        description: `described ${status}`,
      });
      expect(isRetryableStatus(status)).toBe(retryable);
    },
  );

  it("an error without Razorpay's envelope (a proxy's HTML page) is classified by its status alone", async () => {
    const html = (status: number) =>
      new Response("<html>Bad gateway</html>", { status, statusText: "Bad Gateway" });
    const bad = await client(stub(() => html(502)).fetch).createOrder({ amount: 100, currency: "INR" });
    expect(bad).toMatchObject({ ok: false, retryable: true, status: 502, code: "http_502" });
    const gone = await client(stub(() => html(404)).fetch).createOrder({ amount: 100, currency: "INR" });
    expect(gone).toMatchObject({ ok: false, retryable: false, status: 404, code: "http_404" });
  });

  it("Razorpay's documented 400s are terminal: an unknown id, a too-small amount", async () => {
    const unknown = stub(() => rzpError(400, "BAD_REQUEST_ERROR", "The id provided does not exist"));
    expect(await client(unknown.fetch).getPayment("pay_nope")).toMatchObject({
      ok: false,
      retryable: false,
      status: 400,
      description: "The id provided does not exist",
    });
    const small = stub(() =>
      json(400, {
        error: {
          code: "BAD_REQUEST_ERROR",
          description: "The amount must be at least INR 1.00",
          field: "amount",
        },
      }),
    );
    expect(await client(small.fetch).createOrder({ amount: 99, currency: "INR" })).toMatchObject({
      retryable: false,
      code: "BAD_REQUEST_ERROR",
    });
  });

  it("a network failure is retryable, with no status", async () => {
    const { fetch } = stub(() => {
      throw new TypeError("fetch failed: connection refused");
    });
    expect(await client(fetch).createOrder({ amount: 100, currency: "INR" })).toMatchObject({
      ok: false,
      retryable: true,
      status: 0,
      code: "network_error",
    });
  });

  it("a request that does not answer in time is abandoned and retryable", async () => {
    const fetch = ((_input: RequestInfo | URL, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => {
        init?.signal?.addEventListener("abort", () => reject(init.signal?.reason));
      })) as typeof globalThis.fetch;
    const started = Date.now();
    const r = await client(fetch, undefined, 20).getSubscription("sub_1");
    expect(r).toMatchObject({ ok: false, retryable: true, status: 0, code: "timeout" });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("a 200 that is not the entity asked for is not taken for one: a changed shape is terminal, a non-JSON page retryable", async () => {
    const wrong = stub(() => json(200, { ...PAYMENT, id: "order_notapayment" }));
    expect(await client(wrong.fetch).getPayment("pay_1")).toMatchObject({
      ok: false,
      retryable: false,
      status: 200,
      code: "invalid_response",
    });
    const page = stub(() => new Response("<html>maintenance</html>", { status: 200 }));
    expect(await client(page.fetch).getPayment("pay_1")).toMatchObject({
      ok: false,
      retryable: true,
      code: "invalid_response",
    });
  });
});
