import { fromHex, toHex, utf8 } from "./encoding.ts";

function importHmacKey(secret: string, usage: "sign" | "verify"): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", utf8(secret), { name: "HMAC", hash: "SHA-256" }, false, [usage]);
}

export async function hmacSha256Hex(secret: string, data: Uint8Array<ArrayBuffer>): Promise<string> {
  const key = await importHmacKey(secret, "sign");
  return toHex(new Uint8Array(await crypto.subtle.sign("HMAC", key, data)));
}

/**
 * Checks a hex HMAC-SHA256 over the raw bytes. WebCrypto's verify compares in constant time,
 * so no early exit leaks how much of a forged signature was right.
 */
export async function verifyHmacSha256Hex(
  secret: string,
  data: Uint8Array<ArrayBuffer>,
  signatureHex: string,
): Promise<boolean> {
  const sig = fromHex(signatureHex);
  if (sig?.length !== 32) return false;
  const key = await importHmacKey(secret, "verify");
  return crypto.subtle.verify("HMAC", key, sig, data);
}

/** Meta's `X-Hub-Signature-256: sha256=<hex>` over the raw request body with the app secret. */
export async function verifyMetaSignature(
  appSecret: string,
  rawBody: Uint8Array<ArrayBuffer>,
  header: string | null,
): Promise<boolean> {
  if (!header?.startsWith("sha256=")) return false;
  return verifyHmacSha256Hex(appSecret, rawBody, header.slice("sha256=".length));
}

export async function signMeta(appSecret: string, rawBody: Uint8Array<ArrayBuffer>): Promise<string> {
  return `sha256=${await hmacSha256Hex(appSecret, rawBody)}`;
}

/** Constant-time string equality for shared secrets such as webhook verify tokens. */
export function timingSafeEqualString(a: string, b: string): boolean {
  const x = utf8(a);
  const y = utf8(b);
  let diff = x.length ^ y.length;
  const n = Math.max(x.length, y.length);
  for (let i = 0; i < n; i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}
