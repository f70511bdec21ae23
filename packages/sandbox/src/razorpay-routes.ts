import {
  AUTH_FAILED,
  type CheckoutFailure,
  type CheckoutFields,
  type CheckoutTarget,
  type Customer,
  type FakeRazorpay,
  type Outcome,
  RAZORPAY_ID,
  type RazorpayFault,
  type RazorpayReply,
  razorpayError,
  type RzPayment,
  SUBSCRIPTION_MOVES,
  type SubscriptionMove,
  URL_NOT_FOUND,
} from "./razorpay.ts";
import {
  autoPostPage,
  type CheckoutView,
  checkoutScript,
  consolePage,
  hostedPage,
  messagePage,
  modalPage,
  modalScript,
  consoleScript,
} from "./razorpay-pages.ts";
import { DELIVERY_MODES, type DeliveryMode, type WebhookEvent } from "./razorpay-webhooks.ts";

/** A reply, or `hangMs`: say nothing for that long, then drop the connection (a timeout fault). */
export type RazorpayRouteReply = RazorpayReply | { hangMs: number };

const API = "/razorpay/v1";
const ORDER = /^\/orders\/([^/]+)$/;
const ORDER_PAYMENTS = /^\/orders\/([^/]+)\/payments$/;
const PAYMENT = /^\/payments\/([^/]+)$/;
const PAYMENT_REFUND = /^\/payments\/([^/]+)\/refund$/;
const PAYMENT_REFUNDS = /^\/payments\/([^/]+)\/refunds$/;
const REFUND = /^\/refunds\/([^/]+)$/;
const PLAN = /^\/plans\/([^/]+)$/;
const SUBSCRIPTION = /^\/subscriptions\/([^/]+)$/;
const SUBSCRIPTION_CANCEL = /^\/subscriptions\/([^/]+)\/cancel$/;
const SUBSCRIPTION_PAGE = /^\/razorpay\/subscriptions\/([^/]+)\/authenticate$/;

const js = (body: string): RazorpayReply => ({
  status: 200,
  body,
  headers: { "content-type": "text/javascript; charset=utf-8", "cache-control": "no-store" },
});
const page = (status: number, body: string): RazorpayReply => ({
  status,
  body,
  headers: { "cache-control": "no-store" },
});
const invalid = (message: string): RazorpayReply => ({
  status: 400,
  body: { ok: false, error: { code: "invalid", message } },
});

function parseJson(raw: string): { ok: true; value: unknown } | { ok: false } {
  if (!raw.trim()) return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(raw) };
  } catch {
    return { ok: false };
  }
}

/** A form body as an object; `a[b]=c` becomes `{ a: { b: "c" } }` (Razorpay takes both). */
function formObject(raw: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    const m = /^([^[\]]+)\[([^[\]]+)\]$/.exec(k);
    if (m) {
      const inner = (out[m[1]!] ?? {}) as Record<string, unknown>;
      inner[m[2]!] = v;
      out[m[1]!] = inner;
    } else out[k] = v;
  }
  return out;
}

function isHttpUrl(s: string | null | undefined): s is string {
  if (!s) return false;
  try {
    const u = new URL(s);
    return u.protocol === "http:" || u.protocol === "https:";
  } catch {
    return false;
  }
}

function faultReply(f: RazorpayFault): RazorpayRouteReply {
  if (f.timeout) return { hangMs: Math.max(0, Math.min(120_000, f.timeoutMs ?? 30_000)) };
  const status = f.status ?? 500;
  if (status >= 500) {
    return {
      status,
      body: {
        error: {
          code: f.code ?? "SERVER_ERROR",
          description:
            f.description ?? "The server encountered an error. The incident has been reported to admins.",
          metadata: {},
        },
      },
    };
  }
  const extras = { source: "NA", step: "NA", reason: "NA", code: f.code ?? "BAD_REQUEST_ERROR" };
  if (status === 429) {
    return {
      ...razorpayError(429, f.description ?? "Too many requests", extras),
      headers: { "retry-after": "1" },
    };
  }
  return razorpayError(status, f.description ?? "Sandbox fault", extras);
}

/** Keeps webhook deliveries from ever surfacing as unhandled rejections. */
const settle = (o: Outcome): RazorpayReply => {
  o.delivered.catch(() => undefined);
  return o.reply;
};

