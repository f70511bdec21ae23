import { type MessageKind, type Thread, createLogger, errorFields } from "@concierge/core";
import { GIVEN_UP_ACTION, clearStuckAlarm, recordMessages, recordStuckAlarm } from "@concierge/storage";
import { type RelayRequest, relayId } from "../channels/discord/relay.ts";
import { maskCustomer, notifyTenant, tenantSettings } from "../tenants/notify.ts";
import { customerWaiting, keepWaiting } from "./reply-wait.ts";
import type { ConversationHost } from "./host.ts";
import { replyContextOf } from "./email-turn.ts";
import { approvalHeld, flushPage, handoffPhase, pagePending } from "./handoff.ts";
import { mirrorState } from "./control.ts";
import { type TurnFacts, flushRelays, queueTurnRelay } from "./inbox.ts";
import { SealedThread } from "./sealed.ts";
import { type PendingMessage, turnOutboxId } from "./store.ts";
import { endConversation, idleAt, startTurn, timing } from "./timing.ts";
import { aiSlotRetryMs } from "../pacing/ai-gate.ts";
import { runTurn } from "./turn.ts";
import { earlierAttempt, refund } from "./exactly-once.ts";
import type { Timing, Turn } from "./types.ts";

const DAY_MS = 86_400_000;

const log = createLogger("pipeline.conversation");

/** How long a provider message id is remembered for de-duplication; Meta retries for days. */
const SEEN_TTL_MS = 7 * 24 * 3600_000;
/** How long an approved draft's outbox row still `sending` is kept for the stuck-approval sweep. */
const STUCK_SEND_TTL_MS = 30 * 24 * 3600_000;
/** A page that could not be delivered is tried again after this long. */
const PAGE_RETRY_MS = 60_000;
/** A turn that keeps failing is retried with backoff for this long, then given up (and logged). */
const GIVE_UP_AFTER_MS = 24 * 3600_000;

/**
 * The object's alarm: the buffered messages' turn, then what follows it (inbox items, the
 * handoff page, the next alarm); with nothing buffered, the idle gap's end.
 */
export async function onAlarm(host: ConversationHost): Promise<void> {
  if (host.purged) return;
  try {
    await runAlarm(host);
  } catch (err) {
    if (host.purged) return;
    return alarmFailed(host, err);
  }
  if (!host.purged) await alarmRecovered(host);
}

/** The first wait after an alarm failed outside a turn; it doubles with each failure in a row. */
const ALARM_RETRY_MS = 60_000;
/** The longest wait between two attempts of a failing alarm. */
const ALARM_RETRY_MAX_MS = 3600_000;
/** Failures in a row after which the alarm stops re-arming and the operator is alerted (~2 h). */
export const ALARM_MAX_FAILURES = 8;

/**
 * Whatever failed outside a turn (reading settings, paging, the store): tried again with
 * exponential backoff, capped, instead of every minute forever. After ALARM_MAX_FAILURES in a row
 * it stops and alerts (the log and the operator's health page). Nothing is dropped: accepted
 * messages stay pending in the object, and the next accepted message arms the alarm again
 * (accept.ts), as does the cron after an hour's rest (stuck-alarms.ts), each with a fresh count.
 */
async function alarmFailed(host: ConversationHost, err: unknown): Promise<void> {
  const { store } = host;
  let thread: Thread | null = null;
  let failures = 1;
  // Each read on its own: a thread that cannot be read (what failed, perhaps) must not keep the
  // count at one, or the alarm would retry every minute forever.
  try {
    failures = (store.number("alarm_failures") ?? 0) + 1;
  } catch {
    // The store itself is what fails: count this one failure, and back off from it.
  }
  try {
    thread = readThread(host);
  } catch {
    // Logged below without the thread's ids; the give-up still re-arms slowly.
  }
  const fields = { tenant_id: thread?.tenantId, account_id: thread?.accountId, attempts: failures };
  log.error("alarm.failed", { ...errorFields(err), ...fields });
  if (failures < ALARM_MAX_FAILURES) {
    try {
      store.set("alarm_failures", String(failures));
    } catch {
      // Unrecorded, the next failure counts from here again: still backed off, never faster.
    }
    await host.arm(Date.now() + Math.min(ALARM_RETRY_MS * 2 ** (failures - 1), ALARM_RETRY_MAX_MS));
    return;
  }
  log.error("alarm.given_up", fields);
  try {
    store.clear("alarm_failures");
    store.set("alarm_given_up", String(Date.now()));
  } catch {
    // accept.ts then finds no given-up mark; it still arms when no turn is being retried.
  }
  try {
    if (!thread) throw new Error("the thread could not be read");
    await recordStuckAlarm(host.env.DB, {
      tenantId: thread.tenantId,
      threadKey: thread.key,
      accountId: thread.accountId,
      attempts: failures,
      failedAt: Date.now(),
    });
  } catch (alertErr) {
    // Without the alert the cron would never wake this object: it wakes itself, slowly, for
    // another round (and another try at the alert) instead of sleeping until the next message.
    log.error("alarm.alert_failed", { ...errorFields(alertErr), ...fields });
    await host.arm(Date.now() + UNALERTED_REST_MS);
  }
}

