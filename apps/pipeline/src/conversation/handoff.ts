import { type Thread, createLogger } from "@concierge/core";
import type { PipelineEnv } from "../env.ts";
import { type Notice, maskCustomer, notifyTenant } from "../tenants/notify.ts";
import type { ConversationStore, StateKey } from "./store.ts";
import type { HandoffPhase, Timing, Turn } from "./types.ts";

const log = createLogger("pipeline.conversation");

/** Attempts at paging the tenant about one handoff, an alarm apart. */
const PAGE_ATTEMPTS = 10;

/** None; holding (the holding voice answers) until the cooldown; then silent until resolved or idle. */
export function handoffPhase(store: ConversationStore, now: number, t: Timing): HandoffPhase {
  const since = store.get("handoff_since");
  if (since === null) return "none";
  return now - Number(since) < t.handoffCooldownMinutes * 60_000 ? "holding" : "silent";
}

/**
 * A person is needed: the tenant is paged once. The AI asked (`by` "ai"): the holding voice
 * answers until the cooldown. A hand-off rule answered (`by` "rule"): its sentence was the
 * holding reply and no AI may be at hand (no credits, no persona), so the bot is silent at once:
 * a handoff that began at the epoch is past any cooldown.
 */
export function startHandoff(store: ConversationStore, turn: Turn, by: "ai" | "rule" = "ai"): void {
  store.set("handoff_since", by === "rule" ? "0" : String(Date.now()));
  // Who asked for the person, for the inbox (control.ts); the turn's end mirrors it to D1.
  store.set("control_by", by);
  // Paged once per handoff; delivered after the turn, retried until it gets through.
  store.set("page_pending", turn.conversationId);
  log.info("handoff.started", {
    tenant_id: turn.thread.tenantId,
    account_id: turn.thread.accountId,
    turn_id: turn.id,
    by,
  });
}

/** A person has taken over: the holding pattern or the silence ends, and rules apply again. */
export function resolveHandoff(store: ConversationStore): { wasInHandoff: boolean } {
  const was = store.get("handoff_since") !== null;
  store.clear("handoff_since", "page_pending");
  return { wasInHandoff: was };
}

/** A person answered: the thread is theirs, silent until resolved or idle, and nobody is paged. */
export function handToPerson(store: ConversationStore): void {
  // A handoff that began at the epoch is past any cooldown: silent, until resolved or idle.
  store.set("handoff_since", "0");
  store.clear("page_pending", "page_attempts");
}

/** A draft of this thread waits for approval: the tenant is told after the turn (like a page). */
export function approvalHeld(store: ConversationStore): void {
  store.set("approval_notice_pending", "1");
}

/** Whether a handoff page, an approval notice or a mail notice still has to reach the tenant. */
export function pagePending(store: ConversationStore): boolean {
  return (
    store.get("page_pending") !== null ||
    store.get("approval_notice_pending") !== null ||
    store.get("mail_notice_pending") !== null
  );
}

/**
 * Pages the tenant about a handoff once, and tells it once about a held draft and about mail
 * waiting in the live inbox; on failure the alarm tries again shortly, 10 times each.
 */
export async function flushPage(env: PipelineEnv, store: ConversationStore, thread: Thread): Promise<void> {
  await flushHandoffPage(env, store, thread);
  await flushApprovalNotice(env, store, thread);
  await flushMailNotice(env, store, thread);
}

/**
 * One notice the conversation owes the tenant (`pending` set): sent after the turn, tried again
 * by the alarm until it gets through, given up after PAGE_ATTEMPTS (`event` logged). Delivered,
 * its keys go, with `alsoClear` (where its inbox item went).
 */
async function flushNotice(
  env: PipelineEnv,
  store: ConversationStore,
  thread: Thread,
  keys: { pending: StateKey; attempts: StateKey; alsoClear?: StateKey },
  event: string,
  notice: (pending: string) => Notice,
): Promise<void> {
  const pending = store.get(keys.pending);
  if (pending === null || pending === "") return;
  const attempts = (store.number(keys.attempts) ?? 0) + 1;
  store.set(keys.attempts, String(attempts));
  if (attempts > PAGE_ATTEMPTS) {
    log.error(event, { tenant_id: thread.tenantId, account_id: thread.accountId });
    store.clear(keys.pending, keys.attempts);
    return;
  }
  const delivered = await notifyTenant(env, thread.tenantId, notice(pending));
  if (delivered) store.clear(keys.pending, keys.attempts, ...(keys.alsoClear ? [keys.alsoClear] : []));
}

/** Tells the tenant once that mail for a person waits in the live inbox (email-turn.ts pageForMail). */
function flushMailNotice(env: PipelineEnv, store: ConversationStore, thread: Thread): Promise<void> {
  return flushNotice(
    env,
    store,
    thread,
    { pending: "mail_notice_pending", attempts: "mail_notice_attempts" },
    "mail_notice.given_up",
    () => ({ kind: "mail_waiting", customer: maskCustomer(thread.customerId) }),
  );
}

function flushApprovalNotice(env: PipelineEnv, store: ConversationStore, thread: Thread): Promise<void> {
  return flushNotice(
    env,
    store,
    thread,
    {
      pending: "approval_notice_pending",
      attempts: "approval_notice_attempts",
      alsoClear: "approval_relayed_to",
    },
    "approval.notice_given_up",
    () => ({
      kind: "approval",
      channel: thread.channel,
      customer: maskCustomer(thread.customerId),
      relayedTo: store.get("approval_relayed_to"),
    }),
  );
}

/** The handoff page: `page_pending` holds the conversation it is about. */
function flushHandoffPage(env: PipelineEnv, store: ConversationStore, thread: Thread): Promise<void> {
  return flushNotice(
    env,
    store,
    thread,
    { pending: "page_pending", attempts: "page_attempts", alsoClear: "handoff_relayed_to" },
    "handoff.page_given_up",
    (conversationId) => ({
      kind: "handoff",
      channel: thread.channel,
      customer: maskCustomer(thread.customerId),
      conversation: conversationId,
      relayedTo: store.get("handoff_relayed_to"),
    }),
  );
}
