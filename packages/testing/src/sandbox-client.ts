/** Reading the sandbox's records from a test, wherever the test runs (Node or workerd). */
export type SentRecord = {
  id: string;
  phoneNumberId: string;
  to: string;
  type: string;
  text: string | null;
  contextMessageId: string | null;
};

export async function sentTo(sandboxUrl: string, to: string): Promise<SentRecord[]> {
  const r = await fetch(`${sandboxUrl}/__sandbox/sent?to=${encodeURIComponent(to)}`);
  return ((await r.json()) as { sent: SentRecord[] }).sent;
}

/** Send requests the fake Graph API answered (faults included): all, or those to one recipient. */
export async function graphAttempts(sandboxUrl: string, to?: string): Promise<number> {
  const r = await fetch(`${sandboxUrl}/__sandbox/sent${to ? `?to=${encodeURIComponent(to)}` : ""}`);
  return ((await r.json()) as { attempts: number }).attempts;
}

export type GraphFault = {
  status: number;
  code: number;
  message: string;
  details?: string;
  error_subcode?: number;
  /** The `Retry-After` header: delay-seconds, or an HTTP date. */
  retryAfter?: number | string;
  /** Only sends to this recipient (or, with `target: "read"`, receipts for this message id) fail. */
  to?: string;
  target?: "send" | "read";
  count?: number;
};

/** One of Meta's rate-limit errors by name (the sandbox's GRAPH_FAULT_PRESETS), in its wire format. */
export type GraphFaultPreset = Omit<GraphFault, "status" | "code" | "message"> & {
  preset: "throughput" | "pair_rate_limit";
};

export async function injectGraphFault(
  sandboxUrl: string,
  fault: GraphFault | GraphFaultPreset,
): Promise<void> {
  await fetch(`${sandboxUrl}/__sandbox/faults`, { method: "POST", body: JSON.stringify(fault) });
}

export type ReadRecord = { phoneNumberId: string; messageId: string; typing: boolean };

/** Read receipts (with or without the typing indicator) the fake Graph API accepted for a message. */
export async function readsOf(sandboxUrl: string, messageId: string): Promise<ReadRecord[]> {
  const r = await fetch(`${sandboxUrl}/__sandbox/reads?message=${encodeURIComponent(messageId)}`);
  return ((await r.json()) as { reads: ReadRecord[] }).reads;
}

/** A customer id no other test uses, so tests sharing one runtime never see each other's replies. */
export function uniqueCustomer(): string {
  return `91${String(Date.now()).slice(-8)}${Math.floor(Math.random() * 1e6)
    .toString()
    .padStart(6, "0")}`;
}

/** Makes a phone number known to the fake Graph API (`GET /{phone_number_id}`). */
export async function addGraphPhoneNumber(
  sandboxUrl: string,
  n: { id: string; display_phone_number: string; verified_name?: string },
): Promise<void> {
  const r = await fetch(`${sandboxUrl}/__sandbox/whatsapp/phone-numbers`, {
    method: "POST",
    body: JSON.stringify(n),
  });
  if (!r.ok) throw new Error(`sandbox refused the phone number: ${r.status}`);
}

/** Plays Embedded Signup's popup: the session info message and a code for the server to exchange. */
export async function embeddedSignupSession(
  sandboxUrl: string,
  phoneNumberId: string,
): Promise<{ code: string; data: { phone_number_id: string; waba_id: string } }> {
  const r = await fetch(`${sandboxUrl}/__sandbox/whatsapp/embedded-signup`, {
    method: "POST",
    body: JSON.stringify({ phone_number_id: phoneNumberId }),
  });
  return (await r.json()) as { code: string; data: { phone_number_id: string; waba_id: string } };
}

/** A phone number id no other test uses (Graph ids are 15–16 digits). */
export function uniquePhoneNumberId(): string {
  return `10${String(Date.now()).slice(-9)}${Math.floor(Math.random() * 1e5)
    .toString()
    .padStart(5, "0")}`;
}

export type InstagramSentRecord = {
  id: string;
  pageId: string;
  to: string;
  text: string;
  messagingType: string;
  tag: string | null;
  pageToken: string;
};

type InstagramSent = {
  sent: InstagramSentRecord[];
  actions: { action: string; pageToken: string }[];
  /** Message requests to this customer, faults included. */
  attempts: number;
};

