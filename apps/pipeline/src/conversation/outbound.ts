import {
  type InstagramTarget,
  type SendResult,
  type WhatsAppTarget,
  instagramSenderAction,
  markWhatsAppRead,
  sendInstagramText,
  sendWhatsAppText,
} from "@concierge/channels";
import { createLogger, errorFields } from "@concierge/core";
import type { Thread } from "@concierge/core";
import type { PipelineEnv } from "../env.ts";
import { getPageSender, markPageTokenDead } from "../channels/instagram/page-tokens.ts";
import { takePace } from "../pacing/send-pace.ts";
import { type EmailReplyContext, sendEmailReply } from "./email-turn.ts";

const log = createLogger("pipeline.outbound");

/** WhatsApp's customer-service window: free-form messages only this long after the customer's last. */
export const WHATSAPP_WINDOW_MS = 24 * 3600_000;

/**
 * How long after the customer's last message a free-form message may still go on this channel;
 * null where the channel has no such window (or its rule lives elsewhere).
 */
export function serviceWindowMs(channel: Thread["channel"]): number | null {
  return channel === "whatsapp" || channel === "instagram" ? WHATSAPP_WINDOW_MS : null;
}

/**
 * Instagram lets a person (never automation) answer up to 7 days after the customer's last
 * message, with the `HUMAN_AGENT` tag; WhatsApp has no such extension without a template.
 */
export const INSTAGRAM_HUMAN_AGENT_WINDOW_MS = 7 * 24 * 3600_000;

/** How long after the customer's last message a person's reply may still go; null: no limit. */
export function humanReplyWindowMs(channel: Thread["channel"]): number | null {
  return channel === "instagram" ? INSTAGRAM_HUMAN_AGENT_WINDOW_MS : serviceWindowMs(channel);
}

export function whatsappTarget(env: PipelineEnv, thread: Thread): WhatsAppTarget {
  return {
    baseUrl: env.META_GRAPH_BASE_URL,
    token: env.WHATSAPP_ACCESS_TOKEN,
    phoneNumberId: thread.accountExternalId,
  };
}

function instagramTarget(env: PipelineEnv, page: { pageId: string; token: string }): InstagramTarget {
  return { baseUrl: env.META_GRAPH_BASE_URL, pageId: page.pageId, pageToken: page.token };
}

/** Why an Instagram account cannot send: no live page token (never connected, or dead). */
const NO_PAGE_TOKEN: SendResult = {
  ok: false,
  retryable: false,
  status: 0,
  code: null,
  reason: "The Instagram account has no valid page token; reconnect it in the dashboard.",
  retryAfterSeconds: null,
};

/**
 * A text DM through the page's messages endpoint, with the account's own page token. Meta's 190
 * means the token is dead (expired, revoked, password changed): it is marked so, which the
 * dashboard and the refresh cron see, and no further send tries it until it is reconnected.
 */
export async function sendInstagram(
  env: PipelineEnv,
  thread: Thread,
  text: string,
  opts: { humanAgent?: boolean } = {},
): Promise<SendResult> {
  const page = await getPageSender(env, thread.tenantId, thread.accountId);
  if (!page) return NO_PAGE_TOKEN;
  const result = await sendInstagramText(instagramTarget(env, page), thread.customerId, text, opts);
  if (!result.ok && result.code === 190) {
    await markPageTokenDead(env, thread.accountId, "invalid_token");
    log.warn("outbound.page_token_dead", { tenant_id: thread.tenantId, account_id: thread.accountId });
  }
  return result;
}

async function markInstagramSeen(env: PipelineEnv, thread: Thread, typing: boolean) {
  const page = await getPageSender(env, thread.tenantId, thread.accountId);
  if (!page) return { ok: false as const, status: 0, code: null };
  const target = instagramTarget(env, page);
  // Instagram marks the whole thread seen, not one message; the typing bubble is a second call.
  const seen = await instagramSenderAction(target, thread.customerId, "mark_seen");
  if (!seen.ok || !typing) return seen;
  return instagramSenderAction(target, thread.customerId, "typing_on");
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
  if (thread.channel !== "whatsapp" && thread.channel !== "instagram") return;
  try {
    const r =
      thread.channel === "whatsapp"
        ? await markWhatsAppRead(whatsappTarget(env, thread), messageId, typing)
        : await markInstagramSeen(env, thread, typing);
    if (!r.ok) log.warn("outbound.mark_read_failed", { ...fields, typing, status: r.status, code: r.code });
  } catch (err) {
    log.warn("outbound.mark_read_failed", { ...fields, typing, ...errorFields(err) });
  }
}

/**
 * Sends a text to the thread's customer on its channel. One call, no retry and no record: the
 * caller decides both (exactly-once.ts). A WhatsApp or Instagram send first takes its place in
 * the number's pace (pacing/send-pace.ts); refused, it is not attempted and fails as throttled,
 * which the caller retries later like Meta's own rate limits.
 */
export async function send(
  env: PipelineEnv,
  thread: Thread,
  text: string,
  replyTo?: string,
  opts: { humanAgent?: boolean; email?: { context: EmailReplyContext | null; automatic: boolean } } = {},
): Promise<SendResult> {
  switch (thread.channel) {
    case "email":
      return sendEmailReply(env, thread, text, opts.email);
    case "whatsapp":
      return (
        (await takePace(env, thread)) ??
        sendWhatsAppText(whatsappTarget(env, thread), thread.customerId, text, replyTo)
      );
    case "instagram":
      return (await takePace(env, thread)) ?? sendInstagram(env, thread, text, opts);
    default:
      return {
        ok: false,
        retryable: false,
        status: 0,
        code: null,
        reason: `no sender for ${thread.channel} yet`,
        retryAfterSeconds: null,
      };
  }
}