/** The Razorpay REST API under /razorpay/v1 (path given without the prefix). */
async function api(
  rz: FakeRazorpay,
  method: string,
  path: string,
  headers: Record<string, string | string[] | undefined>,
  readBody: () => Promise<string>,
): Promise<RazorpayRouteReply> {
  const auth = typeof headers.authorization === "string" ? headers.authorization : undefined;
  if (!rz.authorized(auth)) return AUTH_FAILED;
  const fault = rz.takeFault(method, path);
  if (fault && fault.when !== "after") return faultReply(fault);
  let body: unknown;
  if (method === "POST" || method === "PATCH" || method === "PUT") {
    const raw = await readBody();
    const type = String(headers["content-type"] ?? "");
    if (type.startsWith("application/x-www-form-urlencoded")) body = formObject(raw);
    else {
      const parsed = parseJson(raw);
      if (!parsed.ok) return razorpayError(400, "The request body is not valid JSON.");
      body = parsed.value;
    }
  }
  const reply = route(rz, method, path, body, headers);
  return fault ? faultReply(fault) : reply;
}

function route(
  rz: FakeRazorpay,
  method: string,
  path: string,
  body: unknown,
  headers: Record<string, string | string[] | undefined>,
): RazorpayReply {
  if (method === "POST") {
    if (path === "/orders") return rz.createOrder(body);
    if (path === "/plans") return rz.createPlan(body);
    if (path === "/subscriptions") return rz.createSubscription(body);
  }
  const routes: [string, RegExp, (id: string) => RazorpayReply][] = [
    [
      "POST",
      PAYMENT_REFUND,
      (id) => {
        const key = headers["x-refund-idempotency"];
        return settle(rz.refund(id, body, typeof key === "string" ? key : undefined));
      },
    ],
    ["POST", SUBSCRIPTION_CANCEL, (id) => settle(rz.cancelSubscription(id, body))],
    ["GET", ORDER, (id) => rz.getOrder(id)],
    ["GET", ORDER_PAYMENTS, (id) => rz.orderPayments(id)],
    ["GET", PAYMENT, (id) => rz.getPayment(id)],
    ["GET", PAYMENT_REFUNDS, (id) => rz.paymentRefunds(id)],
    ["GET", REFUND, (id) => rz.getRefund(id)],
    ["GET", PLAN, (id) => rz.getPlan(id)],
    ["GET", SUBSCRIPTION, (id) => rz.getSubscription(id)],
  ];
  for (const [m, pattern, handle] of routes) {
    const match = m === method ? pattern.exec(path) : null;
    if (match) return handle(decodeURIComponent(match[1]!));
  }
  return URL_NOT_FOUND;
}

// ---- Checkout ----

type CheckoutInput = {
  key: string | null;
  orderId: string | null;
  subscriptionId: string | null;
  name: string | null;
  description: string | null;
  themeColor: unknown;
  customer: Customer;
};

const str = (v: unknown): string | null => (typeof v === "string" && v.trim() ? v.trim() : null);

/** Notes from Checkout's options: up to 15 string values (Razorpay's limit), others dropped. */
function checkoutNotes(v: unknown): Record<string, string> | undefined {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, value] of Object.entries(v).slice(0, 15)) {
    if (typeof value === "string" || typeof value === "number") out[k] = String(value).slice(0, 256);
  }
  return out;
}

function targetOf(input: CheckoutInput): CheckoutTarget | null {
  if (input.orderId) return { orderId: input.orderId };
  if (input.subscriptionId) return { subscriptionId: input.subscriptionId };
  return null;
}

/** What Checkout shows for these options, and why it cannot take a payment (if so). */
function checkoutView(rz: FakeRazorpay, input: CheckoutInput): CheckoutView {
  const target = targetOf(input);
  let problem: string | null = null;
  if (input.key !== rz.keyId) problem = "The api key provided is invalid.";
  else if (!target) problem = "Checkout needs an order_id or a subscription_id.";
  else problem = rz.checkoutProblem(target)?.description ?? null;
  const payer = [input.customer.email, input.customer.contact].filter(Boolean).join(" · ");
  return {
    merchant: input.name ?? "Merchant",
    description: input.description,
    amount: target && input.key === rz.keyId ? rz.checkoutAmount(target) : null,
    reference: input.orderId ?? input.subscriptionId,
    payer: payer || null,
    themeColor: input.themeColor,
    problem,
  };
}

