import { sha256Hex } from "@concierge/crypto";
import { type ChatMessage, createAiProvider } from "@concierge/ai";
import { sendRetryDelayMs } from "@concierge/channels";
import { createLogger } from "@concierge/core";
import { type MessageMeta, getReplyConfig, recordMessages } from "@concierge/storage";
import { type HoursState, type OutsideHours, hoursAt, matchReply } from "@concierge/rules";
import { configCache } from "../config/config-cache.ts";
import type { PipelineEnv } from "../env.ts";
import { matchTurn } from "../replies/reply-rules.ts";
import { type AiPlan, INJECTION_FLAGGED, generateAiReply, warnOnLowBalance } from "./ai-turn.ts";
import {
  type EmailTurnState,
  autoReplyBlock,
  emailTurnState,
  pageForMail,
  relayEmails,
  replyContextOf,
} from "./email-turn.ts";
import {
  type Delivery,
  deliverOnce,
  earlierAttempt,
  holdOnce,
  keepForRetry,
  keptReply,
  refund,
} from "./exactly-once.ts";
import { tenantSettings } from "../tenants/notify.ts";
import { tenantSuspended } from "../tenants/suspension.ts";
import { pausedNow } from "./control.ts";
import { startHandoff } from "./handoff.ts";
import { replyWaitEnded } from "./reply-wait.ts";
import { humanReplyWindowMs, markRead, send, serviceWindowMs } from "./outbound.ts";
import type { SealedThread } from "./sealed.ts";
import type { ConversationStore } from "./store.ts";
import { customerContent, matchText } from "./turn-content.ts";
import type { HandoffPhase, HeldDraft, KeptReply, Turn } from "./types.ts";

const log = createLogger("pipeline.turn");

/** What the conversation object hands a turn besides the turn itself. */
export type TurnInput = {
  /** The thread's storage, its text sealed. */
  sealed: SealedThread;
  /** The history, opened on demand: only an AI reply reads it (a canned one only adds its entry). */
  history: () => Promise<ChatMessage[]>;
  handoff: HandoffPhase;
  /** 0 for the first try of this turn, then 1, 2, … for retries. */
  attempt: number;
  /** How many turns the history keeps. */
  historyTurns: number;
};

export type TurnOutcome =
  /** Over (answered, held, or nothing to say): what it did decides its inbox item. */
  | {
      kind: "done";
      handoffStarted: boolean;
      held: HeldDraft | null;
      /** The injection scan flagged the customer's text: no reply; a person is shown it (inbox.ts). */
      flagged?: true;
    }
  /** `slotWait`: waiting for an AI slot, not a failed attempt (ai-turn.ts). */
  | { kind: "retry"; afterMs: number | null; slotWait?: true };

const DONE: TurnOutcome = { kind: "done", handoffStarted: false, held: null };

type Plan =
  | { kind: "none"; action: string; ruleId: string | null }
  /** A retry of a reply that is already written: only the send is left. */
  | { kind: "kept"; reply: KeptReply; ruleId: string | null }
  /** A rule's own text; `handoff`: a hand-off rule's holding sentence (then silence, a page). */
  | { kind: "canned"; text: string; ruleId: string | null; handoff: boolean; action?: "away_reply" }
  | ({ kind: "ai"; ruleId: string | null } & AiPlan);

/**
 * Runs one turn, top to bottom: plan what answer it gets → produce it (the rule's text, or the
 * AI's) → deliver it at most once → record what happened (metadata in D1, the history here).
 * The exactly-once rules that make a retry safe are in exactly-once.ts: a turn whose reply may
 * already have reached the provider is never sent (or generated, or charged) again, and metadata
 * is written once, when the outcome is known.
 */
