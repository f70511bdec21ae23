import { fromHex, utf8 } from "./encoding.ts";

export type DiscordRequestCheck = {
  /** The application's public key as Discord shows it: 64 hex characters. */
  publicKeyHex: string;
  /** `X-Signature-Ed25519`: 128 hex characters. */
  signatureHex: string | null;
  /** `X-Signature-Timestamp`: Unix seconds. */
  timestamp: string | null;
  /** The request body exactly as received; re-serialized JSON would not verify. */
  rawBody: Uint8Array<ArrayBuffer>;
  /** Milliseconds since the epoch. */
  now: number;
  maxSkewSeconds?: number;
};

export type DiscordRequestVerdict =
  | { ok: true }
  | { ok: false; reason: "malformed" | "stale_timestamp" | "bad_signature" };

const keys = new Map<string, Promise<CryptoKey>>();

// Importing is the costly part; one key per isolate is imported once.
function publicKey(raw: Uint8Array<ArrayBuffer>, hex: string): Promise<CryptoKey> {
  let key = keys.get(hex);
  if (!key) {
    key = crypto.subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]);
    keys.set(hex, key);
    key.catch(() => keys.delete(hex));
  }
  return key;
}

/**
 * Discord's interaction signature: Ed25519 over the timestamp header followed by the raw body.
 * The timestamp is checked against a window first, so a captured request cannot be replayed
 * later. WebCrypto's verify runs in time independent of where a forged signature differs.
 */
export async function verifyDiscordRequest(input: DiscordRequestCheck): Promise<DiscordRequestVerdict> {
  const { publicKeyHex, signatureHex, timestamp, rawBody, now, maxSkewSeconds = 300 } = input;
  const key = fromHex(publicKeyHex);
  const signature = signatureHex === null ? null : fromHex(signatureHex);
  if (key?.length !== 32 || signature?.length !== 64 || !timestamp || !/^\d{1,12}$/.test(timestamp)) {
    return { ok: false, reason: "malformed" };
  }
  if (Math.abs(now / 1000 - Number(timestamp)) > maxSkewSeconds)
    return { ok: false, reason: "stale_timestamp" };
  const head = utf8(timestamp);
  const message = new Uint8Array(head.length + rawBody.length);
  message.set(head, 0);
  message.set(rawBody, head.length);
  let valid: boolean;
  try {
    valid = await crypto.subtle.verify(
      { name: "Ed25519" },
      await publicKey(key, publicKeyHex),
      signature,
      message,
    );
  } catch {
    // A 32-byte string that is not a point on the curve cannot be imported: no valid signature.
    return { ok: false, reason: "malformed" };
  }
  return valid ? { ok: true } : { ok: false, reason: "bad_signature" };
}

// PKCS#8 wrapping of a raw 32-byte Ed25519 seed (RFC 8410), since WebCrypto imports private keys
// only as PKCS#8 or JWK.
const PKCS8_PREFIX = fromHex("302e020100300506032b657004220420")!;

/** Signs as Discord does, with a 32-byte private key seed in hex (the sandbox and tests). */
export async function signDiscordRequest(
  privateKeyHex: string,
  timestamp: string,
  rawBody: Uint8Array<ArrayBuffer>,
): Promise<string> {
  const seed = fromHex(privateKeyHex);
  if (seed?.length !== 32) throw new Error("An Ed25519 private key is 32 bytes (64 hex characters).");
  const pkcs8 = new Uint8Array(PKCS8_PREFIX.length + 32);
  pkcs8.set(PKCS8_PREFIX, 0);
  pkcs8.set(seed, PKCS8_PREFIX.length);
  const key = await crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, false, ["sign"]);
  const head = utf8(timestamp);
  const message = new Uint8Array(head.length + rawBody.length);
  message.set(head, 0);
  message.set(rawBody, head.length);
  const sig = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, key, message));
  let hex = "";
  for (const b of sig) hex += b.toString(16).padStart(2, "0");
  return hex;
}

/** A fresh key pair as hex (public key, private seed), for tests and a local sandbox. */
export async function generateDiscordKeyPair(): Promise<{ publicKeyHex: string; privateKeyHex: string }> {
  const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
  const pub = new Uint8Array((await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer);
  const pkcs8 = new Uint8Array((await crypto.subtle.exportKey("pkcs8", pair.privateKey)) as ArrayBuffer);
  const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return { publicKeyHex: hex(pub), privateKeyHex: hex(pkcs8.subarray(PKCS8_PREFIX.length)) };
}
