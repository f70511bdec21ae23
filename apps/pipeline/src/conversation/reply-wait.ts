import type { ConversationStore, PendingMessage } from "./store.ts";
import type { TurnMessage } from "./types.ts";

/**
 * How long a customer waits for a reply (the insights' time to reply, migration 0037): from their
 * first unanswered message to the first reply that reaches them, whoever sends it (rules, the AI,
 * an approved draft, a person). Kept as one time in the conversation object past the idle gap (a
 * person answering after it still ends a real wait), and ended by the reply, or by a send whose
 * outcome is unknown (that reply may have reached them).
 *
 * A wait is not started by what nobody answers (a reaction or unsupported message, automatic
 * mail), and when the customer writes again after the idle gap (a new conversation), a wait left
 * from before is over unanswered: their "thanks!" yesterday is not why today's question waited.
 */

/** Messages a reply can follow: not unsupported ones (reactions, …), not automatic mail. */
const awaitsReply = (m: TurnMessage) => m.kind !== "unsupported" && m.email?.automatic !== true;

/** Within this of its arrival, a message's own send time is believed (an email's Date header is the sender's). */
const CLOCK_SLACK_MS = 5 * 60_000;

/**
 * The wait a turn began, until the turn replies or ends: in memory only, so a turn that replies
 * (most of them) writes no row for it. `null`: a reply (the turn's or a person's) ended it. A turn
 * that ends without a reply, or is put off for a retry, keeps it (`keepWaiting`): the object may
 * be gone before its next attempt, and a person may answer meanwhile.
 */
const begun = new WeakMap<ConversationStore, number | null>();

/**
 * A turn begins: the customer waits since their earliest message a reply can follow, by its own
 * send time but never before it arrived (less a little slack) nor after now, unless a wait is on
 * in the same conversation (`fresh`: this turn began a new one).
 */
export function customerWaiting(
  store: ConversationStore,
  messages: TurnMessage[],
  pending: PendingMessage[],
  fresh: boolean,
  now = Date.now(),
): void {
  begun.delete(store);
  if (fresh) {
    // `startTurn` (timing.ts) already cleared it with the new conversation's id; a guard, so that
    // this function's rule holds by itself.
    if (store.get("awaiting_reply_since") !== null) store.clear("awaiting_reply_since");
  } else if (store.get("awaiting_reply_since") !== null) return;
  const arrived = new Map(pending.map((p) => [p.providerMessageId, p.acceptedAt]));
  const times = messages.filter(awaitsReply).map((m) => {
    const at = arrived.get(m.providerMessageId) ?? now;
    return Math.min(now, Math.max(m.sentAt, at - CLOCK_SLACK_MS));
  });
  if (times.length > 0) begun.set(store, Math.min(...times));
}

/** A reply went out: how long the customer had waited for it (ms), or null; the wait ends. */
export function replyWaitEnded(store: ConversationStore, now = Date.now()): number | null {
  const inTurn = begun.get(store) ?? null;
  // Ended: a turn still running must not keep it again (`keepWaiting`).
  begun.set(store, null);
  const kept = store.number("awaiting_reply_since");
  if (kept !== null) store.clear("awaiting_reply_since");
  const since = kept ?? inTurn;
  return since === null ? null : Math.max(0, now - since);
}

/**
 * The turn ends, or waits for a retry, and nothing it sent ended the wait (a handoff, a held
 * draft, no reply, a failed send): the customer still waits, for a person perhaps, so the wait is
 * stored for whoever answers. One row, only on such turns.
 */
export function keepWaiting(store: ConversationStore): void {
  const since = begun.get(store);
  begun.delete(store);
  if (since !== undefined && since !== null && store.get("awaiting_reply_since") === null) {
    store.set("awaiting_reply_since", String(since));
  }
}