/** How long a given-up object whose alert could not be recorded rests before waking itself. */
export const UNALERTED_REST_MS = 6 * 3600_000;

/** How long a given-up object rests before the cron wakes it for another round of attempts. */
export const STUCK_ALARM_REST_MS = 3600_000;

/**
 * The cron's wake-up of an object whose alarm gave up (RPC `retryStuckAlarm`): one more round
 * of at most ALARM_MAX_FAILURES attempts, so messages accepted before it stopped are answered
 * (or given up, telling the tenant) once whatever failed works again, even if the customer never
 * writes again. A purged object, or one that recovered meanwhile, is left alone.
 */
export async function retryStuckAlarm(host: ConversationHost): Promise<{ rearmed: boolean }> {
  if (host.purged || host.store.get("alarm_given_up") === null) return { rearmed: false };
  await host.arm(Date.now());
  return { rearmed: true };
}

/** An alarm ran through: a count of earlier failures, and an alert the operator saw, go. */
async function alarmRecovered(host: ConversationHost): Promise<void> {
  const { store } = host;
  const givenUp = store.get("alarm_given_up") !== null;
  if (!givenUp && store.get("alarm_failures") === null) return;
  store.clear("alarm_failures", "alarm_given_up");
  const thread = readThread(host);
  if (!givenUp || !thread) return;
  try {
    await clearStuckAlarm(host.env.DB, thread.tenantId, thread.key);
    log.info("alarm.recovered", { tenant_id: thread.tenantId, account_id: thread.accountId });
  } catch (err) {
    // The alert stays until the next alarm that runs through; nothing else depends on it.
    store.set("alarm_given_up", String(Date.now()));
    log.warn("alarm.alert_clear_failed", { ...errorFields(err), tenant_id: thread.tenantId });
  }
}