/** Instagram DMs (and sender actions) the fake Graph API accepted for one customer. */
export async function instagramSentTo(sandboxUrl: string, to: string): Promise<InstagramSent> {
  const r = await fetch(`${sandboxUrl}/__sandbox/instagram/sent?to=${encodeURIComponent(to)}`);
  return (await r.json()) as InstagramSent;
}

/** The next Instagram send (or, with `target: "action"`, sender action) to `to` fails like this. */
export async function injectInstagramFault(
  sandboxUrl: string,
  fault: Omit<GraphFault, "target" | "details"> & { target?: "send" | "action" },
): Promise<void> {
  await fetch(`${sandboxUrl}/__sandbox/instagram/faults`, { method: "POST", body: JSON.stringify(fault) });
}

export type SentEmailRecord = { id: string; from: string; to: string; raw: string; at: number };

/** Raw MIME messages the pipeline sent (the sandbox outbox): all, or those to one address. */
export async function sentEmails(sandboxUrl: string, to?: string): Promise<SentEmailRecord[]> {
  const r = await fetch(`${sandboxUrl}/__sandbox/email/outbox${to ? `?to=${encodeURIComponent(to)}` : ""}`);
  return ((await r.json()) as { messages: SentEmailRecord[] }).messages;
}

export type CloudflareState = {
  calls: {
    op: "dns" | "rule_create" | "rule_delete" | "rule_list";
    zoneId: string;
    body: unknown;
    at: number;
  }[];
  rules: {
    id: string;
    zoneId: string;
    name: string;
    matchers: { type: string; field?: string; value?: string }[];
    actions: { type: string; value?: string[] }[];
  }[];
  /** "zone/subdomain" with Email Routing enabled. */
  dns: string[];
};

/** What the fake Cloudflare API was asked and holds now. */
export async function cloudflareState(sandboxUrl: string): Promise<CloudflareState> {
  return (await (await fetch(`${sandboxUrl}/__sandbox/cloudflare`)).json()) as CloudflareState;
}

/** The next `times` (default 1) calls of one operation fail with this Cloudflare error. */
export async function injectCloudflareFault(
  sandboxUrl: string,
  fault: {
    op: "dns" | "rule_create" | "rule_delete";
    status: number;
    code: number;
    message: string;
    times?: number;
  },
): Promise<void> {
  await fetch(`${sandboxUrl}/__sandbox/cloudflare/faults`, { method: "POST", body: JSON.stringify(fault) });
}

// ---- Razorpay, as the sandbox plays it (packages/sandbox/src/razorpay*.ts) ----

/** A webhook the sandbox's Razorpay sent (or recorded: with no webhook URL it only records). */
export type RazorpayEventRecord = {
  /** The X-Razorpay-Event-Id, the same on every retry, copy and replay. */
  id: string;
  event: string;
  contains: string[];
  /** What the event is about. */
  refs: { order?: string; payment?: string; subscription?: string; refund?: string };
  /** Unix seconds, as in the envelope. */
  createdAt: number;
  state: "held" | "scheduled" | "sending" | "delivered" | "failed" | "no_url";
  deliveries: {
    at: number;
    kind: "send" | "retry" | "copy" | "replay" | "flush";
    status: number | null;
    error: string | null;
  }[];
  /** The exact body; `signature` is its hex HMAC-SHA256 with the webhook secret. */
  body: string;
  signature: string;
  /** What every delivery carries: content-type, x-razorpay-signature, x-razorpay-event-id. */
  headers: Record<string, string>;
};

/**
 * The events the sandbox's Razorpay sent, oldest first, optionally only those about an order,
 * payment or subscription, or of one type. A workerd test posts one to the dashboard itself:
 * `SELF.fetch(".../webhooks/razorpay", { method: "POST", headers: e.headers, body: e.body })`.
 */
export async function razorpayEvents(
  sandboxUrl: string,
  filter: { order?: string; payment?: string; subscription?: string; event?: string } = {},
): Promise<RazorpayEventRecord[]> {
  const q = new URLSearchParams(Object.entries(filter).filter(([, v]) => v) as [string, string][]);
  const r = await fetch(`${sandboxUrl}/__sandbox/razorpay/events?${q}`);
  return ((await r.json()) as { events: RazorpayEventRecord[] }).events;
}

