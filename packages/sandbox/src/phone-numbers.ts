import { randomBytes } from "node:crypto";
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

export class FakePhoneNumbers {
  private readonly numbers = new Map<string, FakePhoneNumber>();

  constructor(initial: FakePhoneNumber[] = []) {
    for (const n of initial) this.numbers.set(n.id, n);
  }

  add(n: FakePhoneNumber): void {
    this.numbers.set(n.id, n);
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
      ...number,
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