async function runAlarm(host: ConversationHost): Promise<void> {
  const { env, store } = host;
  const thread = readThread(host);
  if (thread && !(await tenantSettings(env, thread.tenantId))) {
    // The tenant was deleted after this object accepted something the deletion could not see
    // (no metadata yet). Nothing of it may stay, and nothing re-arms. (A tenant still being
    // deleted answers no one: its turn records the message as `tenant_suspended`.)
    log.info("conversation.tenant_gone", { tenant_id: thread.tenantId, account_id: thread.accountId });
    return host.purge();
  }
  // A turn keeps the messages it started with across retries: its id, outbox entry and credit
  // reference stay the same even when more messages arrive meanwhile.
  const pending = store.pending(store.turnUnderWay());
  if (!thread || pending.length === 0) return expireIfIdle(host);
  const t = await timing(env, thread);
  const lastSeq = pending[pending.length - 1]!.seq;
  // One row, staged until the turn's first write: the turn's messages, its conversation, the
  // idle gap's and the window's start (store `beginTurn`).
  const conversation = startTurn(store, lastSeq, Date.now(), t);
  const turnId = turnOutboxId(lastSeq);
  const sealed = new SealedThread(env, store, thread);
  try {
    const turn = await buildTurn(sealed, pending, turnId, conversation);
    const phase = handoffPhase(store, Date.now(), t);
    const outcome = await runTurn(env, turn, {
      sealed,
      history: () => sealed.history(),
      handoff: phase,
      attempt: store.number("attempts") ?? 0,
      historyTurns: t.historyTurns,
    });
    // A run beside this one (this one stuck past STUCK_TURN_MS, object.ts) finished this turn
    // meanwhile: this run did nothing more (the turn reads as sent), and what is under way now,
    // if anything, is another turn, whose marks and alarm are not this run's to touch.
    if (store.turnUnderWay() !== lastSeq) return finishedAlready(host);
    if (outcome.kind === "retry" && outcome.slotWait) return waitForSlot(host, sealed, pending, lastSeq);
    if (outcome.kind === "retry") return retryLater(host, sealed, pending, lastSeq, outcome.afterMs);
    // Before the turn's messages leave storage: the inbox item keeps its own sealed copy.
    const facts: TurnFacts = {
      phase,
      handoffStarted: outcome.handoffStarted,
      held: outcome.held,
      ...(outcome.flagged ? { flagged: true as const } : {}),
    };
    await queueTurnRelay(env, sealed, turn, facts);
    if (facts.held) approvalHeld(store);
    keepWaiting(store);
    store.finishTurn(lastSeq);
    // The inbox's list shows the handoff the turn started (the thread holds the truth).
    if (outcome.handoffStarted) await mirrorState(env, thread, store);
  } catch (err) {
    // Purged while the turn ran (the tenant was deleted): its tables are gone, hence the failure.
    if (host.purged) return;
    log.error("turn.failed", {
      ...errorFields(err),
      tenant_id: thread.tenantId,
      account_id: thread.accountId,
    });
    return retryLater(host, sealed, pending, lastSeq, null);
  }
  if (host.purged) return;
  await flushRelays(env, sealed, () => host.purged);
  await flushPage(env, store, thread);
  // Forgetting old ids reads every remembered one (no index on their time): done when the
  // conversation goes idle, and every PRUNE_EVERY messages for one that never does.
  const crossed = Math.floor((pending[0]!.seq - 1) / PRUNE_EVERY) !== Math.floor(lastSeq / PRUNE_EVERY);
  await afterTurn(host, t, crossed);
}

/**
 * This run's turn was finished by another run beside it (this one stuck past STUCK_TURN_MS,
 * object.ts), or what failed came after this run finished it. No attempt is counted against the
 * turn under way now, if any, nothing is given up, and an alarm already armed (a retry's
 * Retry-After, a reply buffer's wait) stays as it is; with none, one soon does what comes next
 * (another turn, a page or an inbox item still owed).
 */
async function finishedAlready(host: ConversationHost): Promise<void> {
  if ((await host.alarmAt()) === null) await host.arm(Date.now() + 2_000);
}

/** A conversation that never goes idle still forgets old ids once per this many messages. */
const PRUNE_EVERY = 50;

function readThread(host: ConversationHost): Thread | null {
  return host.store.thread();
}

/** The turn, its messages opened; the conversation it belongs to starts or goes on. */
async function buildTurn(
  sealed: SealedThread,
  pending: PendingMessage[],
  turnId: string,
  { conversationId, previous }: { conversationId: string; previous: string | null },
): Promise<Turn> {
  const { thread, store } = sealed;
  const messages = await sealed.openPending(pending);
  const newest = messages[messages.length - 1];
  const context = newest ? replyContextOf(newest) : null;
  // A person's later reply (Discord, dashboard) threads under the customer's newest mail.
  if (context) await sealed.keepEmailContext(context);
  // A new conversation: a wait left from the one that ended is over unanswered.
  customerWaiting(store, messages, pending, conversationId !== previous);
  return { id: turnId, thread, conversationId, messages };
}

async function retryLater(
  host: ConversationHost,
  sealed: SealedThread,
  pending: PendingMessage[],
  lastSeq: number,
  afterMs: number | null,
): Promise<void> {
  const { store } = host;
  if (store.turnUnderWay() !== lastSeq) return finishedAlready(host);
  // A history entry the run made before it failed is written now: the retry, perhaps in a later
  // instance of the object, will not make it again if the reply went out (store `stageHistory`).
  store.writeStagedHistory(lastSeq);
  const attempts = (store.number("attempts") ?? 0) + 1;
  if (Date.now() - pending[0]!.acceptedAt > GIVE_UP_AFTER_MS) {
    return giveUp(host, sealed, pending, lastSeq, attempts);
  }
  keepWaiting(store);
  store.set("attempts", String(attempts));
  const backoff = Math.min(2 ** attempts * 1000, 10 * 60_000);
  // A failed send brings its own schedule (jittered backoff, never before Retry-After).
  await host.arm(Date.now() + (afterMs ?? backoff));
}