/** Checkout's options, as razorpay-checkout.js passes them to the modal (`?o=<json>`). */
function modalInput(raw: string | null): { input: CheckoutInput; escape: boolean; backdropclose: boolean } {
  let o: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(raw ?? "{}") as unknown;
    if (typeof parsed === "object" && parsed !== null) o = parsed as Record<string, unknown>;
  } catch {}
  const prefill = (typeof o.prefill === "object" && o.prefill !== null ? o.prefill : {}) as Record<
    string,
    unknown
  >;
  const themeObj = (typeof o.theme === "object" && o.theme !== null ? o.theme : {}) as Record<
    string,
    unknown
  >;
  return {
    input: {
      key: str(o.key),
      orderId: str(o.order_id),
      subscriptionId: str(o.subscription_id),
      name: str(o.name),
      description: str(o.description),
      themeColor: themeObj.color,
      customer: {
        name: str(prefill.name) ?? undefined,
        email: str(prefill.email) ?? undefined,
        contact: str(prefill.contact) ?? undefined,
        notes: checkoutNotes(o.notes),
        description: str(o.description) ?? undefined,
      },
    },
    escape: o.escape !== false,
    backdropclose: o.backdropclose === true,
  };
}

/** The hosted page's form fields (key_id, order_id | subscription_id, prefill[…], notes[…], …). */
function hostedInput(form: URLSearchParams): CheckoutInput {
  const notes: Record<string, string> = {};
  for (const [k, v] of form) {
    const m = /^notes\[([^\]]+)\]$/.exec(k);
    if (m && Object.keys(notes).length < 15) notes[m[1]!] = v.slice(0, 256);
  }
  return {
    key: str(form.get("key_id")),
    orderId: str(form.get("order_id")),
    subscriptionId: str(form.get("subscription_id")),
    name: str(form.get("name")),
    description: str(form.get("description")),
    themeColor: form.get("theme[color]") ?? undefined,
    customer: {
      name: str(form.get("prefill[name]")) ?? undefined,
      email: str(form.get("prefill[email]")) ?? undefined,
      contact: str(form.get("prefill[contact]")) ?? undefined,
      notes,
      description: str(form.get("description")) ?? undefined,
    },
  };
}

/** Checkout's failure as callback_url's form fields (`error[code]`, `error[description]`, …). */
export function failureFields(f: CheckoutFailure): Record<string, string> {
  return {
    "error[code]": f.code,
    "error[description]": f.description,
    "error[source]": f.source,
    "error[step]": f.step,
    "error[reason]": f.reason,
    ...(f.field ? { "error[field]": f.field } : {}),
    "error[metadata]": JSON.stringify(f.metadata),
  };
}

function resultFields(rz: FakeRazorpay, p: RzPayment): Record<string, string> {
  const ok = rz.successFields(p);
  if (ok) return { ...ok };
  return failureFields(rz.failure(p)!);
}

async function attemptFromModal(rz: FakeRazorpay, raw: string): Promise<RazorpayReply> {
  const parsed = parseJson(raw);
  const b = (
    parsed.ok && typeof parsed.value === "object" && parsed.value !== null ? parsed.value : {}
  ) as Record<string, unknown>;
  const outcome = b.outcome;
  if (outcome !== "pay" && outcome !== "fail") return invalid("outcome must be pay or fail");
  const { input } = modalInput(JSON.stringify(b));
  if (input.key !== rz.keyId) {
    return {
      status: 401,
      body: { error: { code: "BAD_REQUEST_ERROR", description: "The api key provided is invalid." } },
    };
  }
  const target = targetOf(input);
  if (!target) return razorpayError(400, "Checkout needs an order_id or a subscription_id.");
  const r = rz.attempt(target, outcome, input.customer);
  if (!r.ok) return razorpayError(r.status, r.error.description);
  r.delivered.catch(() => undefined);
  return { status: 200, body: { payment_id: r.payment.id, response: r.response, error: r.error } };
}

