import type { SendResult } from "@concierge/channels";
import { buildReplyEmail, isPlainAddress } from "@concierge/channels";
import { type InboundEmail, createLogger, errorFields } from "@concierge/core";
import { type MessageMeta, recordMessages } from "@concierge/storage";
import type { Thread } from "@concierge/core";
import type { PipelineEnv } from "../env.ts";
import { deliverEmail } from "../channels/email/deliver.ts";
import { relayItem } from "../channels/discord/relay.ts";
import type { ConversationStore } from "./store.ts";
import type { Turn, TurnMessage } from "./types.ts";

const log = createLogger("pipeline.email");

/** PRODUCT.md §1: at most one automatic reply per sender per subdomain in this window. */
export const AUTO_REPLY_COOLDOWN_MS = 24 * 3600_000;

/**
 * What a threaded reply needs: the address on the subdomain the customer wrote to (our From),
 * their subject and Message-ID, and the References chain. Sealed wherever it rests.
 */
export type EmailReplyContext = {
  from: string;
  subject: string;
  messageId: string;
  references: string[];
};

/** The conversation object's email state, lent to a turn (strongly consistent: one object). */
export type EmailTurnState = {
  lastAutoReplyAt(): number | null;
  markAutoReplied(at: number): void;
  wasRelayed(providerMessageId: string): boolean;
  markRelayed(providerMessageId: string): void;
};

/**
 * Per sender and subdomain, as the object is: the auto-reply cooldown, and the mails of the turn
 * already relayed (forgotten when the turn ends).
 */
export function emailTurnState(store: ConversationStore): EmailTurnState {
  return {
    lastAutoReplyAt: () => store.number("last_auto_reply_at"),
    markAutoReplied: (at) => store.set("last_auto_reply_at", String(at)),
    wasRelayed: (id) => store.get(`relayed:${id}`) !== null,
    markRelayed: (id) => store.set(`relayed:${id}`, "1"),
  };
}

export function replyContextOf(m: TurnMessage): EmailReplyContext | null {
  if (!m.email) return null;
  return {
    from: m.email.to,
    subject: m.subject ?? "",
    messageId: m.providerMessageId,
    references: [...m.email.references, m.providerMessageId].slice(-20),
  };
}

/**
 * Sends a reply on the email channel: from the customer's address on the subdomain, threaded
 * (In-Reply-To, References), `Auto-Submitted: auto-replied` when no person wrote it.
 */
export async function sendEmailReply(
  env: PipelineEnv,
  thread: Thread,
  text: string,
  email: { context: EmailReplyContext | null; automatic: boolean } | undefined,
): Promise<SendResult> {
  const ctx = email?.context;
  if (!ctx) {
    return {
      ok: false,
      retryable: false,
      status: 0,
      code: null,
      reason: "There is no email to reply to in this conversation.",
      retryAfterSeconds: null,
    };
  }
  if (!isPlainAddress(thread.customerId) || !isPlainAddress(ctx.from)) {
    // A null return path or a malformed address: nobody to answer, and retrying cannot help.
    return {
      ok: false,
      retryable: false,
      status: 0,
      code: null,
      reason: "The customer's address cannot receive a reply.",
      retryAfterSeconds: null,
    };
  }
  try {
    const mail = buildReplyEmail({
      from: { addr: ctx.from },
      to: thread.customerId,
      subject: ctx.subject || "your message",
      inReplyTo: ctx.messageId,
      references: ctx.references,
      text,
      automatic: email.automatic,
      messageIdDomain: thread.accountExternalId,
    });
    await deliverEmail(env, { from: ctx.from, to: thread.customerId, raw: mail.raw });
    return { ok: true, providerMessageId: mail.messageId };
  } catch (err) {
    log.warn("email.reply_send_failed", { tenant_id: thread.tenantId, ...errorFields(err) });
    return {
      ok: false,
      retryable: true,
      status: 0,
      code: null,
      reason: "The mail could not be handed over for sending.",
      retryAfterSeconds: null,
    };
  }
}

/** Why no automatic reply may go to these messages, or null when one may. */
export function autoReplyBlock(
  messages: TurnMessage[],
  state: EmailTurnState,
  now = Date.now(),
): string | null {
  // RFC 3834: automatic mail (vacation replies, bounces, lists, loops) is never answered.
  if (messages.every((m) => (m.email as InboundEmail | undefined)?.automatic)) return "automatic_mail";
  const last = state.lastAutoReplyAt();
  if (last !== null && now - last < AUTO_REPLY_COOLDOWN_MS) return "auto_reply_cooldown";
  return null;
}

/**
 * The metadata row says why a mail went to a person: the routing rules chose it (`relayed`), or
 * a forward or automatic reply was held back and why (`relayed_<reason>`: the subscription lapsed,
 * the sender did not authenticate, the daily cap, a loop, machine-written mail, a forward whose
 * send has an unknown outcome).
 */
function relayedAction(email: InboundEmail): string {
  return email.relayReason ? `relayed_${email.relayReason}` : "relayed";
}

/**
 * Mail the routing rules sent to the Discord inbox: relayed one by one, each at most once (a
 * retried turn skips those already through). Returns the messages left for the reply rules and
 * those relayed now, or a retry when the inbox could not be reached.
 */
export async function relayEmails(
  env: PipelineEnv,
  turn: Turn,
  state: EmailTurnState,
): Promise<
  { kind: "retry" } | { kind: "rest"; messages: TurnMessage[]; relayed: TurnMessage[]; noInbox: number }
> {
  const { thread } = turn;
  const rest: TurnMessage[] = [];
  const relayed: TurnMessage[] = [];
  let noInbox = 0;
  const rows: MessageMeta[] = [];
  for (const m of turn.messages) {
    if (m.email?.route !== "relay") {
      rest.push(m);
      continue;
    }
    if (!state.wasRelayed(m.providerMessageId)) {
      const r = await relayItem(env, {
        kind: "email",
        thread,
        providerMessageId: m.providerMessageId,
        approvalId: null,
        customerName: m.customerName,
        subject: m.subject ?? null,
        preview: m.text,
        reason: "relay",
      });
      if (!r.ok) {
        log.warn("email.relay_failed", { tenant_id: thread.tenantId, retryable: r.retryable });
        if (r.retryable) {
          if (rows.length) await recordMessages(env.DB, rows);
          return { kind: "retry" };
        }
      }
      state.markRelayed(m.providerMessageId);
      relayed.push(m);
      if (r.ok && !r.relayed) noInbox += 1;
      rows.push({
        tenantId: thread.tenantId,
        accountId: thread.accountId,
        channel: "email",
        direction: "inbound",
        providerMessageId: m.providerMessageId,
        conversationId: turn.conversationId,
        senderId: thread.customerId,
        recipientId: thread.accountExternalId,
        action: !r.ok ? "relay_failed" : !r.relayed ? "relay_no_inbox" : relayedAction(m.email),
        ruleId: m.email.ruleId,
        at: m.sentAt,
        kind: m.kind,
        hasAttachment: m.hasAttachment,
      });
    }
  }
  if (rows.length) await recordMessages(env.DB, rows);
  return { kind: "rest", messages: rest, relayed, noInbox };
}

/**
 * Mail for a person reached the live inbox only (the tenant has no Discord inbox): the tenant is
 * told, once per conversation (handoff.ts sends the notice after the turn, with retries), so the
 * mail does not wait there unseen.
 */
export function pageForMail(store: ConversationStore, conversationId: string): void {
  if (store.get("mail_paged_for") === conversationId) return;
  store.set("mail_paged_for", conversationId);
  store.set("mail_notice_pending", "1");
}
