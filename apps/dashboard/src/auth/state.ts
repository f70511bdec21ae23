import { randomToken, sha256Base64Url } from "@concierge/crypto";
import * as v from "valibot";

/** How long a person may take at the provider's consent screen. */
const STATE_TTL_SECONDS = 600;

export const PendingSignInSchema = v.object({
  /** "instagram": connecting an Instagram account (Facebook Login), not a sign-in. */
  provider: v.picklist(["google", "facebook", "instagram"]),
  next: v.string(),
  /** The tenant that started an Instagram connect: the callback must come back to it. */
  tenantId: v.optional(v.string()),
  /** PKCE verifier and OIDC nonce (Google); Facebook Login uses only `state`. */
  verifier: v.optional(v.string()),
  nonce: v.optional(v.string()),
});
export type PendingSignIn = v.InferOutput<typeof PendingSignInSchema>;

export function randomString(bytes = 32): string {
  return randomToken(bytes);
}

/** RFC 7636 S256: base64url of the verifier's SHA-256. */
export function pkceChallenge(verifier: string): Promise<string> {
  return sha256Base64Url(verifier);
}

/** Remembers a sign-in in progress under its `state`; the key expires on its own. */
export async function putPendingSignIn(
  kv: KVNamespace,
  state: string,
  pending: PendingSignIn,
  prefix: PendingPrefix = "signin",
): Promise<void> {
  await kv.put(`${prefix}:${state}`, JSON.stringify(pending), { expirationTtl: STATE_TTL_SECONDS });
}

/** KV key prefixes: sign-ins, and flows started by a signed-in person (Instagram connect). */
export type PendingPrefix = "signin" | "igconnect";

/** Takes (reads and deletes) a pending sign-in: a `state` works once. */
export async function takePendingSignIn(
  kv: KVNamespace,
  state: string,
  prefix: PendingPrefix = "signin",
): Promise<PendingSignIn | null> {
  if (!/^[A-Za-z0-9_-]{20,100}$/.test(state)) return null;
  const raw = await kv.get(`${prefix}:${state}`);
  if (!raw) return null;
  await kv.delete(`${prefix}:${state}`);
  const parsed = v.safeParse(PendingSignInSchema, JSON.parse(raw));
  return parsed.success ? parsed.output : null;
}

/**
 * Only our own paths: an open redirect after sign-in would hand the session page to anyone.
 * Control characters and backslashes are refused outright (browsers strip tabs and newlines, so
 * "/\t/evil.example" would become "//evil.example"), then the result must resolve to our origin.
 */
export function safeNext(next: string | null | undefined): string {
  // Any code point up to the space, or a backslash, refuses the path.
  const unsafe = [...(next ?? "")].some((ch) => ch.charCodeAt(0) <= 0x20 || ch === "\\");
  if (!next?.startsWith("/") || unsafe) return "/admin";
  const base = "https://dashboard.invalid";
  const url = new URL(next, base);
  if (url.origin !== base) return "/admin";
  return `${url.pathname}${url.search}${url.hash}`;
}