/**
 * How the sandbox delivers Razorpay's webhooks, for all events or (with `target`, an order,
 * payment or subscription id) only those about it: normal, duplicate (`copies` at once), reorder
 * (one state change's events last first), delay (`ms`), hold (until razorpayFlush).
 * `retryDelaysMs` sets the waits before each retry of a non-2xx answer.
 */
export async function razorpayMode(
  sandboxUrl: string,
  mode: {
    mode?: "normal" | "duplicate" | "reorder" | "delay" | "hold";
    copies?: number;
    ms?: number;
    target?: string;
    retryDelaysMs?: number[];
  },
): Promise<void> {
  const r = await fetch(`${sandboxUrl}/__sandbox/razorpay/mode`, {
    method: "POST",
    body: JSON.stringify(mode),
  });
  if (!r.ok) throw new Error(`sandbox refused the Razorpay mode: ${await r.text()}`);
}

/** Sends the held events (all, or those about `target`), in order or last first; how many. */
export async function razorpayFlush(
  sandboxUrl: string,
  opts: { target?: string; reverse?: boolean } = {},
): Promise<number> {
  const r = await fetch(`${sandboxUrl}/__sandbox/razorpay/flush`, {
    method: "POST",
    body: JSON.stringify(opts),
  });
  return ((await r.json()) as { sent: number }).sent;
}

/** Sends an earlier event again: same id, same bytes, same signature. */
export async function razorpayReplay(sandboxUrl: string, eventId: string): Promise<void> {
  const r = await fetch(`${sandboxUrl}/__sandbox/razorpay/replay`, {
    method: "POST",
    body: JSON.stringify({ eventId }),
  });
  if (!r.ok) throw new Error(`sandbox could not replay ${eventId}: ${r.status}`);
}

/** What Checkout hands the page after Pay (the handler's argument, or callback_url's fields). */
export type RazorpayCheckoutResponse =
  | { razorpay_payment_id: string; razorpay_order_id: string; razorpay_signature: string }
  | { razorpay_payment_id: string; razorpay_subscription_id: string; razorpay_signature: string };

export type RazorpayCheckoutError = {
  code: string;
  description: string;
  source: string;
  step: string;
  reason: string;
  field: string | null;
  metadata: { payment_id: string; order_id?: string; subscription_id?: string };
};

export type RazorpayPayResult = {
  paymentId: string;
  /** The payment entity, as GET /v1/payments/:id answers it. */
  payment: Record<string, unknown>;
  /** Pay: the signed fields; Fail: null. */
  response: RazorpayCheckoutResponse | null;
  /** Fail: the `payment.failed` error; Pay: null. */
  error: RazorpayCheckoutError | null;
  /** The webhooks this sent (first attempts over) unless `wait: false`. */
  events?: { id: string; event: string; state: RazorpayEventRecord["state"] }[];
};

/**
 * What Checkout's Pay (or, with `outcome: "fail"`, Fail) button does, server-side, for tests that
 * cannot click: a captured (failed) payment on the order `order_…`, or a subscription `sub_…`'s
 * first charge, with the webhooks Razorpay sends. Throws when Checkout would refuse (unknown id,
 * paid order).
 */
export async function razorpayPay(
  sandboxUrl: string,
  id: string,
  opts: { outcome?: "pay" | "fail"; wait?: boolean; name?: string; email?: string; contact?: string } = {},
): Promise<RazorpayPayResult> {
  const r = await fetch(`${sandboxUrl}/__sandbox/razorpay/pay`, {
    method: "POST",
    body: JSON.stringify({ id, ...opts, wait: opts.wait ?? true }),
  });
  const body = (await r.json()) as {
    payment_id: string;
    payment: Record<string, unknown>;
    response: RazorpayCheckoutResponse | null;
    error: RazorpayCheckoutError | null;
    events?: RazorpayPayResult["events"];
  };
  if (!r.ok) throw new Error(`sandbox Razorpay refused the payment: ${JSON.stringify(body)}`);
  return {
    paymentId: body.payment_id,
    payment: body.payment,
    response: body.response,
    error: body.error,
    ...(body.events ? { events: body.events } : {}),
  };
}

