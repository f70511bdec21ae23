import { toBase64Url, toHex, utf8 } from "./encoding.ts";

/**
 * Hashes and random tokens, written once. Stored secrets (session ids, reverse-alias and
 * verification tokens) are kept only as their SHA-256, so a read of the table grants nothing.
 */
export async function sha256(data: string | Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  const bytes = typeof data === "string" ? utf8(data) : data;
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
}

/** SHA-256 as 64 lowercase hex digits. */
export async function sha256Hex(data: string | Uint8Array): Promise<string> {
  return toHex(await sha256(data));
}

/** SHA-256 as unpadded base64url (43 characters), e.g. a PKCE code challenge. */
export async function sha256Base64Url(data: string | Uint8Array): Promise<string> {
  return toBase64Url(await sha256(data));
}

/** `bytes` bytes from the platform's CSPRNG. */
export function randomBytes(bytes: number): Uint8Array<ArrayBuffer> {
  if (!Number.isInteger(bytes) || bytes < 1 || bytes > 65536) throw new RangeError("1 to 65536 bytes");
  return crypto.getRandomValues(new Uint8Array(bytes));
}

/**
 * An unguessable token: `bytes` random bytes (default 32, 256 bits) as hex (2 characters a byte)
 * or unpadded base64url (4 characters per 3 bytes), safe in URLs, cookies and email addresses.
 */
export function randomToken(bytes = 32, encoding: "hex" | "base64url" = "base64url"): string {
  const raw = randomBytes(bytes);
  return encoding === "hex" ? toHex(raw) : toBase64Url(raw);
}
