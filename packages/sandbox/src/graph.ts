/**
 * A fake of the Meta Graph API messages endpoint that speaks its wire format: the documented
 * request and response bodies, the documented error envelope, and faults on demand.
 */

export type SentMessage = {
  id: string;
  phoneNumberId: string;
  to: string;
  type: string;
  text: string | null;
  contextMessageId: string | null;
  at: number;
  /** Meta took the request but will not deliver it: 131047, the customer's 24 hours had passed. */
  failedCode?: number;
};

/** WhatsApp's customer-service window: a free-form message only this long after the customer's last. */
export const WHATSAPP_WINDOW_MS = 24 * 3600_000;

/**
 * What Meta reports about a free-form message sent after the window: the send is accepted (a
 * wamid comes back) and a `failed` status follows on the webhook with this error.
 */
export const REENGAGEMENT = {
  code: 131047,
  title: "Re-engagement message",
  details:
    "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
} as const;

/** A send the fake accepted but Meta would not deliver: the server posts its `failed` status. */
export type Undeliverable = {
  id: string;
  phoneNumberId: string;
  to: string;
  code: number;
  title: string;
  details: string;
};

export type Fault = {
  status: number;
  code: number;
  message: string;
  /** `error_data.details`, Meta's explanation of the code. */
  details?: string;
  error_subcode?: number;
  /** Sent as the `Retry-After` header: delay-seconds, or an HTTP date as a string. */
  retryAfter?: number | string;
  /** Only a request to this recipient (sends) or for this message id (read receipts) fails. */
  to?: string;
  /** Which requests fail: sends (the default) or read receipts / typing indicators. */
  target?: "send" | "read";
};

/**
 * Meta's rate-limit errors as the Cloud API sends them (code, title in `message`, `details`):
 * the business number's throughput reached (130429) and the pair rate limit, too many messages
 * from one business number to one WhatsApp user in a short time (131056), both answered with
 * HTTP 429. Without `retryAfter`, Meta sends no Retry-After either.
 */
export const GRAPH_FAULT_PRESETS = {
  throughput: {
    status: 429,
    code: 130429,
    message: "(#130429) Rate limit hit",
    details: "Cloud API message throughput has been reached.",
  },
  pair_rate_limit: {
    status: 429,
    code: 131056,
    message: "(#131056) (Business Account, Consumer Account) pair rate limit hit",
    details:
      "Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time.",
  },
} as const satisfies Record<string, Fault>;

export type GraphFaultPreset = keyof typeof GRAPH_FAULT_PRESETS;

/**
 * A fault as a test or the sandbox page asks for it: a whole Fault, or a preset by name with the
 * fields that vary (recipient, Retry-After, target) alongside. Null when the preset is unknown or
 * the fault lacks a status or code.
 */
export function resolveFault(req: Partial<Fault> & { preset?: string }): Fault | null {
  const { preset, ...rest } = req;
  if (preset !== undefined) {
    if (!Object.hasOwn(GRAPH_FAULT_PRESETS, preset)) return null;
    return { ...GRAPH_FAULT_PRESETS[preset as GraphFaultPreset], ...rest };
  }
  if (typeof rest.status !== "number" || typeof rest.code !== "number" || typeof rest.message !== "string")
    return null;
  return rest as Fault;
}

/** A read receipt, with or without the typing indicator: not a message, counted apart. */
export type ReadReceipt = { phoneNumberId: string; messageId: string; typing: boolean; at: number };

export class FakeGraph {
  readonly sent: SentMessage[] = [];
  /** Read receipts and typing indicators that were accepted. */
  readonly reads: ReadReceipt[] = [];
  /** Send requests the fake answered, faults included, for tests that count attempts. */
  attempts = 0;
  /** Send requests per recipient, faults included, so tests running side by side count their own. */
  readonly attemptsTo = new Map<string, number>();
  private faults: Fault[] = [];
  private seq = 0;
  /**
   * When each customer last wrote to each business number (epoch ms), as the customer page sent
   * it or a test set it. A customer with no record here is treated as inside the window: tests
   * that ingest without the sandbox's page have told it nothing.
   */
  private readonly lastWrote = new Map<string, number>();

  private readonly token: string | null;

  constructor(token: string | null) {
    this.token = token;
  }

  /** The next `count` send requests fail with this fault, in order. */
  injectFaults(fault: Fault, count = 1): void {
    for (let i = 0; i < count; i++) this.faults.push(fault);
  }

  /** The customer wrote to the business number at `at`: the window runs 24 hours from the newest. */
  customerWrote(phoneNumberId: string, waId: string, at: number): void {
    const key = `${phoneNumberId}:${waId}`;
    this.lastWrote.set(key, Math.max(at, this.lastWrote.get(key) ?? 0));
  }

  /** Sets when the customer last wrote, later or earlier (a test ages the window). */
  setLastWrote(phoneNumberId: string, waId: string, at: number): void {
    this.lastWrote.set(`${phoneNumberId}:${waId}`, at);
  }

  private windowClosed(phoneNumberId: string, waId: string, now: number): boolean {
    const at = this.lastWrote.get(`${phoneNumberId}:${waId}`);
    return at !== undefined && now - at > WHATSAPP_WINDOW_MS;
  }