/** Refunds a captured payment (all that is left, or `amount`), sending refund.created and refund.processed. */
export async function razorpayRefund(
  sandboxUrl: string,
  paymentId: string,
  amount?: number,
  opts: { wait?: boolean } = {},
): Promise<Record<string, unknown>> {
  const r = await fetch(`${sandboxUrl}/__sandbox/razorpay/refund`, {
    method: "POST",
    body: JSON.stringify({ paymentId, amount, wait: opts.wait ?? true }),
  });
  const body = (await r.json()) as { refund?: Record<string, unknown> };
  if (!r.ok || !body.refund) throw new Error(`sandbox Razorpay refused the refund: ${JSON.stringify(body)}`);
  return body.refund;
}

/**
 * Moves a subscription as Razorpay's billing would, with its webhooks: "charged" (the next invoice
 * paid; from pending or halted it is activated again), "pending", "halted", "cancelled".
 */
export async function razorpaySubscription(
  sandboxUrl: string,
  id: string,
  to: "charged" | "pending" | "halted" | "cancelled",
  opts: { wait?: boolean } = {},
): Promise<Record<string, unknown>> {
  const r = await fetch(`${sandboxUrl}/__sandbox/razorpay/subscription`, {
    method: "POST",
    body: JSON.stringify({ id, to, wait: opts.wait ?? true }),
  });
  const body = (await r.json()) as { subscription?: Record<string, unknown> };
  if (!r.ok || !body.subscription)
    throw new Error(`sandbox Razorpay refused the move: ${JSON.stringify(body)}`);
  return body.subscription;
}

/**
 * The next `count` (default 1) Razorpay API calls matching `method` and `path` (after /v1, e.g.
 * "/orders", "/payments/:id/refund") answer `status` (500 SERVER_ERROR, 429…) or, with `timeout`,
 * nothing for `timeoutMs`; `when: "after"` carries the call out first.
 */
export async function injectRazorpayFault(
  sandboxUrl: string,
  fault: {
    path?: string;
    method?: "GET" | "POST";
    status?: number;
    timeout?: boolean;
    timeoutMs?: number;
    count?: number;
    when?: "before" | "after";
    description?: string;
  },
): Promise<void> {
  const r = await fetch(`${sandboxUrl}/__sandbox/razorpay/faults`, {
    method: "POST",
    body: JSON.stringify(fault),
  });
  if (!r.ok) throw new Error(`sandbox refused the Razorpay fault: ${await r.text()}`);
}

/** Where the sandbox's Razorpay posts its webhooks ("" records them without sending). */
export async function setRazorpayWebhookUrl(sandboxUrl: string, url: string): Promise<void> {
  const r = await fetch(`${sandboxUrl}/__sandbox/razorpay/webhook-url`, {
    method: "POST",
    body: JSON.stringify({ url }),
  });
  if (!r.ok) throw new Error(`sandbox refused the webhook URL: ${await r.text()}`);
}

/**
 * A chat request the sandbox's fake model server received (AI_PROVIDER=openai with
 * OPENAI_BASE_URL at the sandbox's /openai/v1): `body` is the raw request body, byte for byte;
 * `system` and `messages` are read from it (the system prompt is the first message as sent).
 */
export type AiRequestRecord = {
  seq: number;
  kind: "generate" | "classify";
  model: string;
  at: number;
  body: string;
  system: string;
  messages: { role: string; content: string }[];
};

/**
 * The recent chat requests the fake model server received, oldest first: `contains` keeps those
 * whose raw body has that text (put a unique marker in the customer's message), `kind` the reply
 * ("generate") or the injection scan ("classify").
 */
export async function aiRequests(
  sandboxUrl: string,
  filter: { contains?: string; kind?: "generate" | "classify" } = {},
): Promise<AiRequestRecord[]> {
  const q = new URLSearchParams();
  if (filter.contains) q.set("contains", filter.contains);
  if (filter.kind) q.set("kind", filter.kind);
  const r = await fetch(`${sandboxUrl}/__sandbox/ai/requests?${q}`);
  const { requests } = (await r.json()) as { requests: Omit<AiRequestRecord, "system" | "messages">[] };
  return requests.map((req) => {
    const sent = (JSON.parse(req.body) as { messages: { role: string; content: string }[] }).messages;
    const [first, ...rest] = sent;
    return first?.role === "system"
      ? { ...req, system: first.content, messages: rest }
      : { ...req, system: "", messages: sent };
  });
}
