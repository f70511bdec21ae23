import { fromBase64Url, fromUtf8, toBase64Url, utf8 } from "./encoding.ts";

/**
 * Meta's `signed_request` (data deletion and deauthorize callbacks): `<sig>.<payload>`, both
 * base64url, where sig = HMAC-SHA256 of the payload's base64url text with the app secret.
 */
export type SignedRequestPayload = { algorithm: string; user_id?: string; issued_at?: number } & Record<
  string,
  unknown
>;

async function hmacKey(secret: string, usage: "sign" | "verify"): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", utf8(secret), { name: "HMAC", hash: "SHA-256" }, false, [usage]);
}

/** The payload when the signature verifies and the algorithm is HMAC-SHA256; otherwise null. */
export async function parseSignedRequest(
  appSecret: string,
  signedRequest: string,
): Promise<SignedRequestPayload | null> {
  const parts = signedRequest.split(".");
  if (parts.length !== 2 || !parts[0] || !parts[1] || signedRequest.length > 8192) return null;
  const [sigPart, payloadPart] = parts as [string, string];
  let sig: Uint8Array<ArrayBuffer>;
  let payload: unknown;
  try {
    sig = fromBase64Url(sigPart);
    if (sig.length !== 32) return null;
    const ok = await crypto.subtle.verify("HMAC", await hmacKey(appSecret, "verify"), sig, utf8(payloadPart));
    if (!ok) return null;
    payload = JSON.parse(fromUtf8(fromBase64Url(payloadPart)));
  } catch {
    return null;
  }
  if (typeof payload !== "object" || payload === null) return null;
  const p = payload as SignedRequestPayload;
  return String(p.algorithm).toUpperCase() === "HMAC-SHA256" ? p : null;
}

/** Signs a payload the way Meta does (tests and the sandbox play Meta with it). */
export async function makeSignedRequest(appSecret: string, payload: SignedRequestPayload): Promise<string> {
  const body = toBase64Url(utf8(JSON.stringify(payload)));
  const sig = new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(appSecret, "sign"), utf8(body)));
  return `${toBase64Url(sig)}.${body}`;
}

/** How old a `signed_request` may be: Meta posts it as the person asks, so minutes, not hours. */
export const SIGNED_REQUEST_MAX_AGE_S = 5 * 60;
/** How far in the future its `issued_at` may be: clocks differ a little, never by minutes. */
export const SIGNED_REQUEST_MAX_SKEW_S = 60;

/**
 * Whether a verified payload was issued recently (`issued_at`, Unix seconds): a request captured
 * and replayed later, or one without a time, is refused. `now` in milliseconds.
 */
export function signedRequestIsFresh(payload: SignedRequestPayload, now = Date.now()): boolean {
  const issued = payload.issued_at;
  if (typeof issued !== "number" || !Number.isFinite(issued)) return false;
  const age = now / 1000 - issued;
  return age <= SIGNED_REQUEST_MAX_AGE_S && age >= -SIGNED_REQUEST_MAX_SKEW_S;
}
