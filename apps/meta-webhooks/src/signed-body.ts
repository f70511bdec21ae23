import { AppError } from "@concierge/core";
import { verifyMetaSignature } from "@concierge/crypto";

/** Meta's webhook payloads are a few KiB; anything near this is not from Meta. */
export const MAX_WEBHOOK_BYTES = 256 * 1024;

/** Reads at most `limit` bytes; a longer body is refused without being buffered whole. */
async function readLimited(request: Request, limit: number): Promise<Uint8Array<ArrayBuffer>> {
  const declared = Number(request.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > limit) {
    throw new AppError(413, "payload_too_large", `The body is over ${limit} bytes.`);
  }
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new AppError(413, "payload_too_large", `The body is over ${limit} bytes.`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
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
