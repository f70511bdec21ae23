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
};

export type Fault = { status: number; code: number; message: string; retryAfter?: number };

export class FakeGraph {
  readonly sent: SentMessage[] = [];
  /** Requests the fake answered, faults included, for tests that count attempts. */
  attempts = 0;
  private faults: Fault[] = [];
  private seq = 0;

  private readonly token: string | null;

  constructor(token: string | null) {
    this.token = token;
  }

  /** The next `count` send requests fail with this fault, in order. */
  injectFaults(fault: Fault, count = 1): void {
    for (let i = 0; i < count; i++) this.faults.push(fault);
  }

  reset(): void {
    this.sent.length = 0;
    this.faults = [];
    this.attempts = 0;
  }

  handleSend(
    phoneNumberId: string,
    authorization: string | undefined,
    raw: string,
  ): { status: number; body: unknown; headers?: Record<string, string> } {
    this.attempts += 1;
    if (this.token !== null && authorization !== `Bearer ${this.token}`) {
      return graphError(401, 190, "Invalid OAuth access token - Cannot parse access token", "OAuthException");
    }
    const fault = this.faults.shift();
    if (fault) {
      const r = graphError(fault.status, fault.code, fault.message, "OAuthException");
      return fault.retryAfter ? { ...r, headers: { "retry-after": String(fault.retryAfter) } } : r;
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return graphError(400, 100, "Invalid parameter", "OAuthException");
    }
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
    this.sent.push({
      id,
      phoneNumberId,
      to,
      type: body.type,
      text,
      contextMessageId: (body.context as { message_id?: string } | undefined)?.message_id ?? null,
      at: Date.now(),
    });
    return {
      status: 200,
      body: { messaging_product: "whatsapp", contacts: [{ input: to, wa_id: to }], messages: [{ id }] },
    };
  }
}

function graphError(status: number, code: number, message: string, type: string) {
  return {
    status,
    body: { error: { message, type, code, fbtrace_id: `Sandbox${Math.random().toString(36).slice(2, 12)}` } },
  };
}
