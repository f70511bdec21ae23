import {
  type Channel,
  type HumanReplyInput,
  type HumanReplyResult,
  type Thread,
  createLogger,
  errorBody,
} from "@concierge/core";
import { type MessageMeta, recordMessages } from "@concierge/storage";
import { mirrorState } from "./control.ts";
import { deliverOnce } from "./exactly-once.ts";
import { handToPerson } from "./handoff.ts";
import { replyWaitEnded } from "./reply-wait.ts";
import type { ConversationHost } from "./host.ts";
import { suspendedError, tenantSuspended } from "../tenants/suspension.ts";
import { humanReplyWindowMs, send, serviceWindowMs } from "./outbound.ts";
import { SealedThread } from "./sealed.ts";
import type { ConversationStore } from "./store.ts";
import { timing } from "./timing.ts";

/** What people do in a thread (the dashboard, the Discord inbox): decide drafts, reply themselves. */

const log = createLogger("pipeline.conversation");

const OUTSIDE_WINDOW = errorBody(
  "outside_window",
  "More than 24 hours have passed since the customer's last message, so WhatsApp no longer accepts a free-form reply; it allows only template messages now. The conversation reopens when the customer writes again.",
);

const INSTAGRAM_OUTSIDE_WINDOW = errorBody(
  "outside_window",
  "More than 7 days have passed since the customer's last message, so Instagram no longer accepts a reply, even from a person. The conversation reopens when the customer writes again.",
);

const outsideWindow = (channel: Channel) =>
  channel === "instagram" ? INSTAGRAM_OUTSIDE_WINDOW : OUTSIDE_WINDOW;

const DRAFT_GONE = { ok: false as const, retryable: false, reason: "The draft is no longer here." };

/** Why an approved draft did not go out; `outsideWindow`: the channel no longer accepts a reply. */
export type DraftSendResult =
  | { ok: true }
  | { ok: false; retryable: boolean; reason: string; outsideWindow?: true };

/**
 * Whether a person's message (a reply, an approved draft) may still go to this customer: WhatsApp
 * 24 hours after the customer's last message, Instagram 7 days (past 24 hours tagged as a human
 * agent's), email always. Counted from the newest message's own time, which a late redelivery
 * from Meta does not move forward.
 */
function personWindow(
  store: ConversationHost["store"],
  channel: Channel,
  now: number,
): { open: false } | { open: true; humanAgent: boolean } {
  // Threads from before the window was tracked fall back on their last turn.
  const lastInbound = store.lastInboundAt() ?? store.lastActivityAt() ?? 0;
  const windowMs = humanReplyWindowMs(channel);
  if (windowMs !== null && now - lastInbound > windowMs) return { open: false };
  const automaticMs = serviceWindowMs(channel);
  return {
    open: true,
    humanAgent: channel === "instagram" && automaticMs !== null && now - lastInbound > automaticMs,
  };
}

function sealedThread(host: ConversationHost): SealedThread | null {
  const thread = host.purged ? null : host.store.thread();
  return thread ? new SealedThread(host.env, host.store, thread) : null;
}

/** Adds a person's message to the history the AI sees. */
async function remember(host: ConversationHost, sealed: SealedThread, text: string): Promise<void> {
  const t = await timing(host.env, sealed.thread);
  await sealed.remember([{ role: "assistant", content: text }], t.historyTurns);
}

/** The held draft's text, for the person deciding (the dashboard or the Discord inbox). */
export async function readDraft(host: ConversationHost, approvalId: string): Promise<string | null> {
  const sealed = sealedThread(host);
  if (!sealed) return null;
  return (await sealed.draft(approvalId))?.text ?? null;
}

/** The metadata row of something a person sent (an approved draft, their own reply): never text. */
function outboundRow(
  store: ConversationStore,
  thread: Thread,
  r: { action: string; providerMessageId: string; errorCode: number | null; ruleId: string | null },
): MessageMeta {
  return {
    tenantId: thread.tenantId,
    accountId: thread.accountId,
    channel: thread.channel,
    conversationId: store.conversationId(),
    ruleId: r.ruleId,
    direction: "outbound",
    providerMessageId: r.providerMessageId,
    senderId: thread.accountExternalId,
    recipientId: thread.customerId,
    action: r.action,
    at: Date.now(),
    errorCode: r.errorCode,
  };
}

