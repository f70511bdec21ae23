/**
 * The exactly-once rules of a conversation, and the code that keeps them.
 *
 * 1. Accepted once. A provider message id is accepted at most once while it is remembered (in
 *    its buffered row, then in its turn's history entry or its own `seen:` row, for a week at
 *    least, longer than Meta redelivers): the duplicate check and the insert run with no await in
 *    between, in the thread's one object (`ConversationStore.acceptMessage`). Redeliveries,
 *    double clicks and retries of ingest are absorbed there.
 * 2. A turn is fixed when it first runs. Its messages (the pending ones up to `turn_seq`), its id
 *    (`turn:<last seq>`), and so its outbox entry and its approval id, stay the same across retries,
 *    even when more messages arrive meanwhile; those get the next turn.
 * 3. Recorded before sent, never sent twice. Every outgoing message (a turn's reply, an approved
 *    draft, a person's reply) is marked `sending` in the outbox before the provider is called and
 *    `sent` after (`deliverOnce`; a turn's entry stays `sending`, see there). A turn's entry is
 *    kept in the turn's own state row rather than in the outbox table (`TurnState.outbox`): it
 *    reads as sent once the turn finished, and the next turn drops it, so no row is deleted. An
 *    entry found `sending` or `sent` is never sent again: `sending` means an attempt died after
 *    calling the provider or lost its answer (or, for a turn, died after sending and before
 *    finishing), so the customer may have the message; it counts as delivered and is logged as
 *    an unknown outcome. A provider answer that leaves the outcome unknown (a timeout after the
 *    request went out) is treated the same way. A `failed` entry may be sent again.
 * 4. Not produced twice. A turn whose outbox entry says `sending` or `sent` is not generated or
 *    charged again (`earlierAttempt`); one that says `held` does nothing more: its draft waits
 *    for a person, so it is not drafted or charged again (`holdOnce`).
 * 5. A kept reply is reused. A reply whose send failed with a retryable error is kept, sealed, for
 *    the turn's next attempt, which sends exactly that text: not planned, generated or charged
 *    again (`keptReply`, `keepForRetry`). It is forgotten when the turn ends.
 * 6. One debit per attempt, given back at most once. An AI reply takes one credit, only while the
 *    tenant's persona is approved (checked inside the same statement), under
 *    `ai:<thread>:<turn>:<attempt>` (`chargeAttempt`), where attempt counts the turn's failed
 *    attempts: an attempt that died before finishing finds its own debit again on the next try
 *    instead of taking a second one (had it already given the credit back, that try finds none
 *    under the reference and the turn ends as `no_credits`; had the persona stopped being
 *    approved meanwhile, its debit is given back). The credit is given back, once per
 *    reference (the ledger's `restore:<reference>` row is unique), when generation or the
 *    injection scan fails, the scan flags the customer's text, the answer is empty, anything
 *    throws after the debit, holding the draft fails, the send fails for good (a permanent error,
 *    or the retries run out), or the held draft is rejected, expires or cannot be delivered
 *    (approvals.ts, where the D1 transition out of `pending` is the lock). A reply that was sent,
 *    or whose outcome is unknown, keeps its credit.
 * 7. Once per thing around a turn: each mail the routing rules send to the inbox is relayed once
 *    per turn (`relayed:<id>` marks, email-turn.ts); the tenant is paged once per handoff
 *    (`page_pending`, handoff.ts); each inbox item is queued once under a deterministic id, which
 *    is also Discord's nonce, so a retried post never shows twice (inbox.ts, relay.ts).
 * 8. A person's reply goes at most once per request id (outbox `human:<requestId>`, remembered a
 *    week), an approved draft at most once per approval: its D1 transition out of `pending` is the
 *    lock (it expires within a day), and its outbox row `approval:<id>` (a week once settled)
 *    stops a retry of the same decision.
 *
 * What is not guaranteed: a turn still failing 24 hours after its first message is given up
 * (logged as `turn.given_up`) as it stands, a kept reply's credit included; the send retries
 * (at most 5 attempts, waits of at most an hour each) end long before that. The customer is not
 * left in silence: the messages' metadata says `given_up`, the thread goes to the Discord inbox as
 * needing a person, and the tenant is notified (alarm.ts, `giveUp`).
 */