  reset(): void {
    this.lastWrote.clear();
    this.sent.length = 0;
    this.reads.length = 0;
    this.faults = [];
    this.attempts = 0;
    this.attemptsTo.clear();
  }

  /** The first queued fault for this kind of request and recipient, taken off the queue. */
  private takeFault(target: "send" | "read", key: string | null): Fault | undefined {
    const i = this.faults.findIndex(
      (f) => (f.target ?? "send") === target && (f.to === undefined || f.to === key),
    );
    return i < 0 ? undefined : this.faults.splice(i, 1)[0];
  }

  handleSend(
    phoneNumberId: string,
    authorization: string | undefined,
    raw: string,
  ): { status: number; body: unknown; headers?: Record<string, string>; undeliverable?: Undeliverable } {
    let body: Record<string, unknown> | null = null;
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
    } catch {}
    // The same endpoint marks messages read: `{ messaging_product, status: "read", message_id }`.
    if (body?.status === "read") return this.handleRead(phoneNumberId, authorization, body);
    this.attempts += 1;
    if (typeof body?.to === "string") this.attemptsTo.set(body.to, (this.attemptsTo.get(body.to) ?? 0) + 1);
    if (this.token !== null && authorization !== `Bearer ${this.token}`) {
      return graphError(401, 190, "Invalid OAuth access token - Cannot parse access token", "OAuthException");
    }
    const fault = this.takeFault("send", typeof body?.to === "string" ? body.to : null);
    if (fault) return faultReply(fault);
    if (body === null) return graphError(400, 100, "Invalid parameter", "OAuthException");
    const to = body.to;
    if (body.messaging_product !== "whatsapp" || typeof to !== "string" || typeof body.type !== "string") {
      return graphError(400, 100, "(#100) The parameter messaging_product is required.", "OAuthException");
    }
    const text = body.type === "text" ? ((body.text as { body?: string } | undefined)?.body ?? null) : null;
    if (body.type === "text" && !text) {
      return graphError(400, 100, "(#100) Param text['body'] is required.", "OAuthException");
    }
    this.seq += 1;
    const id = `wamid.SANDBOX${Date.now().toString(36).toUpperCase()}${this.seq}`;
    // Only a template may open a conversation after the window; anything else is taken and then
    // reported failed, as Meta does.
    const closed = body.type !== "template" && this.windowClosed(phoneNumberId, to, Date.now());
    this.sent.push({
      id,
      phoneNumberId,
      to,
      type: body.type,
      text,
      contextMessageId: (body.context as { message_id?: string } | undefined)?.message_id ?? null,
      at: Date.now(),
      ...(closed ? { failedCode: REENGAGEMENT.code } : {}),
    });
    return {
      status: 200,
      body: { messaging_product: "whatsapp", contacts: [{ input: to, wa_id: to }], messages: [{ id }] },
      ...(closed ? { undeliverable: { id, phoneNumberId, to, ...REENGAGEMENT } } : {}),
    };
  }

  private handleRead(
    phoneNumberId: string,
    authorization: string | undefined,
    body: Record<string, unknown>,
  ): { status: number; body: unknown; headers?: Record<string, string> } {
    if (this.token !== null && authorization !== `Bearer ${this.token}`) {
      return graphError(401, 190, "Invalid OAuth access token - Cannot parse access token", "OAuthException");
    }
    const messageId = body.message_id;
    const fault = this.takeFault("read", typeof messageId === "string" ? messageId : null);
    if (fault) return faultReply(fault);
    if (body.messaging_product !== "whatsapp" || typeof messageId !== "string") {
      return graphError(
        400,
        100,
        "(#100) Invalid parameter",
        "OAuthException",
        "Param message_id is required.",
      );
    }
    const indicator = body.typing_indicator as { type?: unknown } | undefined;
    if (indicator !== undefined && indicator?.type !== "text") {
      return graphError(
        400,
        100,
        "(#100) Invalid parameter",
        "OAuthException",
        "typing_indicator.type must be text.",
      );
    }
    this.reads.push({ phoneNumberId, messageId, typing: indicator !== undefined, at: Date.now() });
    return { status: 200, body: { success: true } };
  }
}

/** Meta's documented Cloud API error body: code, title in `message`, `error_data.details`. */
function graphError(
  status: number,
  code: number,
  message: string,
  type: string,
  details = message,
  subcode?: number,
): { status: number; body: unknown; headers?: Record<string, string> } {
  return {
    status,
    body: {
      error: {
        message,
        type,
        code,
        ...(subcode === undefined ? {} : { error_subcode: subcode }),
        error_data: { messaging_product: "whatsapp", details },
        fbtrace_id: `Sandbox${Math.random().toString(36).slice(2, 12)}`,
      },
    },
  };
}

function faultReply(fault: Fault) {
  const r = graphError(
    fault.status,
    fault.code,
    fault.message,
    "OAuthException",
    fault.details,
    fault.error_subcode,
  );
  return fault.retryAfter === undefined ? r : { ...r, headers: { "retry-after": String(fault.retryAfter) } };
}