/**
 * Sends an approved draft (or the person's edit of it) to the customer, at most once: the
 * approval's D1 transition out of `pending` is the lock, and the outbox row of the approval stops
 * a second send even if the caller retries (kept a week once settled, `store.prune`).
 */
export async function sendDraft(
  host: ConversationHost,
  approvalId: string,
  editedText: string | null,
  ruleId: string | null = null,
): Promise<DraftSendResult> {
  if (host.purged) return DRAFT_GONE;
  const { env, store } = host;
  const sealed = sealedThread(host);
  const held = store.draft(approvalId);
  const outboxId = `approval:${approvalId}`;
  const earlier = store.outbox(outboxId)?.status;
  if (earlier === "sent" || earlier === "sending") {
    // Out (or maybe out) already: a wait it ended is over, a second call changes nothing else.
    replyWaitEnded(store);
    return { ok: true };
  }
  if (!sealed || !held) return DRAFT_GONE;
  const { thread } = sealed;
  // A person approved it, so it goes as a person's reply would: inside the channel's window, never
  // attempted after it (Meta would refuse it, 131047), and the approver is told why.
  const window = personWindow(store, thread.channel, Date.now());
  if (!window.open) {
    log.info("approval.outside_window", { tenant_id: thread.tenantId, approval_id: approvalId });
    return {
      ok: false,
      retryable: false,
      reason: outsideWindow(thread.channel).error.message,
      outsideWindow: true,
    };
  }
  const text = editedText ?? (await sealed.draft(approvalId))!.text;
  const delivery = await deliverOnce(store, outboxId, async () =>
    send(env, thread, text, held.replyTo, {
      humanAgent: window.humanAgent,
      email: { context: await sealed.emailContext(), automatic: false },
    }),
  );
  if (delivery.kind === "already") {
    replyWaitEnded(store);
    return { ok: true };
  }
  if (delivery.kind === "unknown") {
    // Possibly delivered: treat as sent (never twice), and say so in the logs.
    log.warn("approval.send_outcome_unknown", { tenant_id: thread.tenantId, approval_id: approvalId });
    store.deleteDraft(approvalId);
    // It may have reached them: the wait is over, unmeasured.
    replyWaitEnded(store);
    return { ok: true };
  }
  const meta = (action: string, providerMessageId: string, errorCode: number | null) =>
    outboundRow(store, thread, { action, providerMessageId, errorCode, ruleId });
  if (delivery.kind === "failed") {
    const { failure } = delivery;
    // Refused for good (the caller marks the approval failed): a failure in the insights. A
    // retryable one leaves the draft pending, to be sent or to expire.
    if (!failure.retryable) {
      await recordMessages(env.DB, [meta("send_failed", `failed:${outboxId}`, failure.code)]);
    }
    return {
      ok: false,
      retryable: failure.retryable,
      reason: failure.reason,
      ...(failure.outsideWindow ? { outsideWindow: true as const } : {}),
    };
  }
  store.deleteDraft(approvalId);
  await recordMessages(env.DB, [
    {
      ...meta(editedText === null ? "approved_reply" : "edited_reply", delivery.providerMessageId, null),
      replyWaitMs: replyWaitEnded(store),
    },
  ]);
  await remember(host, sealed, text);
  return { ok: true };
}

/**
 * A person's reply (dashboard, Discord inbox), sent at once if the channel's customer-service
 * window is open, at most once per `requestId`. During a handoff the holding voice stops: the
 * thread stays silent until the handoff is resolved, so no automatic reply talks over the person.
 */