import type { SendResult } from "@concierge/channels";
import type { Persona } from "@concierge/prompt";
import { createApproval, debitAiReply, restoreCredit } from "@concierge/storage";
import { personaVersions } from "../config/config-cache.ts";
import type { SealedThread } from "./sealed.ts";
import type { ConversationStore } from "./store.ts";
import type { HeldDraft, KeptReply, Turn } from "./types.ts";

type Db = { DB: D1Database };

/** A send the provider refused or that did not get through. */
export type SendFailure = Extract<SendResult, { ok: false }>;

/** Rule 4: what an earlier attempt of this turn (or send under this outbox id) left. */
export function earlierAttempt(
  store: ConversationStore,
  outboxId: string,
): "none" | "held" | "sent" | "maybe_sent" {
  const status = store.outbox(outboxId)?.status;
  if (status === "held") return "held";
  if (status === "sent") return "sent";
  if (status === "sending") return "maybe_sent";
  return "none";
}

export type Delivery =
  | { kind: "sent"; providerMessageId: string }
  /** An earlier attempt under this outbox id sent it, or may have: not sent again. */
  | { kind: "already"; providerMessageId: string | null }
  /** The provider may have delivered it: counted as sent, never sent again. */
  | { kind: "unknown"; reason: string }
  | { kind: "failed"; failure: SendFailure };

/**
 * Rule 3: marks the outbox row `sending`, sends, and records the outcome; never twice.
 *
 * `markSent: false` (a turn's reply) leaves the entry `sending` after a successful send: the turn's
 * entry reads as sent once the turn finishes, normally in this same invocation, and an attempt that
 * finds it treats `sending` exactly as `sent` (never sends again, keeps the credit), so marking it
 * would be one more row written on every reply. The price: when something after the send fails
 * (recording the metadata, say) the retry logs `turn.send_outcome_unknown` for a reply that did
 * go out. Only what is looked up later by its outbox id (a person's reply, an approved draft:
 * `draftOutcome`) needs `sent` and its provider message id.
 */
export async function deliverOnce(
  store: ConversationStore,
  outboxId: string,
  send: () => Promise<SendResult>,
  { markSent = true }: { markSent?: boolean } = {},
): Promise<Delivery> {
  const earlier = store.outbox(outboxId);
  if (earlier?.status === "sent" || earlier?.status === "sending") {
    return { kind: "already", providerMessageId: earlier.providerMessageId };
  }
  store.markOutbox(outboxId, "sending");
  const result = await send();
  // Left `sending`: whatever asks again finds it possibly delivered.
  if (!result.ok && result.unknown) return { kind: "unknown", reason: result.reason };
  if (!result.ok) {
    store.markOutbox(outboxId, "failed");
    return { kind: "failed", failure: result };
  }
  if (markSent) store.markOutbox(outboxId, "sent", result.providerMessageId);
  return { kind: "sent", providerMessageId: result.providerMessageId };
}

/** Rule 6: the debit reference of one attempt at one turn; unique per tenant. */
export function creditReference(turn: Turn, attempt: number): string {
  return `ai:${turn.thread.key}:${turn.id}:${attempt}`;
}

/** What the debit of an attempt found besides its credit (`debitAiReply`). */
export type Charge = {
  /** The approved persona's text, current as of the debit. */
  persona: Persona;
  /** Credits left right after this debit. */
  balance: number;
};

/**
 * Rule 6: takes this attempt's credit (or finds it taken by an attempt that died) and runs
 * `work`. The credit is given back when `work` throws or asks for a refund; otherwise it goes
 * with the result, whose fate (sent, held, failed for good) decides later.
 *
 * The debit itself checks that the persona is approved, in the same statement (so a persona
 * rejected or edited a moment ago is never charged for), and answers with the persona's version:
 * one D1 round trip before the model is called. The text comes from this isolate's copy of that
 * version (`personaVersions`), or with the answer when the copy is of another version.
 */
