import { type ChatMessage, createAiProvider } from "@concierge/ai";
import { type SendResult, sendRetryDelayMs, sendWhatsAppText } from "@concierge/channels";
import { type InboundEmail, type MessageKind, createLogger } from "@concierge/core";
import {
  type MessageMeta,
  createApproval,
  getReplyConfig,
  recordMessages,
  restoreCredit,
} from "@concierge/storage";
import { type AiPlan, generateAiReply, warnOnLowBalance } from "./ai-turn.ts";
import { configCache } from "./config-cache.ts";
import type { Thread } from "./conversation.ts";
import type { PipelineEnv } from "./env.ts";
import { matchTurn } from "./reply-rules.ts";
import { type KeptReply, markRead, sendInstagram, whatsappTarget } from "./outbound.ts";
import { matchReply } from "@concierge/rules";
import { customerContent, matchText } from "./turn-content.ts";
import {
  type EmailReplyContext,
  type EmailTurnState,
  autoReplyBlock,
  relayEmails,
  replyContextOf,
  sendEmailReply,
} from "./email-turn.ts";

const log = createLogger("pipeline.turn");

export type TurnMessage = {
  providerMessageId: string;
  text: string;
  customerName: string | null;
  sentAt: number;
  kind: MessageKind;
  hasAttachment: boolean;
  /** The provider's media type (image, sticker, …) when a file came with it. */
  attachmentType: string | null;
  /** Email only: the subject (sealed like the text) and the ingress's routing and threading ids. */
  subject?: string | null;
  email?: InboundEmail | null;
};

/** A burst of buffered messages from one customer, answered once. Lives only in memory. */
export type Turn = { id: string; thread: Thread; conversationId: string; messages: TurnMessage[] };

export type HandoffPhase = "none" | "holding" | "silent";

/** What the conversation object lends a turn: its state, and the effects it may record. */
export type TurnContext = {
  history: ChatMessage[];
  handoff: HandoffPhase;
  /** 0 for the first try of this turn, then 1, 2, … for retries. */
  attempt: number;
  outboxStatus(): string | null;
  markSending(): void;
  markSent(providerMessageId: string): void;
  markFailed(): void;
  /** The AI asked for a person: start the holding pattern (and page the tenant, once). */
  startHandoff(): void;
  /** Keeps a draft (encrypted) until a person approves, edits or rejects it; `reasons`: why held. */
  holdDraft(approvalId: string, text: string, replyTo: string, reasons?: string[]): Promise<void>;
  dropDraft(approvalId: string): Promise<void>;
  markHeld(): void;
  remember(messages: ChatMessage[]): Promise<void>;
  /** The reply an earlier attempt of this turn could not send yet (retryable failure). */
  keptReply(): Promise<KeptReply | null>;
  /** Keeps the reply, sealed, for the next attempt; the turn's end forgets it. */
  keepReply(reply: KeptReply): Promise<void>;
  /** Email threads only: relays done, and when the last automatic reply went. */
  email?: EmailTurnState;
};

export type TurnOutcome = { kind: "done" } | { kind: "retry"; afterMs: number | null };

type Plan =
  | { kind: "none"; action: string; ruleId: string | null }
  /** A retry of a reply that is already written: only the send is left. */
  | { kind: "kept"; reply: KeptReply; ruleId: string | null }
  | { kind: "canned"; text: string; ruleId: string }
  | ({ kind: "ai"; ruleId: string | null } & AiPlan);

async function plan(
  env: PipelineEnv,
  turn: Turn,
  handoff: HandoffPhase,
  email?: EmailTurnState,
): Promise<Plan> {
  if (email) {
    const blocked = autoReplyBlock(turn.messages, email);
    if (blocked) return { kind: "none", action: blocked, ruleId: null };
  }
  // During a handoff no rule talks over the human: first the holding voice, then silence.
  if (handoff === "silent") return { kind: "none", action: "handoff_silent", ruleId: null };
  // Nothing we could read (a poll, an edit, a type Meta does not pass on): no rule can answer it
  // sensibly, so it waits for a person, who sees it in the conversation's metadata.
  if (turn.messages.every((m) => m.kind === "unsupported"))
    return { kind: "none", action: "unsupported", ruleId: null };
  if (handoff === "holding")
    return { kind: "ai", ruleId: null, rulePrompt: null, holding: true, approval: "auto" };
  const accountId = turn.thread.accountId;
  const stored = await configCache(env).replyConfigs.get(accountId, () => getReplyConfig(env.DB, accountId));
  if (!stored) return { kind: "none", action: "no_config", ruleId: null };
  if (!stored.config.enabled) return { kind: "none", action: "auto_reply_off", ruleId: null };
  const text = matchText(turn.messages);
  // A file without a caption has no words to match: the default rule answers it.
  const match = text ? await matchTurn(createAiProvider(env), stored, text) : matchReply(stored.config, "");
  const { response } = match.rule;
  if (response.kind === "canned") return { kind: "canned", text: response.text, ruleId: match.rule.id };
  return {
    kind: "ai",
    ruleId: match.rule.id,
    rulePrompt: response.text,
    holding: false,
    approval: match.rule.approval,
  };
}

