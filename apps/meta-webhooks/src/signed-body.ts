import { AppError, readBodyLimited } from "@concierge/core";
import { fromHex, fromUtf8, utf8 } from "@concierge/crypto";
import * as v from "valibot";

/** Meta's webhook payloads are a few KiB; anything near this is not from Meta. */
export const MAX_WEBHOOK_BYTES = 256 * 1024;

function readLimited(request: Request, limit: number): Promise<Uint8Array<ArrayBuffer>> {
  return readBodyLimited(
    request,
    limit,
    () => new AppError(413, "payload_too_large", `The body is over ${limit} bytes.`),
  );
}

/**
 * The app secret's HMAC key, imported once per isolate rather than once per webhook. One slot:
 * a deployment has one secret, and a rotated one simply replaces it.
 */
let verifyKey: { secret: string; key: Promise<CryptoKey> } | null = null;

export function metaVerifyKey(appSecret: string): Promise<CryptoKey> {
  if (verifyKey?.secret !== appSecret) {
    const key = crypto.subtle.importKey("raw", utf8(appSecret), { name: "HMAC", hash: "SHA-256" }, false, [
      "verify",
    ]);
    const slot = { secret: appSecret, key };
    verifyKey = slot;
    // A failed import is not kept: the next request tries again.
    key.catch(() => {
      if (verifyKey === slot) verifyKey = null;
    });
  }
  return verifyKey.key;
}

/**
 * `X-Hub-Signature-256: sha256=<hex>` over the raw body, with the app secret. WebCrypto's verify
 * compares in constant time, so no early exit leaks how much of a forged signature was right.
 */
async function verifyMetaSignature(
  appSecret: string,
  body: Uint8Array<ArrayBuffer>,
  header: string,
): Promise<boolean> {
  if (!header.startsWith("sha256=")) return false;
  const signature = fromHex(header.slice("sha256=".length));
  if (signature?.length !== 32) return false;
  return crypto.subtle.verify("HMAC", await metaVerifyKey(appSecret), signature, body);
}

/**
 * The raw body of a Meta webhook, after checking `X-Hub-Signature-256` over exactly these bytes.
 * Verifying a re-serialized parse would accept bodies Meta never signed and reject ones it did.
 */
export async function readSignedMetaBody(
  request: Request,
  appSecret: string,
): Promise<Uint8Array<ArrayBuffer>> {
  const body = await readLimited(request, MAX_WEBHOOK_BYTES);
  const header = request.headers.get("x-hub-signature-256");
  if (!header) throw new AppError(401, "missing_signature", "X-Hub-Signature-256 is required.");
  if (!(await verifyMetaSignature(appSecret, body, header))) {
    throw new AppError(401, "invalid_signature", "The signature does not match the body.");
  }
  return body;
}

/**
 * A signed Meta webhook, verified, parsed and checked against `schema`: malformed JSON and a
 * payload of another kind are 400s with the envelope, so Meta does not retry them.
 */
export async function readSignedWebhook<S extends v.GenericSchema>(
  request: Request,
  appSecret: string,
  schema: S,
  notThisKind: string,
): Promise<v.InferOutput<S>> {
  const raw = await readSignedMetaBody(request, appSecret);
  let json: unknown;
  try {
    json = JSON.parse(fromUtf8(raw));
  } catch {
    throw new AppError(400, "malformed_json", "The body is not valid JSON.");
  }
  const payload = v.safeParse(schema, json);
  if (!payload.success) throw new AppError(400, "invalid_payload", notThisKind);
  return payload.output;
}
