import { type WhatsAppTarget, markWhatsAppRead } from "@concierge/channels";
import { createLogger, errorFields } from "@concierge/core";
import type { Thread } from "./conversation.ts";
import type { PipelineEnv } from "./env.ts";

const log = createLogger("pipeline.outbound");

/** WhatsApp's customer-service window: free-form messages only this long after the customer's last. */
export const WHATSAPP_WINDOW_MS = 24 * 3600_000;

/**
 * How long after the customer's last message a free-form message may still go on this channel;
 * null where the channel has no such window (or its rule lives elsewhere).
 */
export function serviceWindowMs(channel: Thread["channel"]): number | null {
  return channel === "whatsapp" ? WHATSAPP_WINDOW_MS : null;
}

/**
 * A reply whose send failed with a retryable error, kept (sealed, in the conversation object)
 * for the next attempt: it is neither generated nor charged again, and its credit is restored
 * only if it is finally given up.
 */
export type KeptReply = {
  text: string;
  action: string;
  ruleId: string | null;
  creditRef: string | null;
  handoff: boolean;
  /** Retryable failures so far. */
  failures: number;
};

export function whatsappTarget(env: PipelineEnv, thread: Thread): WhatsAppTarget {
  return {
    baseUrl: env.META_GRAPH_BASE_URL,
    token: env.WHATSAPP_ACCESS_TOKEN,
    phoneNumberId: thread.accountExternalId,
  };
}

/**
 * Marks the customer's message read, with the typing indicator when a reply is being written.
 * A courtesy: it never throws, and its failure only shows in the logs.
 */
export async function markRead(
  env: PipelineEnv,
  thread: Thread,
  messageId: string,
  typing: boolean,
  fields: Record<string, string>,
): Promise<void> {
  if (thread.channel !== "whatsapp") return;
  try {
    const r = await markWhatsAppRead(whatsappTarget(env, thread), messageId, typing);
    if (!r.ok) log.warn("outbound.mark_read_failed", { ...fields, typing, status: r.status, code: r.code });
  } catch (err) {
    log.warn("outbound.mark_read_failed", { ...fields, typing, ...errorFields(err) });
  }
}