/** POST /razorpay/v1/checkout/embedded: Razorpay's hosted checkout page, no JavaScript needed. */
function hostedCheckout(rz: FakeRazorpay, raw: string): RazorpayReply {
  const form = new URLSearchParams(raw);
  const input = hostedInput(form);
  const view = checkoutView(rz, input);
  const callback = form.get("callback_url");
  const cancel = form.get("cancel_url");
  if (!view.problem && !isHttpUrl(callback)) view.problem = "callback_url must be an http or https URL.";
  if (!view.problem && cancel && !isHttpUrl(cancel))
    view.problem = "cancel_url must be an http or https URL.";
  if (!view.problem && input.orderId && view.amount) {
    const amount = form.get("amount");
    const currency = form.get("currency");
    if (amount && Number(amount) !== view.amount.amount)
      view.problem = "The amount does not match the order.";
    else if (currency && currency !== view.amount.currency)
      view.problem = "The currency does not match the order.";
  }
  const hidden: Record<string, string> = {};
  for (const [k, v] of form) {
    if (k !== "action" && k !== "amount" && k !== "currency") hidden[k] = v;
  }
  return page(view.problem ? 400 : 200, hostedPage(view, hidden));
}

/** POST /razorpay/checkout/hosted: the hosted page's Pay, Fail or Dismiss. */
function hostedResult(rz: FakeRazorpay, raw: string): RazorpayReply {
  const form = new URLSearchParams(raw);
  const input = hostedInput(form);
  const callback = form.get("callback_url");
  const cancel = form.get("cancel_url");
  const action = form.get("action");
  if (action === "dismiss") {
    if (isHttpUrl(cancel)) return { status: 303, body: "", headers: { location: cancel } };
    return page(200, messagePage("Payment cancelled", "You closed the payment page. Nothing was charged."));
  }
  if (action !== "pay" && action !== "fail") {
    return page(400, messagePage("This payment cannot be made", "Choose Pay, Fail or Dismiss."));
  }
  const view = checkoutView(rz, input);
  if (view.problem) return page(400, messagePage("This payment cannot be made", view.problem));
  if (callback && !isHttpUrl(callback)) {
    return page(
      400,
      messagePage("This payment cannot be made", "callback_url must be an http or https URL."),
    );
  }
  const r = rz.attempt(targetOf(input)!, action, input.customer);
  if (!r.ok) return page(400, messagePage("This payment cannot be made", r.error.description));
  r.delivered.catch(() => undefined);
  const title = action === "pay" ? "Payment successful" : "Payment failed";
  if (callback) return page(200, autoPostPage(callback, resultFields(rz, r.payment), title));
  return page(
    200,
    messagePage(
      title,
      action === "pay" ? "You can close this page." : "Nothing was charged.",
      resultFields(rz, r.payment),
    ),
  );
}

/** POST /razorpay/checkout/redirect: Checkout's redirect flow, carrying a result to callback_url. */
function redirectResult(rz: FakeRazorpay, raw: string): RazorpayReply {
  const form = new URLSearchParams(raw);
  const p = rz.payments.get(form.get("payment_id") ?? "");
  const callback = form.get("callback_url");
  if (!p) return page(400, messagePage("Something went wrong", "The id provided does not exist"));
  if (!isHttpUrl(callback)) {
    return page(400, messagePage("Something went wrong", "callback_url must be an http or https URL."));
  }
  const title = p.status === "failed" ? "Payment failed" : "Payment successful";
  return page(200, autoPostPage(callback, resultFields(rz, p), title));
}

// ---- the sandbox's control endpoints ----

function eventView(e: WebhookEvent) {
  return {
    id: e.id,
    event: e.event,
    contains: e.contains,
    refs: e.refs,
    createdAt: e.createdAt,
    state: e.state,
    deliveries: e.deliveries,
    body: e.body,
    signature: e.signature,
    headers: e.headers,
  };
}

function brief(events: WebhookEvent[]) {
  return events.map((e) => ({ id: e.id, event: e.event, state: e.state }));
}

