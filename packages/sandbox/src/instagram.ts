/**
 * A fake of the Messenger Platform's Send API for Instagram (`POST /{page-id}/messages` with the
 * page access token): the documented request and answer bodies, sender actions, Meta's error envelope
 * and faults on demand. Kept apart from the WhatsApp fake so each channel's sends are counted
 * on their own.
 */

export type InstagramSent = {
  id: string;
  /** The page the request was posted to. */
  pageId: string;
  to: string;
  text: string;
  /** `RESPONSE`, or `MESSAGE_TAG` with `tag`. */
  messagingType: string;
  tag: string | null;
  /** The bearer page token the request carried, so a test can check it was the account's own. */
  pageToken: string;
  at: number;
};

export type InstagramAction = { to: string; action: string; pageToken: string; at: number };

export type InstagramFault = {
  status: number;
  code: number;
  message: string;
  error_subcode?: number;
  retryAfter?: number | string;
  /** Only a request to this recipient fails. */
  to?: string;
  /** Which requests fail: messages (the default) or sender actions. */
  target?: "send" | "action";
};

type Reply = { status: number; body: unknown; headers?: Record<string, string> };

const SENDER_ACTIONS = new Set(["mark_seen", "typing_on", "typing_off"]);
const MESSAGING_TYPES = new Set(["RESPONSE", "UPDATE", "MESSAGE_TAG"]);

export class FakeInstagram {
  readonly sent: InstagramSent[] = [];
  readonly actions: InstagramAction[] = [];
  /** Message requests per recipient, faults included. */
  readonly attemptsTo = new Map<string, number>();
  private faults: InstagramFault[] = [];
  private seq = 0;

  injectFaults(fault: InstagramFault, count = 1): void {
    for (let i = 0; i < count; i++) this.faults.push(fault);
  }

  reset(): void {
    this.sent.length = 0;
    this.actions.length = 0;
    this.attemptsTo.clear();
    this.faults = [];
  }

  private takeFault(target: "send" | "action", to: string | null): InstagramFault | undefined {
    const i = this.faults.findIndex(
      (f) => (f.target ?? "send") === target && (f.to === undefined || f.to === to),
    );
    return i < 0 ? undefined : this.faults.splice(i, 1)[0];
  }

  handleSend(pageId: string, authorization: string | undefined, raw: string): Reply {
    let body: Record<string, unknown> | null = null;
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
    } catch {}
    const to = (body?.recipient as { id?: unknown } | undefined)?.id;
    const recipient = typeof to === "string" ? to : null;
    const action = body?.sender_action;
    if (action === undefined && recipient) {
      this.attemptsTo.set(recipient, (this.attemptsTo.get(recipient) ?? 0) + 1);
    }
    const token = /^Bearer (.+)$/.exec(authorization ?? "")?.[1];
    if (!token) return graphError(401, 190, "Invalid OAuth access token - Cannot parse access token");
    const fault = this.takeFault(action === undefined ? "send" : "action", recipient);
    if (fault) return faultReply(fault);
    if (!recipient) return graphError(400, 100, "(#100) The parameter recipient is required");
    if (action !== undefined) {
      if (typeof action !== "string" || !SENDER_ACTIONS.has(action) || body?.message !== undefined) {
        return graphError(400, 100, "(#100) Invalid sender_action");
      }
      this.actions.push({ to: recipient, action, pageToken: token, at: Date.now() });
      return { status: 200, body: { recipient_id: recipient } };
    }
    const type = body?.messaging_type;
    if (typeof type !== "string" || !MESSAGING_TYPES.has(type)) {
      return graphError(400, 100, "(#100) The parameter messaging_type is required");
    }
    if (type === "MESSAGE_TAG" && typeof body?.tag !== "string") {
      return graphError(400, 100, "(#100) The parameter tag is required for MESSAGE_TAG");
    }
    const text = (body?.message as { text?: unknown } | undefined)?.text;
    if (typeof text !== "string" || !text) {
      return graphError(400, 100, "(#100) The parameter message is required");
    }
    this.seq += 1;
    const id = `aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDU${Date.now().toString(36)}${this.seq}`;
    this.sent.push({
      id,
      pageId,
      to: recipient,
      text,
      messagingType: type,
      tag: typeof body?.tag === "string" ? body.tag : null,
      pageToken: token,
      at: Date.now(),
    });
    return { status: 200, body: { recipient_id: recipient, message_id: id } };
  }
}

/**
 * Whether a `/{id}/messages` body is the Messenger Platform's (Instagram) rather than the
 * WhatsApp Cloud API's, which always names `messaging_product`.
 */
export function isSendApiBody(raw: string): boolean {
  try {
    const body = JSON.parse(raw) as Record<string, unknown> | null;
    return !!body && typeof body === "object" && !("messaging_product" in body) && "recipient" in body;
  } catch {
    return false;
  }
}

/** Meta's Graph error envelope, as the Send API answers it. */
function graphError(status: number, code: number, message: string, subcode?: number): Reply {
  return {
    status,
    body: {
      error: {
        message,
        type: "OAuthException",
        code,
        ...(subcode === undefined ? {} : { error_subcode: subcode }),
        fbtrace_id: `Sandbox${Math.random().toString(36).slice(2, 12)}`,
      },
    },
  };
}

function faultReply(f: InstagramFault): Reply {
  const r = graphError(f.status, f.code, f.message, f.error_subcode);
  return f.retryAfter === undefined ? r : { ...r, headers: { "retry-after": String(f.retryAfter) } };
}
