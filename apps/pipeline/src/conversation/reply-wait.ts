import type { ConversationStore } from "./store.ts";
import type { Turn } from "./types.ts";

/**
 * How long a customer waits for a reply (the insights' time to reply, migration 0037): from their
 * first unanswered message to the first reply that reaches them, whoever sends it (rules, the AI,
 * an approved draft, a person). Kept as one time in the conversation object; the wait ends with
 * the reply, or unanswered when the conversation idles out (timing.ts endConversation).
 */

/** A turn begins: the customer is waiting since their earliest message, unless already waiting. */
export function customerWaiting(store: ConversationStore, turn: Turn, now = Date.now()): void {
  if (store.get("awaiting_reply_since") !== null || turn.messages.length === 0) return;
  // By the customer's own send time, never later than now (a skewed clock).
  const since = Math.min(now, ...turn.messages.map((m) => m.sentAt));
  store.set("awaiting_reply_since", String(since));
}

/** A reply went out: how long the customer had waited for it (ms), or null; the wait ends. */
export function replyWaitEnded(store: ConversationStore, now = Date.now()): number | null {
  const since = store.number("awaiting_reply_since");
  if (since === null) return null;
  store.clear("awaiting_reply_since");
  return Math.max(0, now - since);
}
