/**
 * Per-number pacing of sends (README: Pacing). Meta allows a WhatsApp business number 80 messages
 * a second by default (inbound and outbound together; 130429 past it) and an Instagram
 * professional account 300 text sends a second; one Workers Rate Limiting counter per number (or
 * Instagram account) keeps our sends below both: SEND_RATE_LIMIT, 600 per 10 s, about 60 a second.
 *
 * The check is a call to the binding, which Cloudflare answers from the Worker's own location: no
 * Durable Object hop and no write of ours, so a send in the common case costs nothing more. A
 * refused send is not attempted: it comes back as a throttled, retryable failure, so the
 * conversation keeps the reply (and its credit) and its alarm tries again after a short, jittered
 * backoff, through the same exactly-once outbox as any retry (exactly-once.ts).
 *
 * Per customer, Meta's pair rate (about one message every 6 s to one WhatsApp user, with a burst
 * allowance) needs no counter of ours: a thread's sends come from its one conversation object,
 * one reply per turn plus what a person sends, far below the burst. A 131056 that still comes
 * back waits at least 6 s (packages/channels graph.ts) and is retried like any throttling.
 */
import type { SendResult } from "@concierge/channels";
import { createLogger, errorFields } from "@concierge/core";
import type { Thread } from "@concierge/core";
import type { PipelineEnv } from "../env.ts";

const log = createLogger("pipeline.pacing");

/** The limiter's key for the number or account a thread sends from; null: not paced. */
export function sendPaceKey(thread: Pick<Thread, "channel" | "accountExternalId">): string | null {
  if (thread.channel === "whatsapp") return `wa:${thread.accountExternalId}`;
  if (thread.channel === "instagram") return `ig:${thread.accountExternalId}`;
  return null;
}

/** Checks already under way for a thread's next send (paceAhead), by the turn's thread object. */
const ahead = new WeakMap<Thread, Promise<(SendResult & { ok: false }) | null>>();

/**
 * Starts the check for this thread's next send now, so that its round trip runs alongside
 * something slower (an AI turn's model call) instead of before the send. The place it takes is
 * used by the next `takePace` for the same thread object; one never used (no reply after all) only
 * counts one send too many against the number, erring on the safe side.
 */
export function paceAhead(env: Pick<PipelineEnv, "SEND_RATE_LIMIT">, thread: Thread): void {
  if (!sendPaceKey(thread) || ahead.has(thread)) return;
  ahead.set(thread, paceSend(env, thread));
}

/** The send's pace: the check paceAhead started for this thread, or a new one. */
export function takePace(
  env: Pick<PipelineEnv, "SEND_RATE_LIMIT">,
  thread: Thread,
): Promise<(SendResult & { ok: false }) | null> {
  const started = ahead.get(thread);
  if (!started) return paceSend(env, thread);
  ahead.delete(thread);
  return started;
}

/**
 * The limiter's answer for one send from this thread's number: null to go ahead, or the failure
 * to return instead of sending. A limiter that cannot answer lets the send go (Meta's own limit,
 * with its 130429, still stands behind it): pacing must never stop replies on its own.
 */
export async function paceSend(
  env: Pick<PipelineEnv, "SEND_RATE_LIMIT">,
  thread: Thread,
): Promise<(SendResult & { ok: false }) | null> {
  const key = sendPaceKey(thread);
  if (!key) return null;
  try {
    const { success } = await env.SEND_RATE_LIMIT.limit({ key });
    if (success) return null;
  } catch (err) {
    log.warn("pacing.limiter_unavailable", {
      tenant_id: thread.tenantId,
      account_id: thread.accountId,
      ...errorFields(err),
    });
    return null;
  }
  log.info("pacing.send_deferred", { tenant_id: thread.tenantId, account_id: thread.accountId });
  return {
    ok: false,
    retryable: true,
    throttled: true,
    status: 429,
    code: null,
    reason: "paced: this number is at its send rate; the reply waits its turn",
    // The counter's window is 10 s: a second or two on, jittered backoff spreads the retries.
    retryAfterSeconds: 1,
  };
}
