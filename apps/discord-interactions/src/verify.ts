import { AppError, readBodyLimited } from "@concierge/core";
import { verifyDiscordRequest } from "@concierge/crypto";

/** Discord's interaction bodies are small; anything near this is not one. */
const MAX_BODY = 256 * 1024;

/**
 * The raw body of a request Discord signed, or null when the signature, its timestamp window or
 * the key does not hold. Verified on the exact bytes received, before anything is parsed.
 */
export async function verifiedBody(request: Request, publicKeyHex: string, now = Date.now()) {
  const raw = await readBodyLimited(
    request,
    MAX_BODY,
    () => new AppError(413, "too_large", "The request body is too large."),
  );
  const verdict = await verifyDiscordRequest({
    publicKeyHex,
    signatureHex: request.headers.get("x-signature-ed25519"),
    timestamp: request.headers.get("x-signature-timestamp"),
    rawBody: raw,
    now,
  });
  return verdict.ok ? { ok: true as const, raw } : { ok: false as const, reason: verdict.reason };
}
