import { sendWhatsAppText, type SendResult } from "@concierge/channels";
import { type MessageKind, createLogger } from "@concierge/core";
import { type Match, matchReply } from "@concierge/rules";
import { type MessageMeta, getReplyConfig, recordMessages } from "@concierge/storage";
import type { Thread } from "./conversation.ts";
import { configCache } from "./config-cache.ts";
import type { PipelineEnv } from "./env.ts";

const log = createLogger("pipeline.turn");

export type TurnMessage = {
  providerMessageId: string;
  text: string;
  customerName: string | null;
  sentAt: number;
  kind: MessageKind;
  hasAttachment: boolean;
};

/** A burst of buffered messages from one customer, answered once. Lives only in memory. */
export type Turn = { id: string; thread: Thread; conversationId: string; messages: TurnMessage[] };

export type Outbox = {
  outboxStatus(): string | null;
  markSending(): void;
  markSent(providerMessageId: string): void;
  markFailed(): void;
};

export type TurnOutcome = { kind: "done" } | { kind: "retry"; afterMs: number | null };

type Decision = { action: string; match: Match | null; reply: string | null };

async function decide(env: PipelineEnv, turn: Turn): Promise<Decision> {
  const accountId = turn.thread.accountId;
  const config = await configCache(env).replyConfigs.get(accountId, () => getReplyConfig(env.DB, accountId));
  if (!config) return { action: "no_config", match: null, reply: null };
  if (!config.enabled) return { action: "auto_reply_off", match: null, reply: null };
  const match = matchReply(config, turn.messages.map((m) => m.text).join("\n"));
  const response = match.rule.response;
  if (response.kind === "canned") return { action: "canned_reply", match, reply: response.text };
  // AI replies arrive with the AI pipeline; until then an AI rule answers nothing rather than wrongly.
  return { action: "ai_unavailable", match, reply: null };
}

async function send(env: PipelineEnv, thread: Thread, text: string, replyTo: string): Promise<SendResult> {
  switch (thread.channel) {
    case "whatsapp":
      return sendWhatsAppText(
        {
          baseUrl: env.META_GRAPH_BASE_URL,
          token: env.WHATSAPP_ACCESS_TOKEN,
          phoneNumberId: thread.accountExternalId,
        },
        thread.customerId,
        text,
        replyTo,
      );
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

/**
 * Runs one turn: decide, send at most once, record metadata. The outbox state makes a retry safe:
 * a turn whose send may already have reached the provider is never sent again. Metadata is written
 * once per turn, in one batch, when the outcome is known (rows are idempotent by provider id).
 */
export async function runTurn(env: PipelineEnv, turn: Turn, outbox: Outbox): Promise<TurnOutcome> {
  const { thread } = turn;
  const decision = await decide(env, turn);
  const base = {
    tenantId: thread.tenantId,
    accountId: thread.accountId,
    channel: thread.channel,
    conversationId: turn.conversationId,
    ruleId: decision.match?.rule.id ?? null,
  };
  const inbound = (action: string): MessageMeta[] =>
    turn.messages.map((m) => ({
      ...base,
      direction: "inbound",
      providerMessageId: m.providerMessageId,
      senderId: thread.customerId,
      recipientId: thread.accountExternalId,
      action,
      at: m.sentAt,
    }));

  const fields = {
    tenant_id: thread.tenantId,
    account_id: thread.accountId,
    turn_id: turn.id,
    action: decision.action,
  };
  if (decision.reply === null) {
    await recordMessages(env.DB, inbound(decision.action));
    log.info("turn.no_reply", fields);
    return { kind: "done" };
  }
  const status = outbox.outboxStatus();
  if (status === "sent" || status === "sending") {
    // "sending" means a previous attempt died between sending and recording: the reply may be out.
    // Never risk a second copy to the customer; say so in the logs instead.
    if (status === "sending") log.warn("turn.send_outcome_unknown", fields);
    await recordMessages(env.DB, inbound(decision.action));
    return { kind: "done" };
  }
  outbox.markSending();
  const last = turn.messages[turn.messages.length - 1]!;
  const result = await send(env, thread, decision.reply, last.providerMessageId);
  if (!result.ok) {
    log.warn("turn.send_failed", {
      ...fields,
      status: result.status,
      code: result.code,
      reason: result.reason,
      retryable: result.retryable,
    });
    if (result.retryable) {
      outbox.markFailed();
      return { kind: "retry", afterMs: result.retryAfterSeconds ? result.retryAfterSeconds * 1000 : null };
    }
    await recordMessages(env.DB, inbound("send_failed"));
    return { kind: "done" };
  }
  outbox.markSent(result.providerMessageId);
  await recordMessages(env.DB, [
    ...inbound(decision.action),
    {
      ...base,
      direction: "outbound",
      providerMessageId: result.providerMessageId,
      senderId: thread.accountExternalId,
      recipientId: thread.customerId,
      action: decision.action,
      at: Date.now(),
    },
  ]);
  log.info("turn.replied", fields);
  return { kind: "done" };
}
