import { randomBytes, toBase64 } from "@concierge/crypto";

/** A fresh CSP nonce per response: only scripts and styles we rendered carry it. */
export function newNonce(): string {
  return toBase64(randomBytes(16));
}

/** Sources one page may add to the policy (Embedded Signup: Meta's JavaScript SDK). */
export type CspAllowance = Partial<Record<"script-src" | "frame-src" | "connect-src" | "img-src", string[]>>;

const extra = (allow: CspAllowance, directive: keyof CspAllowance) =>
  allow[directive]?.length ? ` ${allow[directive].join(" ")}` : "";

/**
 * Headers every response gets. Scripts run only with this response's nonce; nothing may frame the
 * dashboard; forms post only to us.
 */
export function securityHeaders(nonce: string, allow: CspAllowance = {}): Record<string, string> {
  return {
    "content-security-policy": [
      "default-src 'none'",
      `script-src 'nonce-${nonce}' 'strict-dynamic'${extra(allow, "script-src")}`,
      `style-src 'self' 'nonce-${nonce}'`,
      `img-src 'self' data:${extra(allow, "img-src")}`,
      `connect-src 'self'${extra(allow, "connect-src")}`,
      ...(allow["frame-src"]?.length ? [`frame-src${extra(allow, "frame-src")}`] : []),
      "form-action 'self'",
      "frame-ancestors 'none'",
      "base-uri 'none'",
    ].join("; "),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "strict-origin-when-cross-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
    // Browsers ignore it over plain http (local runs); in production it pins https.
    "strict-transport-security": "max-age=31536000; includeSubDomains",
  };
}

/**
 * Copies a response with the security headers set (redirects and errors included): a response
 * may have immutable headers (Response.redirect, a fetched one), a copy never does.
 */
export function withSecurityHeaders(
  res: Response,
  opts: { nonce: string; allow: CspAllowance; noStore: boolean },
): Response {
  const out = new Response(res.body, res);
  for (const [k, v] of Object.entries(securityHeaders(opts.nonce, opts.allow))) out.headers.set(k, v);
  if (opts.noStore && !out.headers.has("cache-control")) out.headers.set("cache-control", "no-store");
  return out;
}