export async function runTurn(env: PipelineEnv, whole: Turn, input: TurnInput): Promise<TurnOutcome> {
  const email = whole.thread.channel === "email" ? emailTurnState(input.sealed.store) : undefined;
  let turn = whole;
  // The turn's row is staged by `beginTurn` (store.ts) and must be written before the turn's
  // first effect outside this object: a relay here, a D1 row, a debit. Only a canned reply's turn
  // (below) leaves it to its outbox mark, which writes both in one row.
  const { store } = input.sealed;
  if (email) {
    store.commitTurn();
    // Mail routed to the Discord inbox is relayed, not answered; the rest goes to the reply rules.
    const relayed = await relayEmails(env, turn, email);
    if (relayed.kind === "retry") return { kind: "retry", afterMs: null };
    // Kept for the live inbox (never for the AI), so it reaches a person there, even when the
    // tenant has no Discord inbox (`relay_no_inbox`).
    if (relayed.relayed.length > 0) {
      await input.sealed.keepForPerson(relayed.relayed.map((m) => ({ text: m.text, at: m.sentAt })));
    }
    // Only there: the tenant is told it waits (once per conversation).
    if (relayed.noInbox > 0) pageForMail(input.sealed.store, turn.conversationId);
    if (relayed.messages.length === 0) return DONE;
    turn = { ...turn, messages: relayed.messages };
  }

  // Suspended by the platform team: no reply of any kind this turn (rules, AI, holding voice,
  // email auto-reply); the messages are recorded and remembered, so nothing is lost. Checked once
  // per turn, after mail routed to the tenant's own inbox went there.
  if (await tenantSuspended(env, turn.thread.tenantId)) return suspendedTurn(env, turn, input, email);

  // 1. Plan: the reply an earlier attempt kept, or what the rules (or the handoff) call for.
  const kept = await keptReply(input.sealed, turn);
  const p: Plan = kept
    ? { kind: "kept", reply: kept, ruleId: kept.ruleId }
    : await plan(
        env,
        turn,
        {
          handoff: input.handoff,
          paused: pausedNow(input.sealed.store),
          store: input.sealed.store,
          windowClosed: automaticWindowClosed(input.sealed.store, turn),
        },
        email,
      );
  const run = turnRun(env, turn, input, p.ruleId, email);
  const earlier = earlierAttempt(input.sealed.store, turn.id);
  // Everything but a first try at a canned reply writes the turn's row now, before its first D1
  // row, debit or draft; that one's outbox mark writes it, just before the send (deliverOnce).
  // Until that mark it only sends the read receipt, which a retry may send again.
  if (p.kind !== "canned" || earlier !== "none") store.commitTurn();
  if (p.kind === "none") {
    await run.noReply(p.action);
    log.info("turn.no_reply", { ...run.fields, action: p.action });
    return DONE;
  }
  // A hand-off rule pages the tenant and silences the bot whatever became of its sentence.
  const byRule = (p.kind === "canned" && p.handoff) || (p.kind === "kept" && p.reply.handoff === "rule");
  // A previous attempt already held this turn's draft for approval: nothing more to do.
  if (earlier === "held") return DONE;
  if (earlier === "sent" || earlier === "maybe_sent") {
    // "maybe_sent": a previous attempt died between sending and recording, so the reply may be
    // out. Never risk a second copy to the customer; say so in the logs instead.
    if (earlier === "maybe_sent") log.warn("turn.send_outcome_unknown", run.fields);
    // The reply is (or may be) out: the customer's wait is over, unmeasured.
    replyWaitEnded(input.sealed.store);
    await recordMessages(env.DB, run.inbound("reply_outcome_unknown"));
    return byRule ? ruleHandoff(input.sealed.store, turn) : DONE;
  }
  // A reply kept for a retry whose window closed meanwhile (a long throttle, Meta down for hours)
  // is not sent: Meta would take it and report it failed later. Its credit goes back.
  if (p.kind === "kept" && automaticWindowClosed(input.sealed.store, turn)) {
    await refund(env, turn.thread.tenantId, p.reply.creditRef);
    await run.noReply("outside_window");
    log.info("turn.no_reply", { ...run.fields, action: "outside_window" });
    return byRule ? ruleHandoff(input.sealed.store, turn) : DONE;
  }

  // 2. Produce: the kept reply, the rule's canned text, or the AI's (charged, maybe held).
  const produced = await produce(run, p);
  if (produced.kind === "over") return produced.outcome;
  const { reply } = produced;

  // 3. Deliver, at most once.
  const { thread } = turn;
  const delivery = await deliverOnce(
    input.sealed.store,
    turn.id,
    () =>
      send(env, thread, reply.text, run.last.providerMessageId, {
        email: { context: replyContextOf(run.last), automatic: true },
      }),
    { markSent: false },
  );
  await produced.receipt;

  // 4. Record.
  return record(run, reply, delivery);
}