export async function chargeAttempt<T>(
  env: Db,
  turn: Turn,
  attempt: number,
  work: (creditRef: string, charge: Charge) => Promise<{ value: T; refund: boolean }>,
): Promise<
  { kind: "no_credits" } | { kind: "persona_not_approved"; status: string } | { kind: "charged"; value: T }
> {
  const tenantId = turn.thread.tenantId;
  const ref = creditReference(turn, attempt);
  const known = personaVersions.get(tenantId);
  const debit = await debitAiReply(env.DB, tenantId, ref, known?.hash ?? null);
  const current = debit.persona;
  if (current?.status !== "approved") {
    // Only an attempt that died after its debit, before the persona changed, can leave one here.
    if (debit.debited) await restoreCredit(env.DB, tenantId, ref);
    return { kind: "persona_not_approved", status: current?.status ?? "none" };
  }
  let persona = current.persona;
  if (persona) personaVersions.set(tenantId, { hash: current.hash, persona });
  else if (known?.hash === current.hash) persona = known.persona;
  if (!persona) {
    // Unreachable (the text comes whenever the hashes differ); never charge without a persona.
    if (debit.debited) await restoreCredit(env.DB, tenantId, ref);
    throw new Error("the debit named a persona version this isolate does not hold");
  }
  if (!debit.debited) return { kind: "no_credits" };
  let result: { value: T; refund: boolean };
  try {
    result = await work(ref, { persona, balance: debit.balance });
  } catch (err) {
    // Anything that fails after the debit gives the credit back before the turn is retried.
    await restoreCredit(env.DB, tenantId, ref);
    throw err;
  }
  if (result.refund) await restoreCredit(env.DB, tenantId, ref);
  return { kind: "charged", value: result.value };
}

/** Rule 6: gives a reply's credit back (none for canned replies); at most once per reference. */
export async function refund(env: Db, tenantId: string, creditRef: string | null): Promise<void> {
  if (creditRef) await restoreCredit(env.DB, tenantId, creditRef);
}

/**
 * Rule 4: holds the turn's draft for approval, once. The draft rests sealed and its approval is
 * created in D1; if either fails, neither the draft nor its charge stays, and the turn is
 * retried. Once both are in, the outbox entry says `held`, so a retry does nothing more.
 */
export async function holdOnce(
  env: Db,
  sealed: SealedThread,
  turn: Turn,
  draft: HeldDraft & {
    replyTo: string;
    ruleId: string | null;
    creditRef: string;
    /** When the channel stops accepting a person's reply to this customer (null: never). */
    sendableUntil: number | null;
  },
): Promise<void> {
  const { thread } = turn;
  // Only for a turn with nothing sent or held: a run of a turn that another run finished meanwhile
  // (stuck past STUCK_TURN_MS, object.ts) finds it sent, and holds no second draft for it.
  if (earlierAttempt(sealed.store, turn.id) !== "none") return;
  try {
    await sealed.holdDraft(draft.approvalId, draft.text, draft.replyTo);
    await createApproval(env.DB, {
      id: draft.approvalId,
      tenantId: thread.tenantId,
      accountId: thread.accountId,
      threadKey: thread.key,
      conversationId: turn.conversationId,
      ruleId: draft.ruleId,
      creditRef: draft.creditRef,
      reasons: draft.reasons,
      sendableUntil: draft.sendableUntil,
    });
  } catch (err) {
    try {
      sealed.store.deleteDraft(draft.approvalId);
    } finally {
      await refund(env, thread.tenantId, draft.creditRef);
    }
    throw err;
  }
  // From here a retry of this turn must not draft (or charge) again.
  sealed.store.markOutbox(turn.id, "held");
}

/** Rule 5: the reply an earlier attempt of this turn could not send yet. */
export function keptReply(sealed: SealedThread, turn: Turn): Promise<KeptReply | null> {
  return sealed.keptReply(turn.id);
}

/** Rule 5: keeps the reply (with its credit) for the turn's next attempt. */
export function keepForRetry(sealed: SealedThread, turn: Turn, reply: KeptReply): Promise<void> {
  return sealed.keepReply(turn.id, reply);
}
