import type { AcceptInput } from "@concierge/core";
import type { ConversationHost } from "./host.ts";

/** However long a burst goes on, its first message is answered within this. */
const MAX_BUFFER_MS = 30_000;

/**
 * With a 0 s reply buffer the turn runs in the accepting invocation itself (object.ts), right
 * after this accept is durable; the alarm is then armed this far ahead only as the backstop that
 * runs the turn if that invocation dies first. A turn that finishes re-arms it for what comes next.
 */
export const BACKSTOP_MS = 10_000;

export type Accepted = {
  status: "accepted" | "duplicate" | "unknown_account";
  /** Run the turn now, in this invocation (0 s buffer, no turn being retried): the alarm is the backstop. */
  turnNow?: true;
};

/**
 * Takes a customer's message into the reply buffer, once per provider message id
 * (exactly-once.ts, rule 1), and schedules the turn that answers it.
 */
export async function acceptMessage(host: ConversationHost, input: AcceptInput): Promise<Accepted> {
  // The tenant is being deleted (a lookup cached elsewhere can still lead here): refuse.
  if (host.purged) return { status: "unknown_account" };
  const { store } = host;
  const now = Date.now();
  // No await between the check and the inserts: no other request can interleave here.
  const accepted = store.acceptMessage(
    {
      providerMessageId: input.providerMessageId,
      sealed: input.sealed,
      sentAt: input.sentAt,
      kind: input.kind,
      hasAttachment: input.hasAttachment,
    },
    now,
    // Kept in the buffered row until a turn takes them into its own (store `thread`): no row.
    input.thread,
  );
  if (accepted === "duplicate") return { status: "duplicate" };
  // Written only when it changes: it is the same message after message. Unset reads as 0 s
  // (alarm.ts), so a thread whose buffer is 0 s never writes it (a row written saved per thread).
  const waitMs = String(input.waitSeconds * 1000);
  if ((store.get("wait_ms") ?? "0") !== waitMs) store.set("wait_ms", waitMs);
  // The customer-service window runs from the customer's own send time (a redelivery hours
  // later must not reopen it), never from a time in the future: the buffered row's sent_at and
  // accepted_at say it (store `lastInboundAt`), and the turn that takes the message keeps it.
  // Sliding window: each message pushes the turn back, but never past MAX_BUFFER_MS after the first.
  // A turn that is being retried keeps its backoff (and the provider's Retry-After); this
  // message gets its own turn when that one is done.
  // An alarm that gave up after failing (alarm.ts) is armed again too, turn or not.
  const idle = store.turnUnderWay() === null;
  if (idle && input.waitSeconds === 0 && store.get("alarm_given_up") === null) {
    // The alarm first, in this same output-gated step: if this invocation dies before or during
    // the turn, the backstop runs it (exactly-once.ts makes that second run safe).
    await host.arm(now + BACKSTOP_MS);
    return { status: "accepted", turnNow: true };
  }
  if (idle || store.get("alarm_given_up") !== null) {
    const first = store.firstAcceptedAt() ?? now;
    await host.arm(Math.min(now + input.waitSeconds * 1000, first + MAX_BUFFER_MS));
  }
  // The output gate holds this reply until the writes above are durable.
  return { status: "accepted" };
}