/**
 * A turn of a suspended tenant. A reply an earlier attempt kept for a retry is not sent, and its
 * credit goes back; a turn whose reply may already be out is left as it was.
 */
async function suspendedTurn(
  env: PipelineEnv,
  turn: Turn,
  input: TurnInput,
  email: EmailTurnState | undefined,
): Promise<TurnOutcome> {
  input.sealed.store.commitTurn();
  const earlier = earlierAttempt(input.sealed.store, turn.id);
  const run = turnRun(env, turn, input, null, email);
  if (earlier === "held") return DONE;
  if (earlier === "sent" || earlier === "maybe_sent") {
    replyWaitEnded(input.sealed.store);
    await recordMessages(env.DB, run.inbound("reply_outcome_unknown"));
    return DONE;
  }
  const kept = await keptReply(input.sealed, turn);
  if (kept) await refund(env, turn.thread.tenantId, kept.creditRef);
  await run.noReply("tenant_suspended");
  log.info("turn.no_reply", { ...run.fields, action: "tenant_suspended" });
  return DONE;
}

/** One turn as it runs: what every stage uses. */
type TurnRun = ReturnType<typeof turnRun>;

function turnRun(
  env: PipelineEnv,
  turn: Turn,
  input: TurnInput,
  ruleId: string | null,
  email: EmailTurnState | undefined,
) {
  const { thread } = turn;
  const customerText = customerContent(turn.messages);
  const meta = (direction: "inbound" | "outbound", action: string, providerMessageId: string, at: number) =>
    ({
      tenantId: thread.tenantId,
      accountId: thread.accountId,
      channel: thread.channel,
      conversationId: turn.conversationId,
      ruleId,
      direction,
      providerMessageId,
      senderId: direction === "inbound" ? thread.customerId : thread.accountExternalId,
      recipientId: direction === "inbound" ? thread.accountExternalId : thread.customerId,
      action,
      at,
    }) satisfies MessageMeta;
  /** The metadata rows (never text) of the customer's messages. */
  const inbound = (action: string) =>
    turn.messages.map((m) => ({
      ...meta("inbound", action, m.providerMessageId, m.sentAt),
      kind: m.kind,
      hasAttachment: m.hasAttachment,
    }));
  return {
    env,
    turn,
    input,
    email,
    customerText,
    last: turn.messages[turn.messages.length - 1]!,
    fields: { tenant_id: thread.tenantId, account_id: thread.accountId, turn_id: turn.id },
    inbound,
    /** The metadata row of the reply. */
    outbound: (action: string, providerMessageId: string) =>
      meta("outbound", action, providerMessageId, Date.now()),
    /** Adds to the history the AI sees. */
    remember: (messages: ChatMessage[]) => input.sealed.rememberTurn(turn.id, messages, input.historyTurns),
    /** No reply this turn: the customer's messages are recorded, and remembered. */
    noReply: async (action: string) => {
      await recordMessages(env.DB, inbound(action));
      await input.sealed.rememberTurn(turn.id, [{ role: "user", content: customerText }], input.historyTurns);
    },
  };
}

type Produced =
  /** A reply to deliver; `receipt` is the read receipt still on its way. */
  | { kind: "reply"; reply: KeptReply; receipt: Promise<void> }
  /** Nothing to deliver: the turn is over, or to be retried. */
  | { kind: "over"; outcome: TurnOutcome };

