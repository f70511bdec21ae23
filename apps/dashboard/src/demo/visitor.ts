// Who a demo visitor is, as far as the limits need to know: a pseudonym of the client address.
// The address itself goes nowhere (not to the pipeline, not to the limiter, not to a log); the
// pseudonym is a key for counters that forget it within the hour (the Rate Limiting binding's
// minute, the pipeline's per-visitor hour) and is never stored or logged either.
import { sha256Base64Url } from "@concierge/crypto";
import type { Ctx } from "../http.ts";

/**
 * A fixed label, so these hashes are of no use as anything but demo-limit keys: the same address
 * hashed for another purpose gives another value.
 */
const LABEL = "concierge demo visitor v1\u0000";

/**
 * Cloudflare sets CF-Connecting-IP on every request that reaches a Worker from the internet. When
 * it is absent (a local run without it), every such visitor shares one pseudonym: the limits then
 * bind sooner, never later.
 */
const UNKNOWN = "unknown";

/** The visitor's pseudonym: 43 URL-safe characters, as the demo contract's `visitor` wants. */
export function visitorPseudonym(c: Ctx): Promise<string> {
  const address = c.headers.get("cf-connecting-ip")?.trim() || UNKNOWN;
  return sha256Base64Url(`${LABEL}${address}`);
}
