import { fromBase64, fromUtf8, toBase64, utf8 } from "./encoding.ts";

/**
 * AES-256-GCM envelope encryption. Each tenant has its own data key; the data key is stored
 * wrapped (encrypted) by the platform master key `ENCRYPTION_KEY`. Deleting the wrapped data key
 * makes everything encrypted under it unreadable (crypto-shredding).
 *
 * Ciphertext format: `v<keyVersion>.<base64 iv>.<base64 ciphertext+tag>`; the version lets a
 * tenant's key rotate while older ciphertext stays readable.
 */

const IV_BYTES = 12;

export async function importAesKey(raw: Uint8Array<ArrayBuffer>, extractable = false): Promise<CryptoKey> {
  if (raw.length !== 32) throw new Error("AES-256 keys are 32 bytes");
  return crypto.subtle.importKey("raw", raw, { name: "AES-GCM" }, extractable, ["encrypt", "decrypt"]);
}

function masterKeyBytes(b64: string | undefined): Uint8Array<ArrayBuffer> {
  if (!b64) throw new Error("ENCRYPTION_KEY is not set");
  let raw: Uint8Array<ArrayBuffer>;
  try {
    raw = fromBase64(b64.trim());
  } catch {
    throw new Error("ENCRYPTION_KEY is not valid base64");
  }
  if (raw.length !== 32) throw new Error("ENCRYPTION_KEY must be 32 bytes, base64-encoded");
  return raw;
}

/** Parses `ENCRYPTION_KEY` (base64 of 32 random bytes) into a key, with a clear error if it is not. */
export async function importMasterKey(b64: string | undefined): Promise<CryptoKey> {
  return importAesKey(masterKeyBytes(b64));
}

/**
 * An HMAC-SHA256 key for one purpose only, derived from `ENCRYPTION_KEY` by HKDF-SHA256 with the
 * purpose as its label, exactly as derivePurposeKey derives an AES key: for pseudonyms that no one
 * without the key can compute or reverse, however few the inputs (an IPv4 address has 2³²).
 */
export async function derivePurposeHmacKey(b64: string | undefined, purpose: string): Promise<CryptoKey> {
  const base = await crypto.subtle.importKey("raw", masterKeyBytes(b64), "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: utf8(`concierge/${purpose}`) },
    base,
    { name: "HMAC", hash: "SHA-256", length: 256 },
    false,
    ["sign"],
  );
}

/**
 * An AES-256-GCM key for one purpose only, derived from `ENCRYPTION_KEY` by HKDF-SHA256 with the
 * purpose as its label: what is sealed for one purpose cannot be opened as another, and the master
 * key (which wraps tenants' data keys) never touches that data itself. The master key is uniformly
 * random, so HKDF's salt can be empty (RFC 5869 §3.1).
 */
export async function derivePurposeKey(b64: string | undefined, purpose: string): Promise<CryptoKey> {
  const base = await crypto.subtle.importKey("raw", masterKeyBytes(b64), "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: utf8(`concierge/${purpose}`) },
    base,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

export async function encryptString(
  key: CryptoKey,
  version: number,
  plaintext: string,
  aad: string,
): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const ct = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: utf8(aad) },
    key,
    utf8(plaintext),
  );
  return `v${version}.${toBase64(iv)}.${toBase64(new Uint8Array(ct))}`;
}

export function ciphertextVersion(sealed: string): number {
  const m = /^v(\d+)\./.exec(sealed);
  if (!m) throw new Error("not a sealed value");
  return Number(m[1]);
}

/** Throws if the value was tampered with, sealed for another context (aad), or under another key. */
export async function decryptString(key: CryptoKey, sealed: string, aad: string): Promise<string> {
  const parts = sealed.split(".");
  if (parts.length !== 3) throw new Error("not a sealed value");
  const pt = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: fromBase64(parts[1]!), additionalData: utf8(aad) },
    key,
    fromBase64(parts[2]!),
  );
  return fromUtf8(new Uint8Array(pt));
}

/** A fresh tenant data key, returned wrapped for storage (the raw key never leaves this function). */
export async function newWrappedDataKey(master: CryptoKey, tenantId: string): Promise<string> {
  const raw = crypto.getRandomValues(new Uint8Array(32));
  return encryptString(master, 1, toBase64(raw), `tenant-key:${tenantId}`);
}

export async function unwrapDataKey(
  master: CryptoKey,
  wrapped: string,
  tenantId: string,
): Promise<CryptoKey> {
  const b64 = await decryptString(master, wrapped, `tenant-key:${tenantId}`);
  return importAesKey(fromBase64(b64));
}