async function produce(run: TurnRun, p: Exclude<Plan, { kind: "none" }>): Promise<Produced> {
  const { env, turn, input, last, fields } = run;
  const { thread } = turn;
  // Read receipts are a courtesy (markRead never throws); only the first attempt sends one.
  if (p.kind === "kept") return { kind: "reply", reply: p.reply, receipt: Promise.resolve() };
  if (p.kind === "canned") {
    return {
      kind: "reply",
      reply: {
        text: p.text,
        action: p.handoff ? "handoff" : (p.action ?? "canned_reply"),
        ruleId: p.ruleId,
        creditRef: null,
        handoff: p.handoff ? "rule" : false,
        failures: 0,
      },
      // Read without the typing indicator: the answer is instant. Goes alongside the send.
      receipt: markRead(env, thread, last.providerMessageId, false, fields),
    };
  }
  // The typing indicator only once a credit is taken (a reply is coming), and not for a draft
  // that will wait for a person's approval anyway.
  let receipt: Promise<void> = Promise.resolve();
  const ai = await generateAiReply(env, turn, input.history, p, input.attempt, () => {
    receipt = markRead(env, thread, last.providerMessageId, p.approval !== "always", fields);
  });
  // Before the send: an indicator arriving after the reply would show "typing…" for 25 s.
  await receipt;
  if (ai.kind === "retry") {
    return {
      kind: "over",
      outcome: { kind: "retry", afterMs: null, ...(ai.slotWait ? { slotWait: true } : {}) },
    };
  }
  if (ai.kind === "none") {
    await run.noReply(ai.action);
    return {
      kind: "over",
      outcome:
        ai.action === INJECTION_FLAGGED
          ? { kind: "done", handoffStarted: false, held: null, flagged: true }
          : DONE,
    };
  }
  if (ai.hold) {
    const held: HeldDraft = {
      approvalId: `apr_${turn.id.replace(/\W/g, "")}_${await shortHash(thread.key)}`,
      text: ai.text,
      reasons: ai.hold,
    };
    await holdOnce(env, input.sealed, turn, {
      ...held,
      replyTo: last.providerMessageId,
      ruleId: p.ruleId,
      creditRef: ai.creditRef,
      sendableUntil: sendableUntil(input.sealed.store, thread.channel),
    });
    if (ai.handoff) startHandoff(input.sealed.store, turn);
    await recordMessages(env.DB, run.inbound("held_for_approval"));
    await warnOnLowBalance(env, thread.tenantId, ai.balance);
    await run.remember([{ role: "user", content: run.customerText }]);
    log.info("turn.held_for_approval", {
      ...fields,
      approval_id: held.approvalId,
      reasons: held.reasons.join(","),
    });
    return { kind: "over", outcome: { kind: "done", handoffStarted: ai.handoff, held } };
  }
  const reply: KeptReply = {
    text: ai.text,
    action: p.holding ? "holding_reply" : ai.handoff ? "ai_handoff" : "ai_reply",
    ruleId: p.ruleId,
    creditRef: ai.creditRef,
    handoff: ai.handoff,
    failures: 0,
    balance: ai.balance,
  };
  return { kind: "reply", reply, receipt: Promise.resolve() };
}

