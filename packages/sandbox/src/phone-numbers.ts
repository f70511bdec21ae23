import { randomBytes, randomInt } from "node:crypto";
import type { OAuthReply } from "./oauth.ts";

/**
 * The Graph API's WhatsApp business phone number node, `GET /{phone_number_id}?fields=…`, for the
 * dashboard's connect pages: known numbers answer their documented fields, anything else answers
 * Graph's error for an object that does not exist (code 100, subcode 33).
 */
export type FakePhoneNumber = { id: string; display_phone_number: string; verified_name: string };

const FIELDS = new Set([
  "id",
  "display_phone_number",
  "verified_name",
  "quality_rating",
  "code_verification_status",
  "platform_type",
]);

/** How the sandbox came to know a number, for the customer page's labels. */
export type PhoneNumberSource = "configured" | "added" | "embedded_signup";

/** A number as the sandbox's own pages and `GET /__sandbox/whatsapp/phone-numbers` list it. */
export type ListedPhoneNumber = FakePhoneNumber & { source: PhoneNumberSource; added_at: number };

export class FakePhoneNumbers {
  private readonly numbers = new Map<string, ListedPhoneNumber>();
  // Insertion order, so "newest first" holds even for numbers added within one millisecond.
  private readonly order: string[] = [];

  constructor(initial: FakePhoneNumber[] = []) {
    for (const n of initial) this.add(n, "configured");
  }

  add(n: FakePhoneNumber, source: PhoneNumberSource = "added"): void {
    if (!this.numbers.has(n.id)) this.order.push(n.id);
    const { id, display_phone_number, verified_name } = n;
    this.numbers.set(n.id, { id, display_phone_number, verified_name, source, added_at: Date.now() });
  }

  has(id: string): boolean {
    return this.numbers.has(id);
  }

  get(id: string): ListedPhoneNumber | undefined {
    return this.numbers.get(id);
  }

  /** Every number the fake Graph API knows, the newest first. */
  list(): ListedPhoneNumber[] {
    return [...this.order].reverse().map((id) => this.numbers.get(id)!);
  }

  /** `tokenOk` says whether a bearer token is one Graph would honour (platform or business). */
  lookup(
    id: string,
    params: URLSearchParams,
    authorization: string | undefined,
    tokenOk: (token: string) => boolean,
  ): OAuthReply {
    const token =
      params.get("access_token") ?? /^(?:Bearer|OAuth)\s+(\S+)$/i.exec(authorization ?? "")?.[1] ?? null;
    if (!token)
      return error(400, 104, "An access token is required to request this resource.", "OAuthException");
    if (!tokenOk(token)) {
      return error(400, 190, "Invalid OAuth access token - Cannot parse access token", "OAuthException");
    }
    const number = this.numbers.get(id);
    if (!number) {
      return error(
        400,
        100,
        `Unsupported get request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api`,
        "GraphMethodException",
        33,
      );
    }
    const fields = (params.get("fields") ?? "id,display_phone_number,verified_name")
      .split(",")
      .map((f) => f.trim())
      .filter(Boolean);
    const unknown = fields.find((f) => !FIELDS.has(f));
    if (unknown) {
      return error(
        400,
        100,
        `(#100) Tried accessing nonexisting field (${unknown}) on node type (WhatsAppBusinessPhoneNumber)`,
        "OAuthException",
      );
    }
    const values: Record<string, string> = {
      id: number.id,
      display_phone_number: number.display_phone_number,
      verified_name: number.verified_name,
      quality_rating: "GREEN",
      code_verification_status: "VERIFIED",
      platform_type: "CLOUD_API",
    };
    const body: Record<string, string> = {};
    for (const f of fields) body[f] = values[f]!;
    body.id = number.id;
    return { status: 200, body };
  }
}

function authError(authorization: string | undefined, tokenOk: (t: string) => boolean): OAuthReply | null {
  const token = /^(?:Bearer|OAuth)\s+(\S+)$/i.exec(authorization ?? "")?.[1];
  if (!token || !tokenOk(token)) {
    return error(400, 190, "Invalid OAuth access token - Cannot parse access token", "OAuthException");
  }
  return null;
}

