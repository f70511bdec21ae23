import * as v from "valibot";

/**
 * Graph API error body, as Meta documents it for the Cloud API:
 * `{ error: { message, type, code, error_subcode?, error_data: { messaging_product, details }, fbtrace_id } }`.
 * Every field optional because proxies and older versions vary.
 */
export const GraphErrorSchema = v.object({
  error: v.object({
    message: v.optional(v.string(), ""),
    type: v.optional(v.string()),
    code: v.optional(v.number()),
    error_subcode: v.optional(v.number()),
    error_data: v.optional(
      v.object({ messaging_product: v.optional(v.string()), details: v.optional(v.string()) }),
    ),
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
      /**
       * The customer-service window is closed (WhatsApp 131047; Messenger/Instagram code 10
       * subcode 2018278): only a template (or a tagged message) may go now. Never retryable.
       */
      outsideWindow?: boolean;
      /**
       * A throughput or rate limit refused it (Meta's 4, 613, 80007, 130429, 131056, an HTTP 429,
       * or our own pacing): nothing is wrong with the message, only its timing. It waits with
       * backoff for as long as the turn may (never given up after SEND_RETRY.maxAttempts).
       */
      throttled?: boolean;
      status: number;
      code: number | null;
      reason: string;
      retryAfterSeconds: number | null;
    };

export type GraphErrorClass = "retryable" | "permanent" | "outside_window";

/**
 * Codes Meta documents as temporary: throughput and rate limits (4 app call limit, 613 call rate,
 * 80007 WABA rate limit, 130429 Cloud API throughput, 131056 business/consumer pair rate limit)
 * and service trouble (2 API service, 131000 something went wrong, 131016 service unavailable).
 */
const RETRYABLE_CODES = new Set([2, 4, 613, 80007, 130429, 131000, 131016, 131056]);

/** The retryable codes that are a limit on throughput or rate, not a failure of the service. */
const THROTTLE_CODES = new Set([4, 613, 80007, 130429, 131056]);

/** WhatsApp: "(Business Account, Consumer Account) pair rate limit hit". */
export const WHATSAPP_PAIR_RATE_LIMIT = 131056;

/**
 * Meta's pair rate: one business number may send one WhatsApp user about one message every 6
 * seconds (with a burst allowance borrowed from later). A 131056 without Retry-After is therefore
 * not tried again sooner than this; an earlier retry could only be refused again.
 */
export const PAIR_RATE_INTERVAL_SECONDS = 6;

/**
 * Codes that are permanent whatever HTTP status carries them: Meta answers some with a 5xx
 * (3, a permissions problem, comes as HTTP 500), and retrying those only repeats the failure.
 * 131048 (spam rate limit) is a quality restriction on the number, not a throughput limit:
 * retrying within minutes cannot succeed and adds to the number's block signals.
 * 551 (Messenger and Instagram): the person cannot receive the message now (blocked, gone).
 */
const PERMANENT_CODES = new Set([
  0, 3, 10, 33, 100, 190, 368, 551, 131008, 131009, 131021, 131026, 131031, 131042, 131045, 131047, 131048,
  131051, 131052, 131053,
]);

/** WhatsApp: "Re-engagement message", more than 24 hours since the customer's last message. */
export const WHATSAPP_OUTSIDE_WINDOW = 131047;
/** Messenger and Instagram: code 10 with this subcode, "sent outside of allowed window". */
const MESSENGER_OUTSIDE_WINDOW_SUBCODE = 2018278;

/**
 * Whether a failed Graph call is worth repeating. Meta asks clients to build their handling on
 * `code` rather than the HTTP status; the status decides only for codes this table does not know
 * (or when the body is not Graph's error JSON at all, e.g. a proxy's 502 page).
 */
export function classifyGraphError(
  status: number,
  code: number | null,
  subcode: number | null = null,
): GraphErrorClass {
  if (code === WHATSAPP_OUTSIDE_WINDOW) return "outside_window";
  if (code === 10 && subcode === MESSENGER_OUTSIDE_WINDOW_SUBCODE) return "outside_window";
  if (code !== null && RETRYABLE_CODES.has(code)) return "retryable";
  if (code !== null && (PERMANENT_CODES.has(code) || (code >= 200 && code <= 299))) return "permanent";
  return status >= 500 || status === 429 ? "retryable" : "permanent";
}

/**
 * `Retry-After` in seconds: either delay-seconds or an HTTP date (RFC 9110 §10.2.3). Null when
 * absent, unreadable or already past.
 */
export function parseRetryAfter(header: string | null, now = Date.now()): number | null {
  if (header === null) return null;
  const value = header.trim();
  if (/^\d+(\.\d+)?$/.test(value)) {
    const seconds = Number(value);
    return seconds > 0 ? Math.ceil(seconds) : null;
  }
  const at = Date.parse(value);
  if (Number.isNaN(at)) return null;
  const seconds = Math.ceil((at - now) / 1000);
  return seconds > 0 ? seconds : null;
}

/** Maps a failed Graph response to a SendResult; never throws. */
export async function graphFailure(res: Response): Promise<SendResult & { ok: false }> {
  let code: number | null = null;
  let subcode: number | null = null;
  let reason = `HTTP ${res.status}`;
  const parsed = v.safeParse(GraphErrorSchema, await res.json().catch(() => null));
  if (parsed.success) {
    const e = parsed.output.error;
    code = e.code ?? null;
    subcode = e.error_subcode ?? null;
    // `details` says which parameter or condition failed; the title alone is often generic.
    const details = e.error_data?.details;
    reason = [e.message, details !== e.message ? details : ""].filter(Boolean).join(": ") || reason;
  }
  const kind = classifyGraphError(res.status, code, subcode);
  const throttled = kind === "retryable" && (code !== null ? THROTTLE_CODES.has(code) : res.status === 429);
  const retryAfter = parseRetryAfter(res.headers.get("retry-after"));
  return {
    ok: false,
    retryable: kind === "retryable",
    ...(kind === "outside_window" ? { outsideWindow: true } : {}),
    ...(throttled ? { throttled: true } : {}),
    status: res.status,
    code,
    reason: reason.slice(0, 300),
    retryAfterSeconds: retryAfter ?? (code === WHATSAPP_PAIR_RATE_LIMIT ? PAIR_RATE_INTERVAL_SECONDS : null),
  };
}

/**
 * Meta accepted the request but did not answer as it documents: the message may be out, so this
 * is never retryable (a retry could send it twice).
 */
export function unexpectedGraphResponse(status: number): SendResult & { ok: false } {
  return {
    ok: false,
    retryable: false,
    status,
    code: null,
    reason: "unexpected Graph response",
    retryAfterSeconds: null,
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

/** How a reply that keeps failing with a retryable error is tried again. */
export const SEND_RETRY = {
  /** Attempts in all, the first included. */
  maxAttempts: 5,
  baseMs: 2_000,
  maxBackoffMs: 5 * 60_000,
  /** A provider asking for more patience than this gets a failure instead of a stale reply. */
  maxRetryAfterMs: 60 * 60_000,
} as const;

/**
 * The wait before the next attempt after `failedAttempts` retryable failures, or null to give up:
 * exponential backoff with equal jitter (at least half of each step, so retries spread out but
 * still back off), and never sooner than the provider's `Retry-After`. A `throttled` failure (a
 * rate or throughput limit) is not given up after SEND_RETRY.maxAttempts: the message is fine and
 * only has to wait its turn, capped at maxBackoffMs between tries (the caller's own deadline,
 * the turn's 24-hour give-up, bounds it), so a busy number delays replies instead of dropping them.
 */
export function sendRetryDelayMs(
  failedAttempts: number,
  retryAfterSeconds: number | null,
  random: () => number = Math.random,
  throttled = false,
): number | null {
  if (failedAttempts >= SEND_RETRY.maxAttempts && !throttled) return null;
  const step = Math.min(SEND_RETRY.baseMs * 2 ** Math.max(0, failedAttempts - 1), SEND_RETRY.maxBackoffMs);
  const backoff = Math.round(step / 2 + random() * (step / 2));
  if (retryAfterSeconds === null) return backoff;
  const after = retryAfterSeconds * 1000;
  if (after > SEND_RETRY.maxRetryAfterMs) return null;
  return Math.max(after, backoff);
}