/** What the delivery of the turn's reply leaves: metadata, history, a retry, a refund. */
async function record(run: TurnRun, reply: KeptReply, delivery: Delivery): Promise<TurnOutcome> {
  const { env, turn, fields, last } = run;
  const { thread } = turn;
  const { text, action, creditRef, handoff } = reply;
  // A hand-off rule pages the tenant even when its sentence may not have reached the customer:
  // the customer asked for a person either way.
  const byRule = handoff === "rule";
  if (delivery.kind === "already" || delivery.kind === "unknown") {
    // The provider may have delivered it: never send again, keep the credit, say so in the logs.
    log.warn("turn.send_outcome_unknown", {
      ...fields,
      action,
      ...(delivery.kind === "unknown" ? { reason: delivery.reason } : {}),
    });
    // It may have reached them: the wait is over, unmeasured (the next reply is not its end).
    // Before the write, so a retry after a failed write finds it over too.
    replyWaitEnded(run.input.sealed.store);
    await recordMessages(env.DB, run.inbound("reply_outcome_unknown"));
    return byRule ? ruleHandoff(run.input.sealed.store, turn) : DONE;
  }
  if (delivery.kind === "failed") {
    const { failure } = delivery;
    const failures = reply.failures + 1;
    // Retryable errors wait with backoff (never sooner than Retry-After) until the attempts run
    // out, throttling (our pacing, Meta's rate limits) for as long as the turn may; permanent
    // ones, and a closed 24-hour window, are never repeated.
    const retryIn = failure.retryable
      ? sendRetryDelayMs(failures, failure.retryAfterSeconds, Math.random, failure.throttled)
      : null;
    log.warn("turn.send_failed", {
      ...fields,
      action,
      status: failure.status,
      code: failure.code,
      reason: failure.reason,
      retryable: failure.retryable,
      attempt: failures,
      retry_in_ms: retryIn,
    });
    if (retryIn !== null) {
      await keepForRetry(run.input.sealed, turn, { ...reply, failures });
      return { kind: "retry", afterMs: retryIn };
    }
    await refund(env, thread.tenantId, creditRef);
    // The tenant sees it: the channel's health reads the inbound rows, the code rides along.
    const errorCode = failure.code;
    await recordMessages(env.DB, [
      ...run.inbound("send_failed").map((r) => ({ ...r, errorCode })),
      { ...run.outbound("send_failed", `failed:${last.providerMessageId}`), errorCode },
    ]);
    return byRule ? ruleHandoff(run.input.sealed.store, turn) : DONE;
  }
  run.email?.markAutoReplied(Date.now());
  if (handoff) startHandoff(run.input.sealed.store, turn, byRule ? "rule" : "ai");
  await recordMessages(env.DB, [
    ...run.inbound(action),
    {
      ...run.outbound(action, delivery.providerMessageId),
      replyWaitMs: replyWaitEnded(run.input.sealed.store),
    },
  ]);
  await run.remember([
    { role: "user", content: run.customerText },
    { role: "assistant", content: text },
  ]);
  log.info("turn.replied", { ...fields, action });
  // After the reply is out, so the check never delays it.
  if (creditRef) await warnOnLowBalance(env, thread.tenantId, reply.balance);
  return { kind: "done", handoffStarted: handoff !== false, held: null };
}

/** What the turn calls for: no reply (and why), a canned reply, or an AI reply. */
async function plan(
  env: PipelineEnv,
  turn: Turn,
  {
    handoff,
    paused,
    windowClosed,
    store,
  }: { handoff: HandoffPhase; paused: boolean; windowClosed: boolean; store: ConversationStore },
  email?: EmailTurnState,
): Promise<Plan> {
  if (email) {
    const blocked = autoReplyBlock(turn.messages, email);
    if (blocked) return { kind: "none", action: blocked, ruleId: null };
  }
  // A person paused the bot for this customer (the inbox, control.ts): nothing automatic answers
  // until the pause ends, not even the holding voice; the messages wait in the inbox.
  if (paused) return { kind: "none", action: "paused", ruleId: null };
  // During a handoff no rule talks over the human: first the holding voice, then silence.
  if (handoff === "silent") return { kind: "none", action: "handoff_silent", ruleId: null };
  // Nothing we could read (a poll, an edit, a type Meta does not pass on): no rule can answer it
  // sensibly, so it waits for a person, who sees it in the conversation's metadata.
  if (turn.messages.every((m) => m.kind === "unsupported"))
    return { kind: "none", action: "unsupported", ruleId: null };
  // Meta redelivers a webhook for days: a message that arrives after the channel's window closed
  // can get no automatic reply (WhatsApp would refuse it, 131047), so none is attempted, no
  // credit is taken, and the metadata says why. A person may still answer where the channel lets one.
  if (windowClosed) return { kind: "none", action: "outside_window", ruleId: null };
  if (handoff === "holding")
    return { kind: "ai", ruleId: null, rulePrompt: null, holding: true, approval: "auto" };
  const accountId = turn.thread.accountId;
  const stored = await configCache(env).replyConfigs.get(accountId, () => getReplyConfig(env.DB, accountId));
  if (!stored) return { kind: "none", action: "no_config", ruleId: null };
  if (!stored.config.enabled) return { kind: "none", action: "auto_reply_off", ruleId: null };
  const outside = await outsideHours(env, turn, stored.config.outside_hours ?? { mode: "rules" }, store);
  if (outside) return outside;
  const text = matchText(turn.messages);
  // A file without a caption has no words to match: the default rule answers it.
  const match = text ? await matchTurn(createAiProvider(env), stored, text) : matchReply(stored.config, "");
  const { response } = match.rule;
  // A hand-off rule answers with its own sentence, like a canned one: no credit, no persona.
  if (response.kind !== "prompt") {
    return {
      kind: "canned",
      text: response.text,
      ruleId: match.rule.id,
      handoff: response.kind === "handoff",
    };
  }
  return {
    kind: "ai",
    ruleId: match.rule.id,
    rulePrompt: response.text,
    holding: false,
    approval: match.rule.approval,
  };
}

