import { type Thread, createLogger, errorFields } from "@concierge/core";
import { tenantSettings } from "../tenants/notify.ts";
import type { ConversationHost } from "./host.ts";
import { replyContextOf } from "./email-turn.ts";
import { approvalHeld, flushPage, handoffPhase, pagePending } from "./handoff.ts";
import { type TurnFacts, flushRelays, queueTurnRelay } from "./inbox.ts";
import { SealedThread } from "./sealed.ts";
import type { PendingMessage } from "./store.ts";
import { currentConversation, endConversation, idleAt, timing } from "./timing.ts";
import { runTurn } from "./turn.ts";
import type { Timing, Turn } from "./types.ts";

const log = createLogger("pipeline.conversation");

/** How long a provider message id is remembered for de-duplication; Meta retries for days. */
const SEEN_TTL_MS = 7 * 24 * 3600_000;
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
    // Whatever failed outside a turn (reading settings, paging, scheduling): never leave the
    // object without a next alarm, or accepted messages would wait for the next customer word.
    log.error("alarm.failed", errorFields(err));
    await host.arm(Date.now() + PAGE_RETRY_MS);
  }
}

async function runAlarm(host: ConversationHost): Promise<void> {
  const { env, store } = host;
  const thread = readThread(host);
  if (thread && !(await tenantSettings(env, thread.tenantId))) {
    // The tenant was deleted after this object accepted something the deletion could not see
    // (no metadata yet). Nothing of it may stay, and nothing re-arms.
    log.info("conversation.tenant_gone", { tenant_id: thread.tenantId, account_id: thread.accountId });
    return host.purge();
  }
  // A turn keeps the messages it started with across retries: its id, outbox row and credit
  // reference stay the same even when more messages arrive meanwhile.
  const pending = store.pending(store.number("turn_seq"));
  if (!thread || pending.length === 0) {
    store.clear("turn_seq");
    return expireIfIdle(host);
  }
  const t = await timing(env, thread);
  const lastSeq = pending[pending.length - 1]!.seq;
  store.set("turn_seq", String(lastSeq));
  const turnId = `turn:${lastSeq}`;
  const sealed = new SealedThread(env, store, thread);
  try {
    const turn = await buildTurn(sealed, pending, turnId, t);
    const phase = handoffPhase(store, Date.now(), t);
    const outcome = await runTurn(env, turn, {
      sealed,
      history: await sealed.history(),
      handoff: phase,
      attempt: store.number("attempts") ?? 0,
      historyTurns: t.historyTurns,
    });
    if (outcome.kind === "retry") return retryLater(host, thread, pending[0]!, lastSeq, outcome.afterMs);
    // Before the turn's messages leave storage: the inbox item keeps its own sealed copy.
    const facts: TurnFacts = { phase, handoffStarted: outcome.handoffStarted, held: outcome.held };
    await queueTurnRelay(sealed, turn, facts);
    if (facts.held) approvalHeld(store);
    store.finishTurn(lastSeq, turnId);
  } catch (err) {
    // Purged while the turn ran (the tenant was deleted): its tables are gone, hence the failure.
    if (host.purged) return;
    log.error("turn.failed", {
      ...errorFields(err),
      tenant_id: thread.tenantId,
      account_id: thread.accountId,
    });
    return retryLater(host, thread, pending[0]!, lastSeq, null);
  }
  if (host.purged) return;
  await flushRelays(env, sealed, () => host.purged);
  await flushPage(env, store, thread);
  await afterTurn(host, t);
}

function readThread(host: ConversationHost): Thread | null {
  const json = host.store.get("thread");
  return json ? (JSON.parse(json) as Thread) : null;
}

/** The turn, its messages opened; the conversation it belongs to starts or goes on. */
async function buildTurn(
  sealed: SealedThread,
  pending: PendingMessage[],
  turnId: string,
  t: Timing,
): Promise<Turn> {
  const { thread, store } = sealed;
  const messages = await sealed.openPending(pending);
  const newest = messages[messages.length - 1];
  const context = newest ? replyContextOf(newest) : null;
  // A person's later reply (Discord, dashboard) threads under the customer's newest mail.
  if (context) await sealed.keepEmailContext(context);
  return { id: turnId, thread, conversationId: currentConversation(store, Date.now(), t), messages };
}

async function retryLater(
  host: ConversationHost,
  thread: Thread,
  first: PendingMessage,
  lastSeq: number,
  afterMs: number | null,
): Promise<void> {
  const { store } = host;
  const attempts = (store.number("attempts") ?? 0) + 1;
  if (Date.now() - first.acceptedAt > GIVE_UP_AFTER_MS) {
    // Only this turn's messages are given up; later ones still get their own turn.
    log.error("turn.given_up", { tenant_id: thread.tenantId, account_id: thread.accountId, attempts });
    store.finishTurn(lastSeq, `turn:${lastSeq}`);
    if (store.pendingCount() > 0) await host.arm(Date.now());
    return;
  }
  store.set("attempts", String(attempts));
  const backoff = Math.min(2 ** attempts * 1000, 10 * 60_000);
  // A failed send brings its own schedule (jittered backoff, never before Retry-After).
  await host.arm(Date.now() + (afterMs ?? backoff));
}

/**
 * Messages that arrived while the turn was running get their own turn. Otherwise the next
 * alarm is the end of the idle gap, when the conversation's history is deleted.
 */
async function afterTurn(host: ConversationHost, t: Timing): Promise<void> {
  const { store } = host;
  if (store.pendingCount() > 0) {
    if (!(await host.alarmArmed())) await host.arm(Date.now() + (store.number("wait_ms") ?? 0));
  } else if (pagePending(store) || store.hasRelays()) {
    await host.arm(Date.now() + PAGE_RETRY_MS);
  } else {
    const last = store.number("last_activity_at") ?? Date.now();
    await host.arm(last + t.idleGapMinutes * 60_000);
  }
  prune(host);
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
  const idle = idleAt(store, t);
  if (Date.now() >= idle) endConversation(store);
  if (pagePending(store) || store.hasRelays()) await host.arm(Date.now() + PAGE_RETRY_MS);
  else if (Date.now() < idle) await host.arm(idle);
  prune(host);
}

function prune(host: ConversationHost): void {
  const now = Date.now();
  // A person's double click comes within seconds; a week of guard is plenty.
  host.store.prune(now - SEEN_TTL_MS, now - SEEN_TTL_MS);
}