/**
 * The tenant's AI slots were all taken: nothing was tried, so the attempt number stays (the next
 * run of this attempt finds its own debit, if a run of it that died had taken one, instead of
 * taking another credit) and the waits double on a counter of their own, from a quarter second.
 */
async function waitForSlot(
  host: ConversationHost,
  sealed: SealedThread,
  pending: PendingMessage[],
  lastSeq: number,
): Promise<void> {
  const { store } = host;
  if (store.turnUnderWay() !== lastSeq) return finishedAlready(host);
  if (Date.now() - pending[0]!.acceptedAt > GIVE_UP_AFTER_MS) {
    return giveUp(host, sealed, pending, lastSeq, store.number("attempts") ?? 0);
  }
  const waits = store.number("slot_waits") ?? 0;
  keepWaiting(store);
  store.set("slot_waits", String(waits + 1));
  await host.arm(Date.now() + aiSlotRetryMs(waits));
}

/**
 * A turn still failing a day after its first message is given up, and the customer's messages
 * are not left unanswered in silence: their metadata rows say `given_up` (the dashboard counts
 * them), the thread goes to the Discord inbox as needing a person (when the tenant has one), and
 * the tenant is notified. The rows and the inbox item are idempotent (by provider message id, by
 * relay id), so a give-up that fails midway and runs again adds nothing twice; the notice goes
 * after the turn is finished, so it is never repeated. Only this turn's messages are given up;
 * later ones still get their own turn.
 */
async function giveUp(
  host: ConversationHost,
  sealed: SealedThread,
  pending: PendingMessage[],
  lastSeq: number,
  attempts: number,
): Promise<void> {
  const { env, store } = host;
  const { thread } = sealed;
  // The rows below carry the turn's conversation id: its row must be durable first (a turn that
  // failed before its first write has it only staged, store `beginTurn`).
  store.commitTurn();
  const fields = {
    tenant_id: thread.tenantId,
    account_id: thread.accountId,
    attempts,
    messages: pending.length,
  };
  log.error("turn.given_up", fields);
  // A reply written and kept for a retry never went out: its credit goes back (once, by its
  // reference), but only once the turn is finished, so no later attempt can still send it. Not
  // when an attempt may have sent it.
  const turnId = turnOutboxId(lastSeq);
  const kept = earlierAttempt(store, turnId) === "none" ? await sealed.keptReply(turnId) : null;
  const conversationId = store.conversationId();
  await recordMessages(
    env.DB,
    pending.map((m) => ({
      tenantId: thread.tenantId,
      accountId: thread.accountId,
      channel: thread.channel,
      direction: "inbound" as const,
      providerMessageId: m.providerMessageId,
      conversationId,
      senderId: thread.customerId,
      recipientId: thread.accountExternalId,
      action: GIVEN_UP_ACTION,
      ruleId: null,
      at: m.sentAt,
      kind: m.kind as MessageKind,
      hasAttachment: m.hasAttachment,
    })),
  );
  await queueGivenUpRelay(sealed, pending);
  keepWaiting(store);
  store.finishTurn(lastSeq);
  if (kept) {
    try {
      await refund(env, thread.tenantId, kept.creditRef);
    } catch (err) {
      log.error("turn.given_up_refund_failed", { ...errorFields(err), ...fields });
    }
  }
  try {
    await notifyTenant(env, thread.tenantId, {
      kind: "given_up",
      channel: thread.channel,
      customer: maskCustomer(thread.customerId),
    });
  } catch (err) {
    // The rows above still show it on the dashboard.
    log.error("turn.given_up_notify_failed", { ...errorFields(err), ...fields });
  }
  if (host.purged) return;
  await flushRelays(env, sealed, () => host.purged);
  // A page or notice the turn left (a handoff, a held draft, mail waiting in the live inbox)
  // still goes, and is retried like after any turn.
  await flushPage(env, store, thread);
  if (store.pendingCount() > 0) await host.arm(Date.now());
  else if (store.hasRelays() || pagePending(store)) await host.arm(Date.now() + PAGE_RETRY_MS);
}