/**
 * Outside the tenant's business hours (packages/rules hours.ts), in the tenant's time zone at the
 * customer's newest message: null when the rules answer (open, no hours, or the channel chose the
 * rules), else silence, or the channel's away reply once per conversation per closed period (the
 * period's name is kept in the thread: a second message in the same night gets nothing).
 */
async function outsideHours(
  env: PipelineEnv,
  turn: Turn,
  mode: OutsideHours,
  store: ConversationStore,
): Promise<Plan | null> {
  if (mode.mode === "rules") return null;
  const settings = await tenantSettings(env, turn.thread.tenantId);
  if (!settings?.businessHours) return null;
  const now = Date.now();
  const at = Math.min(turn.messages[turn.messages.length - 1]!.sentAt, now);
  let state: HoursState;
  try {
    state = hoursAt(settings.businessHours, settings.timeZone, at);
  } catch {
    // An unknown zone (the settings refuse one): treated as open rather than never answering.
    return null;
  }
  if (state.open) return null;
  // Once per conversation per closed period: a new conversation (after the idle gap) in the same
  // night may get it again, a second message of the same conversation does not.
  const sentFor = `${turn.conversationId}|${state.period}`;
  if (mode.mode === "silence" || store.get("away_sent_for") === sentFor) {
    return { kind: "none", action: "outside_hours", ruleId: null };
  }
  // Marked before the send: a failed send is not retried into a second away reply later.
  store.set("away_sent_for", sentFor);
  return { kind: "canned", text: mode.text, ruleId: null, handoff: false, action: "away_reply" };
}

/**
 * Until when a held draft could still be approved and sent, as a person's reply: the customer's
 * newest message plus the channel's window for people (null: the channel has none).
 */
function sendableUntil(store: ConversationStore, channel: Turn["thread"]["channel"]): number | null {
  const windowMs = humanReplyWindowMs(channel);
  const lastInbound = store.lastInboundAt();
  return windowMs === null || lastInbound === null ? null : lastInbound + windowMs;
}

/** A hand-off rule's turn is over: the tenant is paged and the bot is silent, whatever was sent. */
function ruleHandoff(store: ConversationStore, turn: Turn): TurnOutcome {
  startHandoff(store, turn, "rule");
  return { kind: "done", handoffStarted: true, held: null };
}

/**
 * Whether the channel's window for automatic replies (24 hours on WhatsApp and Instagram) has
 * closed: counted from the customer's newest message by its own time, never from when it arrived.
 */
function automaticWindowClosed(store: ConversationStore, turn: Turn, now = Date.now()): boolean {
  const windowMs = serviceWindowMs(turn.thread.channel);
  if (windowMs === null) return false;
  // Each message's own time, a future one (a skewed clock) counted as its arrival (store
  // `lastInboundAt`: never null in a turn, whose messages are buffered or taken by `beginTurn`;
  // the turn's own messages only satisfy the type).
  const newest = store.lastInboundAt() ?? Math.max(...turn.messages.map((m) => Math.min(m.sentAt, now)));
  return now - newest > windowMs;
}

async function shortHash(s: string): Promise<string> {
  return (await sha256Hex(s)).slice(0, 16);
}