async function shortHash(s: string): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(s)));
  return [...d.slice(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

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
      return sendWhatsAppText(whatsappTarget(env, thread), thread.customerId, text, replyTo);
    case "instagram":
      return sendInstagram(env, thread, text, opts);
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
 * Runs one turn: plan, produce the reply (canned, or AI), send it at most once, record metadata.
 * The outbox makes a retry safe: a turn whose send may already have reached the provider is never
 * sent (or generated, or charged) again. Metadata is written once, when the outcome is known.
 */
export async function runTurn(env: PipelineEnv, whole: Turn, ctx: TurnContext): Promise<TurnOutcome> {
  let turn = whole;
  if (ctx.email) {
    // Mail routed to the Discord inbox is relayed, not answered; the rest goes to the reply rules.
    const relayed = await relayEmails(env, turn, ctx.email);
    if (relayed.kind === "retry") return { kind: "retry", afterMs: null };
    if (relayed.messages.length === 0) return { kind: "done" };
    turn = { ...turn, messages: relayed.messages };
  }
  const { thread } = turn;
  const kept = await ctx.keptReply();
  const p: Plan = kept
    ? { kind: "kept", reply: kept, ruleId: kept.ruleId }
    : await plan(env, turn, ctx.handoff, ctx.email);
  const meta = (direction: "inbound" | "outbound", action: string, providerMessageId: string, at: number) =>
    ({
      tenantId: thread.tenantId,
      accountId: thread.accountId,
      channel: thread.channel,
      conversationId: turn.conversationId,
      ruleId: p.ruleId,
      direction,
      providerMessageId,
      senderId: direction === "inbound" ? thread.customerId : thread.accountExternalId,
      recipientId: direction === "inbound" ? thread.accountExternalId : thread.customerId,
      action,
      at,
    }) satisfies MessageMeta;
  const inbound = (action: string) =>
    turn.messages.map((m) => ({
      ...meta("inbound", action, m.providerMessageId, m.sentAt),
      kind: m.kind,
      hasAttachment: m.hasAttachment,
    }));
  const fields = { tenant_id: thread.tenantId, account_id: thread.accountId, turn_id: turn.id };
  const customerText = customerContent(turn.messages);

  if (p.kind === "none") {
    await recordMessages(env.DB, inbound(p.action));
    await ctx.remember([{ role: "user", content: customerText }]);
    log.info("turn.no_reply", { ...fields, action: p.action });
    return { kind: "done" };
  }
  const status = ctx.outboxStatus();
  if (status === "held") {
    // A previous attempt already held this turn's draft for approval: nothing more to do.
    return { kind: "done" };
  }
  if (status === "sent" || status === "sending") {
    // "sending": a previous attempt died between sending and recording, so the reply may be out.
    // Never risk a second copy to the customer; say so in the logs instead.
    if (status === "sending") log.warn("turn.send_outcome_unknown", fields);
    await recordMessages(env.DB, inbound("reply_outcome_unknown"));
    return { kind: "done" };
  }

  const last = turn.messages[turn.messages.length - 1]!;
  // Read receipts are a courtesy (markRead never throws); only the first attempt sends one.
  let receipt: Promise<void> = Promise.resolve();
  let reply: KeptReply;
  if (p.kind === "kept") {
    reply = p.reply;
  } else if (p.kind === "canned") {
    reply = {
      text: p.text,
      action: "canned_reply",
      ruleId: p.ruleId,
      creditRef: null,
      handoff: false,
      failures: 0,
    };
    // Read without the typing indicator: the answer is instant. Goes alongside the send.
    receipt = markRead(env, thread, last.providerMessageId, false, fields);
  } else {
    // The typing indicator only once a credit is taken (a reply is coming), and not for a draft
    // that will wait for a person's approval anyway.
    const ai = await generateAiReply(env, turn, ctx.history, p, ctx.attempt, () => {
      receipt = markRead(env, thread, last.providerMessageId, p.approval !== "always", fields);
    });
    // Before the send: an indicator arriving after the reply would show "typing…" for 25 s.
    await receipt;
    if (ai.kind === "retry") return { kind: "retry", afterMs: null };
    if (ai.kind === "none") {
      await recordMessages(env.DB, inbound(ai.action));
      await ctx.remember([{ role: "user", content: customerText }]);
      return { kind: "done" };
    }
    if (ai.hold) {
      const approvalId = `apr_${turn.id.replace(/\W/g, "")}_${await shortHash(thread.key)}`;
      try {
        await ctx.holdDraft(
          approvalId,
          ai.text,
          turn.messages[turn.messages.length - 1]!.providerMessageId,
          ai.hold,
        );
        await createApproval(env.DB, {
          id: approvalId,
          tenantId: thread.tenantId,
          accountId: thread.accountId,
          threadKey: thread.key,
          conversationId: turn.conversationId,
          ruleId: p.ruleId,
          creditRef: ai.creditRef,
          reasons: ai.hold,
        });
      } catch (err) {
        await ctx.dropDraft(approvalId);
        await restoreCredit(env.DB, thread.tenantId, ai.creditRef);
        throw err;
      }
      // From here a retry of this turn must not draft (or charge) again.
      ctx.markHeld();
      if (ai.handoff) ctx.startHandoff();
      await recordMessages(env.DB, inbound("held_for_approval"));
      await warnOnLowBalance(env, thread.tenantId);
      await ctx.remember([{ role: "user", content: customerText }]);
      log.info("turn.held_for_approval", { ...fields, approval_id: approvalId, reasons: ai.hold.join(",") });
      return { kind: "done" };
    }
    reply = {
      text: ai.text,
      action: p.holding ? "holding_reply" : ai.handoff ? "handoff" : "ai_reply",
      ruleId: p.ruleId,
      creditRef: ai.creditRef,
      handoff: ai.handoff,
      failures: 0,
    };
  }
  const { text, action, creditRef, handoff } = reply;

  ctx.markSending();
  const result = await send(env, thread, text, last.providerMessageId, {
    email: { context: replyContextOf(last), automatic: true },
  });
  await receipt;
  if (!result.ok && result.unknown) {
    // The provider may have delivered it: never send again, keep the credit, say so in the logs.
    log.warn("turn.send_outcome_unknown", { ...fields, action, reason: result.reason });
    await recordMessages(env.DB, inbound("reply_outcome_unknown"));
    return { kind: "done" };
  }
  if (!result.ok) {
    const failures = reply.failures + 1;
    // Retryable errors wait with backoff (never sooner than Retry-After) until the attempts run
    // out; permanent ones, and a closed 24-hour window, are never repeated.
    const retryIn = result.retryable ? sendRetryDelayMs(failures, result.retryAfterSeconds) : null;
    log.warn("turn.send_failed", {
      ...fields,
      action,
      status: result.status,
      code: result.code,
      reason: result.reason,
      retryable: result.retryable,
      attempt: failures,
      retry_in_ms: retryIn,
    });
    ctx.markFailed();
    if (retryIn !== null) {
      await ctx.keepReply({ ...reply, failures });
      return { kind: "retry", afterMs: retryIn };
    }
    if (creditRef) await restoreCredit(env.DB, thread.tenantId, creditRef);
    // The tenant sees it: the channel's health reads the inbound rows, the code rides along.
    const errorCode = result.code;
    await recordMessages(env.DB, [
      ...inbound("send_failed").map((r) => ({ ...r, errorCode })),
      { ...meta("outbound", "send_failed", `failed:${last.providerMessageId}`, Date.now()), errorCode },
    ]);
    return { kind: "done" };
  }
  ctx.markSent(result.providerMessageId);
  ctx.email?.markAutoReplied(Date.now());
  if (handoff) ctx.startHandoff();
  await recordMessages(env.DB, [
    ...inbound(action),
    meta("outbound", action, result.providerMessageId, Date.now()),
  ]);
  await ctx.remember([
    { role: "user", content: customerText },
    { role: "assistant", content: text },
  ]);
  log.info("turn.replied", { ...fields, action });
  // After the reply is out, so the check never delays it.
  if (creditRef) await warnOnLowBalance(env, thread.tenantId);
  return { kind: "done" };
}