function unknownObject(id: string): OAuthReply {
  return error(
    400,
    100,
    `Unsupported post request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
    "GraphMethodException",
    33,
  );
}

function error(status: number, code: number, message: string, type: string, subcode?: number): OAuthReply {
  return {
    status,
    body: {
      error: {
        message,
        type,
        code,
        ...(subcode === undefined ? {} : { error_subcode: subcode }),
        fbtrace_id: `Sandbox${randomBytes(8).toString("base64url")}`,
      },
    },
  };
}

/**
 * What a Tech Provider does after Embedded Signup: subscribe the app to the customer's WhatsApp
 * Business Account (`POST /{waba_id}/subscribed_apps`) and register the number for Cloud API
 * (`POST /{phone_number_id}/register` with a 6-digit two-step verification PIN). Recorded, so
 * tests can see both happened, with the PIN mismatch Meta answers when 2FA already has one.
 * Also proof of control (`request_code` / `verify_code`, the code readable at
 * `GET /__sandbox/whatsapp/code`) and a number's release (`deregister`, `DELETE subscribed_apps`),
 * recorded, with 5xx faults on demand.
 */
export class FakeOnboarding {
  readonly wabas = new Set<string>();
  readonly subscriptions: string[] = [];
  readonly registrations: { phoneNumberId: string; pin: string }[] = [];
  /** A number that already has two-step verification: registering needs exactly this PIN. */
  readonly pins = new Map<string, string>();

  /** Codes "sent" by request_code, one live code per number (what the SIM would receive). */
  readonly codes = new Map<string, { code: string; method: string; language: string; expiresAt: number }>();
  /** Numbers whose last code was verified. */
  readonly verified = new Set<string>();
  /** Releases recorded in order: deregistered numbers and WABAs our app unsubscribed from. */
  readonly deregistrations: string[] = [];
  readonly unsubscriptions: string[] = [];
  /** Faults the next release calls answer (deregister / unsubscribe), in order. */
  private readonly releaseFaults: { target: "deregister" | "unsubscribe"; status: number; code: number }[] =
    [];

  isWaba(id: string): boolean {
    return this.wabas.has(id);
  }

  /** The next `count` deregister or unsubscribe calls fail with this status and Graph code. */
  injectReleaseFault(f: {
    target: "deregister" | "unsubscribe";
    status: number;
    code?: number;
    count?: number;
  }) {
    for (let i = 0; i < (f.count ?? 1); i++) {
      this.releaseFaults.push({ target: f.target, status: f.status, code: f.code ?? 131000 });
    }
  }

  private takeReleaseFault(target: "deregister" | "unsubscribe"): OAuthReply | null {
    const i = this.releaseFaults.findIndex((f) => f.target === target);
    if (i < 0) return null;
    const f = this.releaseFaults.splice(i, 1)[0]!;
    return error(f.status, f.code, "Something went wrong", "OAuthException");
  }

  /**
   * `POST /{phone_number_id}/request_code?code_method=SMS|VOICE&language=en_US`: Meta texts or
   * calls the number with a 6-digit code (here: kept for `GET /__sandbox/whatsapp/code`); a new
   * request replaces the previous code.
   */
  requestCode(
    phoneNumberId: string,
    params: URLSearchParams,
    authorization: string | undefined,
    tokenOk: (t: string) => boolean,
    known: boolean,
  ): OAuthReply {
    const denied = authError(authorization, tokenOk);
    if (denied) return denied;
    if (!known) return unknownObject(phoneNumberId);
    const method = params.get("code_method") ?? "";
    const language = params.get("language") ?? "";
    if (!["SMS", "VOICE", "IVR"].includes(method) || !/^[a-z]{2,3}(_[A-Z]{2})?$/.test(language)) {
      return error(400, 100, "(#100) Invalid parameter", "OAuthException");
    }
    const code = String(randomInt(0, 1_000_000)).padStart(6, "0");
    this.codes.set(phoneNumberId, { code, method, language, expiresAt: Date.now() + 10 * 60_000 });
    return { status: 200, body: { success: true } };
  }

  /**
   * `POST /{phone_number_id}/verify_code?code=…` (or a JSON body): the code request_code sent,
   * once; anything else is Meta's 136025 "Verify code error".
   */
  verifyCode(
    phoneNumberId: string,
    params: URLSearchParams,
    authorization: string | undefined,
    tokenOk: (t: string) => boolean,
    known: boolean,
  ): OAuthReply {
    const denied = authError(authorization, tokenOk);
    if (denied) return denied;
    if (!known) return unknownObject(phoneNumberId);
    const code = params.get("code");
    if (!code) return error(400, 100, "(#100) The parameter code is required.", "OAuthException");
    const live = this.codes.get(phoneNumberId);
    if (!live || live.expiresAt < Date.now() || live.code !== code) {
      return error(400, 136025, "Verify code error", "OAuthException");
    }
    this.codes.delete(phoneNumberId);
    this.verified.add(phoneNumberId);
    return { status: 200, body: { success: true } };
  }

  /** `POST /{phone_number_id}/deregister`: the number leaves Cloud API (recorded; idempotent). */
  deregister(
    phoneNumberId: string,
    authorization: string | undefined,
    tokenOk: (t: string) => boolean,
    known: boolean,
  ): OAuthReply {
    const denied = authError(authorization, tokenOk);
    if (denied) return denied;
    const fault = this.takeReleaseFault("deregister");
    if (fault) return fault;
    if (!known) return unknownObject(phoneNumberId);
    this.deregistrations.push(phoneNumberId);
    return { status: 200, body: { success: true } };
  }

  /** `DELETE /{waba_id}/subscribed_apps`: our app stops getting this WABA's webhooks. */
  unsubscribe(
    wabaId: string,
    authorization: string | undefined,
    tokenOk: (t: string) => boolean,
  ): OAuthReply {
    const denied = authError(authorization, tokenOk);
    if (denied) return denied;
    const fault = this.takeReleaseFault("unsubscribe");
    if (fault) return fault;
    this.unsubscriptions.push(wabaId);
    return { status: 200, body: { success: true } };
  }

  subscribe(wabaId: string, authorization: string | undefined, tokenOk: (t: string) => boolean): OAuthReply {
    const token = /^(?:Bearer|OAuth)\s+(\S+)$/i.exec(authorization ?? "")?.[1];
    if (!token || !tokenOk(token)) {
      return error(400, 190, "Invalid OAuth access token - Cannot parse access token", "OAuthException");
    }
    this.subscriptions.push(wabaId);
    return { status: 200, body: { success: true } };
  }

  register(
    phoneNumberId: string,
    body: string,
    authorization: string | undefined,
    tokenOk: (t: string) => boolean,
    known: boolean,
  ): OAuthReply {
    const token = /^(?:Bearer|OAuth)\s+(\S+)$/i.exec(authorization ?? "")?.[1];
    if (!token || !tokenOk(token)) {
      return error(400, 190, "Invalid OAuth access token - Cannot parse access token", "OAuthException");
    }
    let input: { messaging_product?: unknown; pin?: unknown };
    try {
      input = JSON.parse(body) as typeof input;
    } catch {
      return error(400, 100, "(#100) Invalid parameter", "OAuthException");
    }
    if (!known) {
      return error(
        400,
        100,
        `Unsupported post request. Object with ID '${phoneNumberId}' does not exist`,
        "GraphMethodException",
        33,
      );
    }
    if (
      input.messaging_product !== "whatsapp" ||
      typeof input.pin !== "string" ||
      !/^\d{6}$/.test(input.pin)
    ) {
      return error(400, 100, "(#100) The parameter pin is required and must be 6 digits.", "OAuthException");
    }
    const existing = this.pins.get(phoneNumberId);
    if (existing && existing !== input.pin) {
      return error(400, 133005, "Two step verification PIN Mismatch", "OAuthException");
    }
    this.pins.set(phoneNumberId, input.pin);
    this.registrations.push({ phoneNumberId, pin: input.pin });
    return { status: 200, body: { success: true } };
  }
}