/** The given-up messages go to the Discord inbox as needing a person; never fails the give-up. */
async function queueGivenUpRelay(sealed: SealedThread, pending: PendingMessage[]): Promise<void> {
  const { thread } = sealed;
  try {
    const messages = await sealed.openPending(pending);
    const last = messages[messages.length - 1]!;
    const req: RelayRequest = {
      kind: "handoff",
      thread,
      providerMessageId: last.providerMessageId,
      approvalId: null,
      customerName: [...messages].reverse().find((m) => m.customerName)?.customerName ?? null,
      subject: last.subject ?? null,
      preview: messages
        .map((m) => m.text)
        .filter(Boolean)
        .join("\n"),
      reason: "given_up",
    };
    await sealed.queueRelay(await relayId(req), req);
  } catch (err) {
    log.error("relay.queue_failed", { ...errorFields(err), tenant_id: thread.tenantId, kind: "given_up" });
  }
}

/**
 * Messages that arrived while the turn was running get their own turn. Otherwise the next
 * alarm is the end of the idle gap, when the conversation's history is deleted.
 */
async function afterTurn(host: ConversationHost, t: Timing, pruneNow: boolean): Promise<void> {
  const { store } = host;
  if (store.pendingCount() > 0) {
    // Sooner than an alarm already armed (a 0 s buffer's backstop, accept.ts), never later.
    const due = Date.now() + (store.number("wait_ms") ?? 0);
    const armed = await host.alarmAt();
    if (armed === null || armed > due) await host.arm(due);
  } else if (pagePending(store) || store.hasRelays()) {
    await host.arm(Date.now() + PAGE_RETRY_MS);
  } else {
    const last = store.lastActivityAt() ?? Date.now();
    await host.arm(last + t.idleGapMinutes * 60_000);
  }
  if (pruneNow) prune(host);
}

/**
 * An alarm with nothing pending: deliver an undelivered page, and once the idle gap has
 * passed, delete the history.
 */
async function expireIfIdle(host: ConversationHost): Promise<void> {
  const { env, store } = host;
  const thread = readThread(host);
  if (!thread) return prune(host);
  const t = await timing(env, thread);
  await flushRelays(env, new SealedThread(env, store, thread), () => host.purged);
  await flushPage(env, store, thread);
  // A message accepted while this alarm awaited (D1, Discord) has its own alarm armed by the
  // accept: nothing here may end its conversation, re-arm over it or forget it.
  if (store.pendingCount() > 0) return;
  const idle = idleAt(store, t);
  if (Date.now() >= idle) endConversation(store);
  if (pagePending(store) || store.hasRelays()) await host.arm(Date.now() + PAGE_RETRY_MS);
  else if (Date.now() < idle) await host.arm(idle);
  else {
    // Idle, nothing pending: the object still names its customer (the thread) and remembers
    // recent provider ids. Those are metadata, kept no longer than the tenant's retention keeps
    // the D1 rows (whose purge can no longer name this object once they are gone), so the
    // object forgets itself then; a new message later starts a fresh thread.
    const settings = await tenantSettings(env, thread.tenantId);
    if (store.pendingCount() > 0) return;
    const forgetAt = (store.lastActivityAt() ?? 0) + (settings?.retentionDays ?? 90) * DAY_MS;
    // A draft still awaiting its approval's decision (or expiry), or a send in flight (a person's
    // reply or an approved draft), is never lost to this: the object looks again a day later.
    if (Date.now() < forgetAt) await host.arm(forgetAt);
    else if (store.holdsWork()) await host.arm(Date.now() + DAY_MS);
    else return host.forget();
  }
  prune(host);
}

function prune(host: ConversationHost): void {
  const now = Date.now();
  // A person's double click comes within seconds; a week of guard is plenty.
  host.store.prune(now - SEEN_TTL_MS, now - SEEN_TTL_MS, now - STUCK_SEND_TTL_MS);
}
