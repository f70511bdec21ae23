import { createHmac } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  injectRazorpayFault,
  razorpayEvents,
  razorpayFlush,
  razorpayMode,
  razorpayPay,
  razorpayRefund,
  razorpayReplay,
  razorpaySubscription,
  setRazorpayWebhookUrl,
} from "@concierge/testing/sandbox-client";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "./server.ts";

// The sandbox plays Razorpay over real HTTP: every signature here is checked with Node's crypto,
// independently of the sandbox's own code.
const KEY_ID = "rzp_test_RazorpayTest001";
const KEY_SECRET = "razorpay-test-key-secret";
const WEBHOOK_SECRET = "razorpay-test-webhook-secret";
const ID = (prefix: string) => new RegExp(`^${prefix}_[0-9A-Za-z]{14}$`);

type Received = { body: string; headers: IncomingHttpHeaders };

/** A merchant's webhook endpoint: records every request byte for byte; can fail on demand. */
class Receiver {
  readonly got: Received[] = [];
  failNext = 0;
  url = "";
  private server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      this.got.push({ body: Buffer.concat(chunks).toString("utf8"), headers: req.headers });
      if (this.failNext > 0) {
        this.failNext -= 1;
        res.writeHead(500).end("{}");
      } else res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
    });
  });

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/webhooks/razorpay`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Requests about any of these Razorpay ids (order, payment, subscription…), by their bodies. */
  about(...ids: string[]): (Received & { event: string; json: Record<string, unknown> })[] {
    return this.got
      .filter((r) => ids.some((id) => r.body.includes(`"${id}"`)))
      .map((r) => {
        const json = JSON.parse(r.body) as Record<string, unknown>;
        return { ...r, json, event: json.event as string };
      });
  }
}

let sb: Sandbox;
const hooks = new Receiver();

beforeAll(async () => {
  await hooks.start();
  sb = await startSandbox({
    appSecret: "s",
    razorpayKeyId: KEY_ID,
    razorpayKeySecret: KEY_SECRET,
    razorpayWebhookSecret: WEBHOOK_SECRET,
    razorpayWebhookUrl: hooks.url,
  });
});
afterAll(async () => {
  await sb.close();
  await hooks.close();
});
beforeEach(async () => {
  await control("/mode", { mode: "normal", retryDelaysMs: [20, 40, 60] });
});

const basic = (id = KEY_ID, secret = KEY_SECRET) =>
  `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`;

async function api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const r = await fetch(`${sb.razorpayApiBaseUrl}${path}`, {
    method,
    headers: { authorization: basic(), "content-type": "application/json", ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  // Read freely in assertions: whatever the JSON says.
  return { status: r.status, body: await r.json() };
}

async function control(path: string, body?: unknown) {
  const r = await fetch(`${sb.url}/__sandbox/razorpay${path}`, {
    method: body === undefined ? "GET" : "POST",
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  // Read freely in assertions: whatever the JSON says.
  return { status: r.status, body: await r.json() };
}

const hmac = (key: string, message: string) => createHmac("sha256", key).update(message).digest("hex");

async function until<T>(fn: () => T | undefined | false, ms = 3000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function newOrder(amount = 49900, currency = "INR") {
  const r = await api("POST", "/orders", { amount, currency, receipt: "rcpt-1" });
  expect(r.status).toBe(200);
  return r.body as { id: string; amount: number };
}

const pay = (id: string, extra: Record<string, unknown> = {}) =>
  control("/pay", { id, wait: true, ...extra });

describe("Razorpay API: auth, errors and orders", () => {
  it("answers a missing or wrong key pair with 401 and Razorpay's body", async () => {
    for (const authorization of [
      "",
      basic(KEY_ID, "wrong"),
      basic("rzp_test_other", KEY_SECRET),
      "Bearer x",
    ]) {
      const r = await fetch(`${sb.razorpayApiBaseUrl}/orders/order_AAAAAAAAAAAAAA`, {
        headers: { authorization },
      });
      expect(r.status).toBe(401);
      expect(await r.json()).toEqual({
        error: { code: "BAD_REQUEST_ERROR", description: "Authentication failed" },
      });
    }
  });

  it("creates an order in Razorpay's shape: prefixed id, minor units, Unix seconds, notes [] when empty", async () => {
    const before = Math.floor(Date.now() / 1000);
    const { status, body } = await api("POST", "/orders", { amount: 49900, currency: "INR", receipt: "r#1" });
    expect(status).toBe(200);
    expect(body).toEqual({
      id: expect.stringMatching(ID("order")),
      entity: "order",
      amount: 49900,
      amount_paid: 0,
      amount_due: 49900,
      currency: "INR",
      receipt: "r#1",
      offer_id: null,
      status: "created",
      attempts: 0,
      notes: [],
      created_at: expect.any(Number),
    });
    expect(body.created_at).toBeGreaterThanOrEqual(before);
    expect(body.created_at).toBeLessThan(before + 5);
    expect((await api("GET", `/orders/${body.id}`)).body).toEqual(body);
    const withNotes = await api("POST", "/orders", {
      amount: 900,
      currency: "USD",
      notes: { tenant: "t1", n: 2 },
    });
    expect(withNotes.body).toMatchObject({ currency: "USD", notes: { tenant: "t1", n: "2" } });
  });

  it("refuses invalid orders with the error envelope and the field", async () => {
    const cases: [unknown, string, string][] = [
      [{ currency: "INR" }, "The amount field is required.", "amount"],
      [{ amount: 99, currency: "INR" }, "The amount must be at least INR 1.00", "amount"],
      [{ amount: 50, currency: "USD" }, "The amount must be at least USD 1.00", "amount"],
      [{ amount: 100.5, currency: "INR" }, "The amount must be an integer.", "amount"],
      [{ amount: 100 }, "The currency field is required.", "currency"],
      [{ amount: 100, currency: "EUR" }, "Currency is not supported", "currency"],
      [
        { amount: 100, currency: "INR", receipt: "x".repeat(41) },
        "The receipt may not be greater than 40 characters.",
        "receipt",
      ],
      [
        {
          amount: 100,
          currency: "INR",
          notes: Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, "v"])),
        },
        "The notes may not have more than 15 items.",
        "notes",
      ],
      [
        { amount: 100, currency: "INR", notes: { k: "v".repeat(257) } },
        "The notes.k may not be greater than 256 characters.",
        "notes",
      ],
      [
        { amount: 100, currency: "INR", colour: "red" },
        "colour is/are not required and should not be sent",
        "colour",
      ],
    ];
    for (const [body, description, field] of cases) {
      const r = await api("POST", "/orders", body);
      expect(r.status, description).toBe(400);
      expect(r.body).toEqual({
        error: {
          code: "BAD_REQUEST_ERROR",
          description,
          field,
          source: "business",
          step: "payment_initiation",
          reason: "input_validation_failed",
          metadata: {},
        },
      });
    }
    const ok = await api("POST", "/orders", { amount: 100, currency: "INR", receipt: "x".repeat(40) });
    expect(ok.status).toBe(200);
  });

  it("answers unknown ids, wrong URLs and malformed JSON as Razorpay does", async () => {
    const unknown = await api("GET", "/orders/order_AAAAAAAAAAAAAA");
    expect(unknown).toEqual({
      status: 400,
      body: {
        error: {
          code: "BAD_REQUEST_ERROR",
          description: "The id provided does not exist",
          source: "business",
          step: "payment_initiation",
          reason: "input_validation_failed",
          metadata: {},
        },
      },
    });
    const wrong = await api("GET", "/nothing/here");
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toMatchObject({
      description: "The requested URL was not found on the server.",
      source: "NA",
      step: "NA",
      reason: "NA",
    });
    const r = await fetch(`${sb.razorpayApiBaseUrl}/orders`, {
      method: "POST",
      headers: { authorization: basic(), "content-type": "application/json" },
      body: "{nope",
    });
    expect(r.status).toBe(400);
  });

  it("moves an order created → attempted → paid and refuses another payment on a paid order", async () => {
    const order = await newOrder();
    const failed = await pay(order.id, { outcome: "fail" });
    expect(failed.body).toMatchObject({
      ok: true,
      payment: { status: "failed", order_id: order.id, error_code: "BAD_REQUEST_ERROR", captured: false },
      response: null,
      error: {
        code: "BAD_REQUEST_ERROR",
        description: "Payment failed",
        source: "bank",
        step: "payment_authorization",
        reason: "payment_failed",
        metadata: { payment_id: failed.body.payment_id, order_id: order.id },
      },
    });
    expect((await api("GET", `/orders/${order.id}`)).body).toMatchObject({
      status: "attempted",
      attempts: 1,
      amount_paid: 0,
    });
    const paid = await pay(order.id);
    expect(paid.body.payment).toMatchObject({
      status: "captured",
      captured: true,
      amount: 49900,
      fee: 1178,
      tax: 180,
    });
    expect((await api("GET", `/orders/${order.id}`)).body).toMatchObject({
      status: "paid",
      attempts: 2,
      amount_paid: 49900,
      amount_due: 0,
    });
    const payments = await api("GET", `/orders/${order.id}/payments`);
    expect(payments.body).toMatchObject({ entity: "collection", count: 2 });
    expect(payments.body.items.map((p: { status: string }) => p.status)).toEqual(["failed", "captured"]);
    const again = await pay(order.id);
    expect(again.status).toBe(400);
    expect(again.body.error.description).toBe("This order has already been paid.");
    const fetched = await api("GET", `/payments/${paid.body.payment_id}`);
    expect(fetched.body).toMatchObject({
      id: paid.body.payment_id,
      entity: "payment",
      method: "card",
      notes: [],
    });
  });

  it("signs the Checkout result over order_id|payment_id with the key secret", async () => {
    const order = await newOrder();
    const { body } = await pay(order.id);
    const r = body.response as Record<string, string>;
    expect(Object.keys(r).sort()).toEqual(["razorpay_order_id", "razorpay_payment_id", "razorpay_signature"]);
    expect(r.razorpay_order_id).toBe(order.id);
    expect(r.razorpay_payment_id).toMatch(ID("pay"));
    expect(r.razorpay_signature).toBe(hmac(KEY_SECRET, `${order.id}|${r.razorpay_payment_id}`));
  });

  it("gives a USD payment its INR base amount", async () => {
    const order = await newOrder(900, "USD");
    const { body } = await pay(order.id);
    expect(body.payment).toMatchObject({ currency: "USD", international: true, base_currency: "INR" });
  });
});

describe("Razorpay webhooks", () => {
  it("sends payment.authorized, payment.captured and order.paid, each signed over its exact bytes", async () => {
    const order = await newOrder();
    const { body } = await pay(order.id);
    const got = await until(() => {
      const list = hooks.about(order.id);
      return list.length >= 3 && list;
    });
    expect(got.map((g) => g.event)).toEqual(["payment.authorized", "payment.captured", "order.paid"]);
    const ids = new Set<string>();
    for (const g of got) {
      expect(g.headers["x-razorpay-signature"]).toBe(hmac(WEBHOOK_SECRET, g.body));
      expect(g.headers["content-type"]).toBe("application/json");
      ids.add(String(g.headers["x-razorpay-event-id"]));
      expect(g.json).toMatchObject({
        entity: "event",
        account_id: expect.stringMatching(/^acc_[0-9A-Za-z]{14}$/),
        created_at: expect.any(Number),
      });
    }
    expect(ids.size).toBe(3);
    const [authorized, captured, orderPaid] = got.map((g) => JSON.parse(g.body));
    expect(authorized.payload.payment.entity).toMatchObject({ status: "authorized", captured: false });
    expect(captured).toMatchObject({
      contains: ["payment"],
      payload: {
        payment: {
          entity: { id: body.payment_id, status: "captured", order_id: order.id, amount: 49900, notes: [] },
        },
      },
    });
    expect(orderPaid).toMatchObject({
      contains: ["payment", "order"],
      payload: {
        payment: { entity: { id: body.payment_id } },
        order: { entity: { id: order.id, status: "paid", amount_paid: 49900, amount_due: 0, attempts: 1 } },
      },
    });
    const listed = await control(`/events?order=${order.id}`);
    expect(listed.body.events.map((e: { event: string; state: string }) => [e.event, e.state])).toEqual([
      ["payment.authorized", "delivered"],
      ["payment.captured", "delivered"],
      ["order.paid", "delivered"],
    ]);
    expect(listed.body.events[1]).toMatchObject({
      signature: hmac(WEBHOOK_SECRET, listed.body.events[1].body),
      headers: { "x-razorpay-event-id": listed.body.events[1].id },
    });
  });

  it("sends payment.failed for a failed attempt", async () => {
    const order = await newOrder();
    await pay(order.id, { outcome: "fail" });
    const [failed] = await until(() => hooks.about(order.id).length === 1 && hooks.about(order.id));
    expect(failed!.json).toMatchObject({
      event: "payment.failed",
      payload: { payment: { entity: { status: "failed", error_reason: "payment_failed", fee: null } } },
    });
  });

  it("duplicate: each event N times at once, same id and bytes", async () => {
    const order = await newOrder();
    await control("/mode", { mode: "duplicate", copies: 5, target: order.id });
    await pay(order.id);
    const got = await until(() => hooks.about(order.id).length >= 15 && hooks.about(order.id));
    const captured = got.filter((g) => g.event === "payment.captured");
    expect(captured).toHaveLength(5);
    expect(new Set(captured.map((c) => c.headers["x-razorpay-event-id"])).size).toBe(1);
    expect(new Set(captured.map((c) => c.body)).size).toBe(1);
    const [event] = (await control(`/events?order=${order.id}&event=payment.captured`)).body.events;
    expect(event.deliveries.map((d: { kind: string; status: number }) => [d.kind, d.status])).toEqual(
      Array(5).fill(["copy", 200]),
    );
    // The mode was for that order only.
    const other = await newOrder();
    await pay(other.id);
    expect(await until(() => hooks.about(other.id).length === 3 && hooks.about(other.id))).toHaveLength(3);
  });

  it("reorder: one state change's events arrive last first", async () => {
    await control("/mode", { mode: "reorder" });
    const order = await newOrder();
    await pay(order.id);
    const got = await until(() => hooks.about(order.id).length >= 3 && hooks.about(order.id));
    expect(got.map((g) => g.event)).toEqual(["order.paid", "payment.captured", "payment.authorized"]);
  });

  it("delay: sent after the given milliseconds", async () => {
    const order = await newOrder();
    await control("/mode", { mode: "delay", ms: 300, target: order.id });
    const start = Date.now();
    await control("/pay", { id: order.id });
    await new Promise((r) => setTimeout(r, 150));
    expect(hooks.about(order.id)).toHaveLength(0);
    await until(() => hooks.about(order.id).length === 3);
    expect(Date.now() - start).toBeGreaterThanOrEqual(290);
  });

  it("hold: queued until flushed (optionally last first)", async () => {
    const order = await newOrder();
    await control("/mode", { mode: "hold", target: order.id });
    await pay(order.id);
    await new Promise((r) => setTimeout(r, 100));
    expect(hooks.about(order.id)).toHaveLength(0);
    const listed = await control(`/events?order=${order.id}`);
    expect(listed.body.events.map((e: { state: string }) => e.state)).toEqual(["held", "held", "held"]);
    const flushed = await control("/flush", { target: order.id, reverse: true });
    expect(flushed.body).toMatchObject({ ok: true, sent: 3 });
    expect(hooks.about(order.id).map((g) => g.event)).toEqual([
      "order.paid",
      "payment.captured",
      "payment.authorized",
    ]);
  });

  it("replay: the same event again, same id, same bytes, same signature", async () => {
    const order = await newOrder();
    await pay(order.id);
    const captured = await until(() => hooks.about(order.id).find((g) => g.event === "payment.captured"));
    const id = String(captured.headers["x-razorpay-event-id"]);
    const r = await control("/replay", { eventId: id });
    expect(r.body).toMatchObject({ ok: true, event: { id, state: "delivered" } });
    const copies = hooks.about(order.id).filter((g) => g.headers["x-razorpay-event-id"] === id);
    expect(copies).toHaveLength(2);
    expect(copies[1]!.body).toBe(copies[0]!.body);
    expect(copies[1]!.headers["x-razorpay-signature"]).toBe(captured.headers["x-razorpay-signature"]);
    expect((await control("/replay", { eventId: "nope" })).status).toBe(404);
    expect((await control("/mode", { mode: "replay" })).status).toBe(400);
  });

  it("retries a non-2xx answer with backoff until it is accepted", async () => {
    const order = await newOrder();
    hooks.failNext = 2;
    await control("/mode", { mode: "normal", target: order.id });
    await control("/pay", { id: order.id, outcome: "fail" });
    const delivered = await untilAsync(async () => {
      const e = (await control(`/events?order=${order.id}`)).body.events[0];
      return e?.state === "delivered" && e;
    });
    expect(delivered.deliveries.map((d: { kind: string; status: number }) => [d.kind, d.status])).toEqual([
      ["send", 500],
      ["retry", 500],
      ["retry", 200],
    ]);
    const got = hooks.about(order.id);
    expect(got).toHaveLength(3);
    expect(new Set(got.map((g) => g.headers["x-razorpay-event-id"])).size).toBe(1);
  });

  it("records events without delivering them when no webhook URL is set", async () => {
    await control("/webhook-url", { url: "" });
    try {
      const order = await newOrder();
      await pay(order.id);
      const events = (await control(`/events?order=${order.id}`)).body.events;
      expect(events.map((e: { state: string }) => e.state)).toEqual(["no_url", "no_url", "no_url"]);
      expect(hooks.about(order.id)).toHaveLength(0);
    } finally {
      await control("/webhook-url", { url: hooks.url });
    }
  });
});

async function untilAsync<T>(fn: () => Promise<T | undefined | false>, ms = 3000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("Razorpay refunds", () => {
  it("refunds partly, then the rest; idempotency key; refund.created and refund.processed", async () => {
    const order = await newOrder(10000);
    const paymentId = (await pay(order.id)).body.payment_id as string;
    const key = { "x-refund-idempotency": "refund-key-0001" };
    const first = await api("POST", `/payments/${paymentId}/refund`, { amount: 4000 }, key);
    expect(first.body).toMatchObject({
      id: expect.stringMatching(ID("rfnd")),
      entity: "refund",
      amount: 4000,
      currency: "INR",
      payment_id: paymentId,
      notes: [],
      status: "processed",
      speed_requested: "normal",
    });
    const same = await api("POST", `/payments/${paymentId}/refund`, { amount: 4000 }, key);
    expect(same.body.id).toBe(first.body.id);
    const reused = await api("POST", `/payments/${paymentId}/refund`, { amount: 5000 }, key);
    expect(reused.status).toBe(400);
    const badKey = await api(
      "POST",
      `/payments/${paymentId}/refund`,
      { amount: 100 },
      { "x-refund-idempotency": "short" },
    );
    expect(badKey.status).toBe(400);
    expect((await api("GET", `/payments/${paymentId}`)).body).toMatchObject({
      status: "captured",
      amount_refunded: 4000,
      refund_status: "partial",
    });
    const tooMuch = await api("POST", `/payments/${paymentId}/refund`, { amount: 6001 });
    expect(tooMuch.body.error.description).toBe("The refund amount provided is greater than amount captured");
    const tooLittle = await api("POST", `/payments/${paymentId}/refund`, { amount: 99 });
    expect(tooLittle.body.error.description).toBe("The amount must be at least INR 1.00");
    const rest = await api("POST", `/payments/${paymentId}/refund`, {});
    expect(rest.body.amount).toBe(6000);
    expect((await api("GET", `/payments/${paymentId}`)).body).toMatchObject({
      status: "refunded",
      amount_refunded: 10000,
      refund_status: "full",
    });
    const again = await api("POST", `/payments/${paymentId}/refund`, {});
    expect(again.body.error.description).toBe("The payment has been fully refunded already");
    // Two refunds, two events each (the idempotent repeat sent nothing).
    const events = await until(() => {
      const list = hooks.about(first.body.id).concat(hooks.about(rest.body.id));
      return list.length >= 4 && list;
    });
    expect(events.map((e) => e.event)).toEqual([
      "refund.created",
      "refund.processed",
      "refund.created",
      "refund.processed",
    ]);
    expect(events[0]!.json).toMatchObject({
      contains: ["refund", "payment"],
      payload: {
        refund: { entity: { id: first.body.id, status: "pending", amount: 4000 } },
        payment: { entity: { id: paymentId, amount_refunded: 4000 } },
      },
    });
    expect(events[1]!.json).toMatchObject({ payload: { refund: { entity: { status: "processed" } } } });
    expect((await api("GET", `/payments/${paymentId}/refunds`)).body.count).toBe(2);
  });

  it("refuses a refund of a failed payment; the control endpoint refunds like the API", async () => {
    const order = await newOrder(20000);
    const failedId = (await pay(order.id, { outcome: "fail" })).body.payment_id as string;
    const r = await api("POST", `/payments/${failedId}/refund`, {});
    expect(r.body.error.description).toBe("The payment status should be captured for action to be taken");
    const paidId = (await pay(order.id)).body.payment_id as string;
    const half = await control("/refund", { paymentId: paidId, amount: 10000, wait: true });
    expect(half.body).toMatchObject({
      ok: true,
      refund: { amount: 10000, payment_id: paidId },
      events: [{ event: "refund.created" }, { event: "refund.processed" }],
    });
    const over = await control("/refund", { paymentId: paidId, amount: 20000 });
    expect(over.status).toBe(400);
    expect(over.body.error.description).toBe("The refund amount provided is greater than amount captured");
  });
});

describe("Razorpay plans and subscriptions", () => {
  async function plan(amount = 49900) {
    const r = await api("POST", "/plans", {
      period: "monthly",
      interval: 1,
      item: { name: "Extra subdomain", amount, currency: "INR", description: "One more" },
    });
    expect(r.status).toBe(200);
    return r.body;
  }

  it("creates and fetches a plan; refuses a bad one", async () => {
    const p = await plan();
    expect(p).toMatchObject({
      id: expect.stringMatching(ID("plan")),
      entity: "plan",
      period: "monthly",
      interval: 1,
      notes: [],
      item: {
        id: expect.stringMatching(ID("item")),
        amount: 49900,
        unit_amount: 49900,
        currency: "INR",
        type: "plan",
      },
    });
    expect((await api("GET", `/plans/${p.id}`)).body).toEqual(p);
    const daily = await api("POST", "/plans", {
      period: "daily",
      interval: 3,
      item: { name: "x", amount: 100, currency: "INR" },
    });
    expect(daily.body.error.field).toBe("interval");
    const cheap = await api("POST", "/plans", {
      period: "monthly",
      interval: 1,
      item: { name: "x", amount: 1, currency: "INR" },
    });
    expect(cheap.body.error.description).toBe("The amount must be at least INR 1.00");
  });

  it("creates a subscription, pays it (reversed signature), then halts, charges, and cancels it", async () => {
    const p = await plan();
    const created = await api("POST", "/subscriptions", {
      plan_id: p.id,
      total_count: 12,
      quantity: 2,
      notes: { tenant: "t-1" },
    });
    expect(created.body).toMatchObject({
      id: expect.stringMatching(ID("sub")),
      entity: "subscription",
      plan_id: p.id,
      status: "created",
      quantity: 2,
      total_count: 12,
      paid_count: 0,
      remaining_count: 12,
      current_start: null,
      current_end: null,
      notes: { tenant: "t-1" },
      short_url: expect.stringContaining(`/razorpay/subscriptions/${created.body.id}/authenticate`),
    });
    const sub = created.body.id as string;
    const paid = await pay(sub);
    const r = paid.body.response as Record<string, string>;
    expect(Object.keys(r).sort()).toEqual([
      "razorpay_payment_id",
      "razorpay_signature",
      "razorpay_subscription_id",
    ]);
    expect(r.razorpay_subscription_id).toBe(sub);
    expect(r.razorpay_signature).toBe(hmac(KEY_SECRET, `${r.razorpay_payment_id}|${sub}`));
    expect(paid.body.payment).toMatchObject({
      amount: 99800,
      invoice_id: expect.stringMatching(ID("inv")),
      captured: "1",
    });
    const active = (await api("GET", `/subscriptions/${sub}`)).body;
    expect(active).toMatchObject({ status: "active", paid_count: 1, remaining_count: 11 });
    expect(active.current_end).toBeGreaterThan(active.current_start);
    const first = await until(() => {
      const list = hooks.about(sub, r.razorpay_payment_id!);
      return list.length >= 5 && list;
    });
    expect(first.map((g) => g.event)).toEqual([
      "payment.authorized",
      "payment.captured",
      "subscription.authenticated",
      "subscription.activated",
      "subscription.charged",
    ]);
    expect(first[2]!.json).toMatchObject({
      payload: { subscription: { entity: { status: "authenticated" } } },
    });
    expect(first[4]!.json).toMatchObject({
      contains: ["subscription", "payment"],
      payload: {
        subscription: { entity: { id: sub, status: "active", quantity: 2 } },
        payment: { entity: { id: r.razorpay_payment_id, amount: 99800 } },
      },
    });

    const halted = await control("/subscription", { id: sub, to: "halted", wait: true });
    expect(halted.body).toMatchObject({
      subscription: { status: "halted", auth_attempts: 4 },
      events: [{ event: "payment.failed" }, { event: "subscription.halted" }],
    });
    const charged = await control("/subscription", { id: sub, to: "charged", wait: true });
    expect(charged.body).toMatchObject({
      subscription: { status: "active", paid_count: 2 },
      events: [
        { event: "payment.authorized" },
        { event: "payment.captured" },
        { event: "subscription.activated" },
        { event: "subscription.charged" },
      ],
    });
    const pending = await control("/subscription", { id: sub, to: "pending", wait: true });
    expect(pending.body.subscription).toMatchObject({ status: "pending", auth_attempts: 1 });

    const cancelled = await api("POST", `/subscriptions/${sub}/cancel`, { cancel_at_cycle_end: false });
    expect(cancelled.body).toMatchObject({
      status: "cancelled",
      charge_at: null,
      ended_at: expect.any(Number),
    });
    const again = await api("POST", `/subscriptions/${sub}/cancel`, {});
    expect(again.body.error).toMatchObject({
      description: "Subscription is not cancellable in cancelled status.",
      field: "status",
    });
    const notAgain = await control("/subscription", { id: sub, to: "charged" });
    expect(notAgain.status).toBe(400);
    await until(() => hooks.about(sub).some((g) => g.event === "subscription.cancelled"));
  });

  it("refuses subscriptions without a known plan or a total count", async () => {
    expect(
      (await api("POST", "/subscriptions", { plan_id: "plan_AAAAAAAAAAAAAA", total_count: 1 })).body.error
        .description,
    ).toBe("The id provided does not exist");
    const p = await plan();
    expect((await api("POST", "/subscriptions", { plan_id: p.id })).body.error.field).toBe("total_count");
  });
});

describe("Razorpay API faults", () => {
  it("answers the next N calls to a path with 500, then works again", async () => {
    await control("/faults", { path: "/orders", method: "POST", status: 500, count: 2 });
    for (let i = 0; i < 2; i++) {
      const r = await api("POST", "/orders", { amount: 100, currency: "INR" });
      expect(r.status).toBe(500);
      expect(r.body.error).toMatchObject({ code: "SERVER_ERROR" });
    }
    expect((await api("POST", "/orders", { amount: 100, currency: "INR" })).status).toBe(200);
  });

  it("answers 429 on a matching path pattern only", async () => {
    const order = await newOrder();
    await control("/faults", { path: "/orders/:id", status: 429 });
    expect((await api("POST", "/orders", { amount: 100, currency: "INR" })).status).toBe(200);
    const r = await api("GET", `/orders/${order.id}`);
    expect(r.status).toBe(429);
    expect(r.body.error.description).toBe("Too many requests");
  });

  it("after: carries the call out, then answers the fault", async () => {
    const order = await newOrder();
    const paymentId = (await pay(order.id)).body.payment_id as string;
    await control("/faults", { path: "/payments/*/refund", status: 502, when: "after" });
    expect((await api("POST", `/payments/${paymentId}/refund`, { amount: 1000 })).status).toBe(502);
    expect((await api("GET", `/payments/${paymentId}`)).body.amount_refunded).toBe(1000);
  });

  it("timeout: no answer at all", async () => {
    await control("/faults", { path: "/plans/:id", timeout: true, timeoutMs: 5000 });
    const r = fetch(`${sb.razorpayApiBaseUrl}/plans/plan_AAAAAAAAAAAAAA`, {
      headers: { authorization: basic() },
      signal: AbortSignal.timeout(300),
    });
    await expect(r).rejects.toThrow();
    expect((await api("GET", "/plans/plan_AAAAAAAAAAAAAA")).status).toBe(400);
  });

  it("refuses a fault without a status or timeout", async () => {
    expect((await control("/faults", { path: "/orders" })).status).toBe(400);
  });
});

describe("Razorpay Checkout without JavaScript (hosted page) and the redirect flow", () => {
  const form = (fields: Record<string, string>) => ({
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
    redirect: "manual" as const,
  });
  /** The hidden inputs of the page's form and where it posts. */
  function formOf(html: string) {
    const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1]?.replace(/&amp;/g, "&");
    const fields: Record<string, string> = {};
    for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
      fields[m[1]!.replace(/&amp;/g, "&")] = m[2]!.replace(/&quot;/g, '"').replace(/&amp;/g, "&");
    }
    return { action, fields };
  }

  async function hosted(order: { id: string; amount: number }, extra: Record<string, string> = {}) {
    const r = await fetch(
      sb.razorpayHostedCheckoutUrl,
      form({
        key_id: KEY_ID,
        order_id: order.id,
        amount: String(order.amount),
        currency: "INR",
        name: "Concierge",
        description: "100 credits",
        "prefill[email]": "owner@example.com",
        callback_url: "https://merchant.example/checkout/complete?order=ord_1",
        cancel_url: "https://merchant.example/billing?checkout=cancelled",
        ...extra,
      }),
    );
    return { status: r.status, html: await r.text() };
  }

  it("shows Pay, Fail and Dismiss as plain form buttons", async () => {
    const order = await newOrder();
    const { status, html } = await hosted(order);
    expect(status).toBe(200);
    expect(html).toContain("₹499.00");
    expect(html).toContain('name="viewport"');
    for (const b of ["pay", "fail", "dismiss"]) expect(html).toContain(`name="action" value="${b}"`);
    expect(html).not.toContain("<script");
    const { action, fields } = formOf(html);
    expect(action).toBe("/razorpay/checkout/hosted");
    expect(fields).toMatchObject({
      key_id: KEY_ID,
      order_id: order.id,
      "prefill[email]": "owner@example.com",
    });
  });

  it("Pay answers a form that posts the signed fields to callback_url, with a visible Continue button", async () => {
    const order = await newOrder();
    const { fields } = formOf((await hosted(order)).html);
    const r = await fetch(`${sb.url}/razorpay/checkout/hosted`, form({ ...fields, action: "pay" }));
    const html = await r.text();
    const out = formOf(html);
    expect(out.action).toBe("https://merchant.example/checkout/complete?order=ord_1");
    expect(Object.keys(out.fields).sort()).toEqual([
      "razorpay_order_id",
      "razorpay_payment_id",
      "razorpay_signature",
    ]);
    expect(out.fields.razorpay_signature).toBe(
      hmac(KEY_SECRET, `${order.id}|${out.fields.razorpay_payment_id}`),
    );
    expect(html).toMatch(/<button type="submit"[^>]*>Continue<\/button>/);
    expect((await api("GET", `/orders/${order.id}`)).body.status).toBe("paid");
  });

  it("Fail posts error[…] fields to callback_url; Dismiss goes to cancel_url", async () => {
    const order = await newOrder();
    const { fields } = formOf((await hosted(order)).html);
    const failed = formOf(
      await (await fetch(`${sb.url}/razorpay/checkout/hosted`, form({ ...fields, action: "fail" }))).text(),
    );
    expect(failed.fields).toMatchObject({
      "error[code]": "BAD_REQUEST_ERROR",
      "error[description]": "Payment failed",
      "error[reason]": "payment_failed",
    });
    expect(JSON.parse(failed.fields["error[metadata]"]!)).toMatchObject({ order_id: order.id });
    const dismissed = await fetch(
      `${sb.url}/razorpay/checkout/hosted`,
      form({ ...fields, action: "dismiss" }),
    );
    expect(dismissed.status).toBe(303);
    expect(dismissed.headers.get("location")).toBe("https://merchant.example/billing?checkout=cancelled");
  });

  it("refuses a wrong key, an amount that is not the order's, a paid order and a missing callback_url", async () => {
    const order = await newOrder();
    expect((await hosted(order, { key_id: "rzp_test_other" })).status).toBe(400);
    const wrongAmount = await hosted(order, { amount: "100" });
    expect(wrongAmount.status).toBe(400);
    expect(wrongAmount.html).toContain("The amount does not match the order.");
    expect((await hosted(order, { callback_url: "" })).status).toBe(400);
    await pay(order.id);
    expect((await hosted(order)).html).toContain("This order has already been paid.");
  });

  it("redirect flow: carries a payment's result to callback_url", async () => {
    const order = await newOrder();
    const paymentId = (await pay(order.id)).body.payment_id as string;
    const r = await fetch(
      `${sb.url}/razorpay/checkout/redirect`,
      form({ payment_id: paymentId, callback_url: "http://m.example/cb" }),
    );
    const out = formOf(await r.text());
    expect(out).toMatchObject({
      action: "http://m.example/cb",
      fields: { razorpay_payment_id: paymentId, razorpay_order_id: order.id },
    });
  });

  it("a subscription's short_url is a hosted page for its first payment", async () => {
    const p = await api("POST", "/plans", {
      period: "monthly",
      interval: 1,
      item: { name: "x", amount: 900, currency: "USD" },
    });
    const s = await api("POST", "/subscriptions", { plan_id: p.body.id, total_count: 3 });
    const page = await fetch(s.body.short_url);
    expect(page.status).toBe(200);
    const { fields } = formOf(await page.text());
    const done = await fetch(`${sb.url}/razorpay/checkout/hosted`, form({ ...fields, action: "pay" }));
    expect(await done.text()).toContain("Payment successful");
    expect((await api("GET", `/subscriptions/${s.body.id}`)).body.status).toBe("active");
  });
});

describe("Razorpay Checkout script, modal and the /razorpay page", () => {
  it("serves checkout.js defining window.Razorpay", async () => {
    const r = await fetch(sb.razorpayCheckoutUrl);
    expect(r.headers.get("content-type")).toContain("javascript");
    const src = await r.text();
    expect(src).toContain("window.Razorpay = Razorpay");
    expect(src).not.toContain("__SANDBOX_ORIGIN__");
  });

  it("the modal's attempt endpoint checks the key and the order", async () => {
    const order = await newOrder();
    const attempt = (body: unknown) =>
      fetch(`${sb.url}/razorpay/checkout/attempt`, { method: "POST", body: JSON.stringify(body) });
    expect((await attempt({ key: "rzp_test_other", order_id: order.id, outcome: "pay" })).status).toBe(401);
    expect((await attempt({ key: KEY_ID, order_id: "order_AAAAAAAAAAAAAA", outcome: "pay" })).status).toBe(
      400,
    );
    const ok = (await (
      await attempt({ key: KEY_ID, order_id: order.id, outcome: "pay", prefill: { email: "a@b.c" } })
    ).json()) as {
      response: Record<string, string>;
    };
    expect(ok.response.razorpay_signature).toBe(
      hmac(KEY_SECRET, `${order.id}|${ok.response.razorpay_payment_id}`),
    );
    expect((await api("GET", `/payments/${ok.response.razorpay_payment_id}`)).body.email).toBe("a@b.c");
    const modal = await fetch(
      `${sb.url}/razorpay/checkout/modal?o=${encodeURIComponent(JSON.stringify({ key: KEY_ID, order_id: order.id }))}`,
    );
    expect(await modal.text()).toContain("This order has already been paid.");
  });

  it("serves the /razorpay page", async () => {
    const r = await fetch(`${sb.url}/razorpay`);
    expect(r.status).toBe(200);
    const html = await r.text();
    expect(html).toContain('name="viewport"');
    expect(html).toContain('src="/razorpay/checkout.js"');
    expect((await fetch(`${sb.url}/razorpay/assets/console.js`)).status).toBe(200);
    const state = await control("");
    expect(state.body).toMatchObject({ keyId: KEY_ID, webhookUrl: hooks.url });
    expect(Array.isArray(state.body.orders)).toBe(true);
  });
});

describe("the test helpers in @concierge/testing/sandbox-client", () => {
  it("pay, read events, set modes, flush, replay, refund, move a subscription, inject faults", async () => {
    const order = await newOrder();
    await razorpayMode(sb.url, { mode: "hold", target: order.id });
    const paid = await razorpayPay(sb.url, order.id, { email: "owner@example.com" });
    expect(paid.response).toMatchObject({ razorpay_order_id: order.id });
    expect(paid.events?.map((e) => e.state)).toEqual(["held", "held", "held"]);
    const [captured] = await razorpayEvents(sb.url, { order: order.id, event: "payment.captured" });
    expect(captured!.headers["x-razorpay-signature"]).toBe(hmac(WEBHOOK_SECRET, captured!.body));
    expect(await razorpayFlush(sb.url, { target: order.id })).toBe(3);
    await razorpayReplay(sb.url, captured!.id);
    await until(() => hooks.about(order.id).filter((g) => g.event === "payment.captured").length === 2);

    const refund = await razorpayRefund(sb.url, paid.paymentId, 100);
    expect(refund).toMatchObject({ amount: 100, payment_id: paid.paymentId });
    await expect(razorpayPay(sb.url, order.id)).rejects.toThrow(/already been paid/);

    const plan = await api("POST", "/plans", {
      period: "monthly",
      interval: 1,
      item: { name: "x", amount: 100, currency: "INR" },
    });
    const sub = await api("POST", "/subscriptions", { plan_id: plan.body.id, total_count: 6 });
    const first = await razorpayPay(sb.url, sub.body.id);
    expect(first.response).toMatchObject({ razorpay_subscription_id: sub.body.id });
    expect(await razorpaySubscription(sb.url, sub.body.id, "halted")).toMatchObject({ status: "halted" });
    expect(await razorpaySubscription(sb.url, sub.body.id, "charged")).toMatchObject({
      status: "active",
      paid_count: 2,
    });

    await injectRazorpayFault(sb.url, { path: "/orders", method: "POST", status: 503 });
    expect((await api("POST", "/orders", { amount: 100, currency: "INR" })).status).toBe(503);

    await setRazorpayWebhookUrl(sb.url, "");
    try {
      const quiet = await newOrder();
      await razorpayPay(sb.url, quiet.id);
      expect((await razorpayEvents(sb.url, { order: quiet.id })).map((e) => e.state)).toEqual([
        "no_url",
        "no_url",
        "no_url",
      ]);
    } finally {
      await setRazorpayWebhookUrl(sb.url, hooks.url);
    }
  });
});