async function control(
  rz: FakeRazorpay,
  method: string,
  url: URL,
  readBody: () => Promise<string>,
): Promise<RazorpayReply | null> {
  const path = url.pathname;
  const q = url.searchParams;
  if (method === "GET" && path === "/__sandbox/razorpay") {
    return {
      status: 200,
      body: { ...rz.snapshot(), events: rz.webhooks.log.slice(-100).reverse().map(eventView) },
    };
  }
  if (method === "GET" && path === "/__sandbox/razorpay/events") {
    const f = { order: q.get("order"), payment: q.get("payment"), subscription: q.get("subscription") };
    const name = q.get("event");
    const events = rz.webhooks.log.filter(
      (e) =>
        (!f.order || e.refs.order === f.order) &&
        (!f.payment || e.refs.payment === f.payment) &&
        (!f.subscription || e.refs.subscription === f.subscription) &&
        (!name || e.event === name),
    );
    return { status: 200, body: { events: events.map(eventView) } };
  }
  if (method === "GET" && path === "/__sandbox/razorpay/mode") {
    return {
      status: 200,
      body: { modes: rz.webhooks.modeSettings(), retryDelaysMs: rz.webhooks.retryDelaysMs },
    };
  }
  if (method !== "POST") return null;
  const parsed = parseJson(await readBody());
  if (!parsed.ok) return invalid("the body must be JSON");
  const b = (typeof parsed.value === "object" && parsed.value !== null ? parsed.value : {}) as Record<
    string,
    unknown
  >;
  const target = str(b.target) ?? undefined;
  switch (path) {
    case "/__sandbox/razorpay/mode": {
      if (b.retryDelaysMs !== undefined) {
        const delays = b.retryDelaysMs;
        if (!Array.isArray(delays) || !delays.every((d) => typeof d === "number" && d >= 0 && d <= 60_000)) {
          return invalid("retryDelaysMs must be a list of milliseconds (at most 60000 each)");
        }
        rz.webhooks.retryDelaysMs = delays.slice(0, 10) as number[];
      }
      if (b.mode !== undefined) {
        if (typeof b.mode !== "string" || !DELIVERY_MODES.includes(b.mode as DeliveryMode)) {
          return invalid(
            `mode must be one of ${DELIVERY_MODES.join(", ")} (replay: POST /__sandbox/razorpay/replay)`,
          );
        }
        rz.webhooks.setMode(
          {
            mode: b.mode as DeliveryMode,
            ...(typeof b.copies === "number" ? { copies: b.copies } : {}),
            ...(typeof b.ms === "number" ? { ms: b.ms } : {}),
          },
          target,
        );
      }
      return { status: 200, body: { ok: true, modes: rz.webhooks.modeSettings() } };
    }
    case "/__sandbox/razorpay/flush": {
      const sent = await rz.webhooks.flush({ ...(target ? { target } : {}), reverse: b.reverse === true });
      return { status: 200, body: { ok: true, sent: sent.length, events: brief(sent) } };
    }
    case "/__sandbox/razorpay/replay": {
      const id = str(b.eventId);
      if (!id) return invalid("eventId is required");
      const e = await rz.webhooks.replay(id);
      if (!e)
        return { status: 404, body: { ok: false, error: { code: "not_found", message: "No such event." } } };
      return { status: 200, body: { ok: true, event: eventView(e) } };
    }
    case "/__sandbox/razorpay/webhook-url": {
      const u = typeof b.url === "string" ? b.url.trim() : "";
      if (u && !isHttpUrl(u)) return invalid("url must be an http or https URL (or empty: no deliveries)");
      rz.webhooks.url = u;
      return { status: 200, body: { ok: true, url: u } };
    }
    case "/__sandbox/razorpay/faults": {
      const status = b.status;
      if (b.timeout !== true && (typeof status !== "number" || status < 400 || status > 599)) {
        return invalid("status (400-599) or timeout: true is required");
      }
      if (b.path !== undefined && typeof b.path !== "string") return invalid("path must be a string");
      rz.injectFault(b as RazorpayFault);
      return { status: 200, body: { ok: true } };
    }
    case "/__sandbox/razorpay/orders":
      return rz.createOrder(b);
    case "/__sandbox/razorpay/pay": {
      const id = str(b.orderId) ?? str(b.subscriptionId) ?? str(b.id);
      if (!id || !RAZORPAY_ID.test(id) || !(id.startsWith("order_") || id.startsWith("sub_"))) {
        return invalid("orderId (order_…) or subscriptionId (sub_…) is required");
      }
      const outcome = b.outcome === "fail" ? "fail" : "pay";
      const r = rz.attempt(id.startsWith("sub_") ? { subscriptionId: id } : { orderId: id }, outcome, {
        name: str(b.name) ?? undefined,
        email: str(b.email) ?? undefined,
        contact: str(b.contact) ?? undefined,
        notes: checkoutNotes(b.notes),
        description: str(b.description) ?? undefined,
      });
      if (!r.ok) return razorpayError(r.status, r.error.description);
      const events = await waitFor(r.delivered, b.wait === true);
      return {
        status: 200,
        body: {
          ok: true,
          payment_id: r.payment.id,
          payment: rz.paymentEntity(r.payment),
          response: r.response satisfies CheckoutFields | null,
          error: r.error,
          ...(events ? { events: brief(events) } : {}),
        },
      };
    }
    case "/__sandbox/razorpay/refund": {
      const paymentId = str(b.paymentId);
      if (!paymentId) return invalid("paymentId is required");
      const o = rz.refund(paymentId, b.amount === undefined || b.amount === null ? {} : { amount: b.amount });
      return withEvents(o, b.wait === true, "refund");
    }
    case "/__sandbox/razorpay/subscription": {
      const id = str(b.id);
      const to = b.to;
      if (!id) return invalid("id is required");
      if (typeof to !== "string" || !SUBSCRIPTION_MOVES.includes(to as SubscriptionMove)) {
        return invalid(`to must be one of ${SUBSCRIPTION_MOVES.join(", ")}`);
      }
      return withEvents(rz.moveSubscription(id, to as SubscriptionMove), b.wait === true, "subscription");
    }
    default:
      return null;
  }
}