export async function sendHumanReply(
  host: ConversationHost,
  input: HumanReplyInput,
): Promise<HumanReplyResult> {
  const sealed = sealedThread(host);
  if (!sealed) return OUTSIDE_WINDOW;
  const { env, store } = host;
  const { thread } = sealed;
  const now = Date.now();
  const fields = { tenant_id: thread.tenantId, account_id: thread.accountId, actor: input.actor };
  // Here, in the thread's object, so every way a person answers (dashboard, Discord inbox) is
  // refused alike while the platform team has the tenant suspended.
  if (await tenantSuspended(env, thread.tenantId)) {
    log.info("human_reply.tenant_suspended", fields);
    return suspendedError();
  }
  // The object forgot the thread meanwhile (idle past the tenant's retention, alarm.ts): nothing
  // to answer, and nothing may be written into its empty tables, where no alarm would expire it.
  if (store.thread() === null) return outsideWindow(thread.channel);
  const window = personWindow(store, thread.channel, now);
  if (!window.open) {
    log.info("human_reply.outside_window", fields);
    return outsideWindow(thread.channel);
  }
  // Past the automatic window a person may still answer on Instagram, tagged as a human agent.
  const { humanAgent } = window;
  const outboxId = `human:${input.requestId}`;
  const delivery = await deliverOnce(store, outboxId, async () =>
    send(env, thread, input.text, undefined, {
      humanAgent,
      email: { context: await sealed.emailContext(), automatic: false },
    }),
  );
  if (delivery.kind === "already") {
    replyWaitEnded(store);
    return { ok: true, providerMessageId: delivery.providerMessageId };
  }
  if (delivery.kind === "unknown") {
    // Possibly delivered: never sent a second time, even if the person clicks again.
    log.warn("human_reply.send_outcome_unknown", fields);
    replyWaitEnded(store);
    return { ok: true, providerMessageId: null };
  }
  const meta = (action: string, providerMessageId: string, errorCode: number | null) =>
    outboundRow(store, thread, { action, providerMessageId, errorCode, ruleId: null });
  if (delivery.kind === "failed") {
    const { failure } = delivery;
    log.warn("human_reply.send_failed", { ...fields, status: failure.status, code: failure.code });
    if (failure.outsideWindow) return outsideWindow(thread.channel);
    if (failure.retryable) {
      const wait = failure.retryAfterSeconds ? `in ${failure.retryAfterSeconds} seconds` : "in a moment";
      return errorBody("send_retryable", `The message could not be sent just now. Try again ${wait}.`);
    }
    await recordMessages(env.DB, [meta("send_failed", `failed:${outboxId}`, failure.code)]);
    return errorBody(
      "send_failed",
      `The message could not be delivered${failure.code === null ? "" : ` (error ${failure.code})`}: ${failure.reason}`,
    );
  }
  // Before any await: an idle alarm running meanwhile must see the thread active (alarm.ts).
  store.markActive(now);
  const silence =
    input.afterReply === "silent" || (input.afterReply === undefined && store.get("handoff_since") !== null);
  if (silence) {
    handToPerson(store);
    // The inbox shows who has the thread now (control.ts).
    store.set("control_by", input.actor);
    await mirrorState(env, thread, store);
  }
  await recordMessages(env.DB, [
    { ...meta("human_reply", delivery.providerMessageId, null), replyWaitMs: replyWaitEnded(store, now) },
  ]);
  await remember(host, sealed, input.text);
  log.info("human_reply.sent", fields);
  return { ok: true, providerMessageId: delivery.providerMessageId };
}

/**
 * What became of an approved draft's send, for the sweep that settles an approval a decision left
 * in `sending`: `sent` when the outbox says it went or may have gone (its row is `sent`, or
 * `sending`: never sent twice), otherwise `not_sent` (also once a settled row was pruned, a week
 * on; one still `sending` is kept a month); `held` says whether its draft is still here to be
 * decided again.
 */
export function draftOutcome(
  host: ConversationHost,
  approvalId: string,
): { delivery: "sent" | "not_sent"; held: boolean } {
  if (host.purged) return { delivery: "not_sent", held: false };
  const status = host.store.outbox(`approval:${approvalId}`)?.status;
  const delivery = status === "sent" || status === "sending" ? "sent" : "not_sent";
  return { delivery, held: host.store.draft(approvalId) !== null };
}

/** A rejected or expired draft's text leaves storage. */
export function dropDraft(host: ConversationHost, approvalId: string): void {
  if (host.purged) return;
  host.store.deleteDraft(approvalId);
}
