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
  if (fresh) store.clear("awaiting_reply_since");
  else if (store.get("awaiting_reply_since") !== null) return;
  const arrived = new Map(pending.map((p) => [p.providerMessageId, p.acceptedAt]));
  const times = messages.filter(awaitsReply).map((m) => {
    const at = arrived.get(m.providerMessageId) ?? now;
    return Math.min(now, Math.max(m.sentAt, at - CLOCK_SLACK_MS));
  });
  if (times.length > 0) store.set("awaiting_reply_since", String(Math.min(...times)));
}

/** A reply went out: how long the customer had waited for it (ms), or null; the wait ends. */
export function replyWaitEnded(store: ConversationStore, now = Date.now()): number | null {
  const since = store.number("awaiting_reply_since");
  if (since === null) return null;
  store.clear("awaiting_reply_since");
  return Math.max(0, now - since);
}