/** The deliveries' first attempts when asked to wait; null (sending on in the background) if not. */
async function waitFor(delivered: Promise<WebhookEvent[]>, wait: boolean): Promise<WebhookEvent[] | null> {
  if (wait) return delivered;
  delivered.catch(() => undefined);
  return null;
}

async function withEvents(o: Outcome, wait: boolean, name: string): Promise<RazorpayReply> {
  if (o.reply.status !== 200) return settle(o);
  const events = await waitFor(o.delivered, wait);
  return {
    status: 200,
    body: { ok: true, [name]: o.reply.body, ...(events ? { events: brief(events) } : {}) },
  };
}

/**
 * The sandbox's Razorpay routes: the API (/razorpay/v1/…), Checkout (/razorpay/checkout.js, its
 * modal, the hosted page /razorpay/v1/checkout/embedded), the /razorpay page and the test
 * controls (/__sandbox/razorpay/…). Null: not a Razorpay route.
 */
export async function razorpayRoute(
  rz: FakeRazorpay,
  method: string,
  url: URL,
  headers: Record<string, string | string[] | undefined>,
  readBody: () => Promise<string>,
): Promise<RazorpayRouteReply | null> {
  const path = url.pathname;
  if (path.startsWith("/__sandbox/razorpay")) return control(rz, method, url, readBody);
  if (path !== "/razorpay" && !path.startsWith("/razorpay/")) return null;
  if (method === "GET") {
    if (path === "/razorpay") return page(200, consolePage());
    if (path === "/razorpay/checkout.js") {
      const host = typeof headers.host === "string" ? headers.host : "";
      return js(checkoutScript(host ? `http://${host}` : rz.baseUrl));
    }
    if (path === "/razorpay/checkout/modal.js") return js(modalScript());
    if (path === "/razorpay/assets/console.js") return js(consoleScript());
    if (path === "/razorpay/checkout/modal") {
      const { input, escape: escapeCloses, backdropclose } = modalInput(url.searchParams.get("o"));
      const view = checkoutView(rz, input);
      const config = {
        request: {
          key: input.key,
          order_id: input.orderId,
          subscription_id: input.subscriptionId,
          prefill: {
            name: input.customer.name,
            email: input.customer.email,
            contact: input.customer.contact,
          },
          notes: input.customer.notes,
          description: input.description,
        },
        escape: escapeCloses,
        backdropclose,
      };
      return page(200, modalPage(view, config));
    }
    const sub = SUBSCRIPTION_PAGE.exec(path);
    if (sub) {
      const id = decodeURIComponent(sub[1]!);
      const view = checkoutView(rz, {
        key: rz.keyId,
        orderId: null,
        subscriptionId: id,
        name: "Subscription",
        description: "Authorise the subscription's first payment",
        themeColor: undefined,
        customer: {},
      });
      return page(view.problem ? 400 : 200, hostedPage(view, { key_id: rz.keyId, subscription_id: id }));
    }
  }
  if (method === "POST") {
    if (path === "/razorpay/checkout/attempt") return attemptFromModal(rz, await readBody());
    if (path === "/razorpay/checkout/redirect") return redirectResult(rz, await readBody());
    if (path === "/razorpay/checkout/hosted") return hostedResult(rz, await readBody());
    if (path === `${API}/checkout/embedded`) return hostedCheckout(rz, await readBody());
  }
  if (path.startsWith(`${API}/`)) return api(rz, method, path.slice(API.length), headers, readBody);
  return null;
}
