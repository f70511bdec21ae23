import * as v from "valibot";

/** Graph API error body, as Meta documents it; every field optional because proxies vary. */
export const GraphErrorSchema = v.object({
  error: v.object({
    message: v.optional(v.string(), ""),
    type: v.optional(v.string()),
    code: v.optional(v.number()),
    error_subcode: v.optional(v.number()),
    fbtrace_id: v.optional(v.string()),
  }),
});

export type SendResult =
  | { ok: true; providerMessageId: string }
  | {
      ok: false;
      /** Worth trying again later (5xx, throttling, network); permanent errors are not. */
      retryable: boolean;
      /**
       * The request may have reached the provider (it timed out waiting for the answer): the
       * message may be out, so it must not be sent again.
       */
      unknown?: boolean;
      status: number;
      code: number | null;
      reason: string;
      retryAfterSeconds: number | null;
    };

// Graph codes that mean "slow down", which Meta asks clients to retry with backoff.
const THROTTLE_CODES = new Set([4, 80007, 130429, 131048, 131056]);

/** Maps a failed Graph response to a SendResult; never throws. */
export async function graphFailure(res: Response): Promise<SendResult & { ok: false }> {
  let code: number | null = null;
  let reason = `HTTP ${res.status}`;
  const parsed = v.safeParse(GraphErrorSchema, await res.json().catch(() => null));
  if (parsed.success) {
    code = parsed.output.error.code ?? null;
    reason = parsed.output.error.message || reason;
  }
  const retryAfter = Number(res.headers.get("retry-after"));
  return {
    ok: false,
    retryable: res.status >= 500 || res.status === 429 || (code !== null && THROTTLE_CODES.has(code)),
    status: res.status,
    code,
    reason: reason.slice(0, 300),
    retryAfterSeconds: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : null,
  };
}

export function networkFailure(err: unknown): SendResult & { ok: false } {
  const timedOut = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
  return {
    ok: false,
    retryable: !timedOut,
    unknown: timedOut,
    status: 0,
    code: null,
    reason: err instanceof Error ? err.message.slice(0, 300) : "network error",
    retryAfterSeconds: null,
  };
}
