import type { ChatMessage } from "@concierge/ai";
import type { MessageKind, Thread } from "@concierge/core";
import { encryptString } from "@concierge/crypto";
import type { RelayRequest } from "../channels/discord/relay.ts";
import { openSealed, tenantKey } from "../tenants/keys.ts";
import type { EmailReplyContext } from "./email-turn.ts";
import type { ConversationStore, PendingMessage, QueuedRelay } from "./store.ts";
import type { KeptReply, TurnMessage } from "./types.ts";

type KeyEnv = { DB: D1Database; ENCRYPTION_KEY: string };

/**
 * Every piece of message text a thread keeps, sealed with the tenant's newest key on the way in
 * and opened with whichever version sealed it on the way out (ARCHITECTURE §5). Each kind is
 * bound to its place by the associated data, so a value moved elsewhere does not open:
 * the thread key for pending messages, `<thread>:history`, `<thread>:draft:<approval>`,
 * `<thread>:reply:<turn>`, `<thread>:email`, `<thread>:relay:<item>`, `<thread>:person`.
 */
export class SealedThread {
  private readonly env: KeyEnv;
  readonly store: ConversationStore;
  readonly thread: Thread;

  constructor(env: KeyEnv, store: ConversationStore, thread: Thread) {
    this.env = env;
    this.store = store;
    this.thread = thread;
  }

  private async seal(text: string, aad: string): Promise<string> {
    const key = await tenantKey(this.env, this.thread.tenantId);
    return encryptString(key.key, key.version, text, aad);
  }

  private open(sealed: string, aad: string): Promise<string> {
    return openSealed(this.env, this.thread.tenantId, sealed, aad);
  }

  /** The buffered messages' text, as sealed by the ingress (`{ text, customerName, … }`). */
  openPending(rows: PendingMessage[]): Promise<TurnMessage[]> {
    return Promise.all(
      rows.map(async (p) => {
        const opened = JSON.parse(await this.open(p.sealed, this.thread.key)) as {
          text: string;
          customerName: string | null;
          attachment?: { type: string } | null;
          subject?: string | null;
          email?: TurnMessage["email"];
        };
        return {
          ...(opened.email ? { subject: opened.subject ?? null, email: opened.email } : {}),
          providerMessageId: p.providerMessageId,
          text: opened.text,
          customerName: opened.customerName,
          sentAt: p.sentAt,
          kind: p.kind as MessageKind,
          hasAttachment: p.hasAttachment,
          attachmentType: opened.attachment?.type ?? null,
        };
      }),
    );
  }

  /**
   * The recent turns, oldest first, as the AI sees them. An entry is one turn's messages (an
   * array); entries written before that held one message each.
   */
  async history(): Promise<ChatMessage[]> {
    const aad = `${this.thread.key}:history`;
    const entries = await Promise.all(
      this.store
        .history()
        .map(async (s) => JSON.parse(await this.open(s, aad)) as ChatMessage | ChatMessage[]),
    );
    return entries.flat();
  }

  /**
   * Adds messages outside a turn (a person's reply) to the history as one entry, sealed once and
   * written as one row (the object's storage bills each row written); the history keeps the
   * newest `historyTurns` entries.
   */
  async remember(messages: ChatMessage[], historyTurns: number): Promise<void> {
    if (messages.length === 0) return;
    this.store.appendHistory([await this.sealEntry(messages)], historyTurns);
  }

  /**
   * Adds the turn's messages (the customer's and the reply) to the history as one entry, written
   * when the turn finishes in place of its last message's row (store `stageHistory`): no row of
   * its own.
   */
  async rememberTurn(turnId: string, messages: ChatMessage[], historyTurns: number): Promise<void> {
    if (messages.length === 0) return;
    this.store.stageHistory(turnId, await this.sealEntry(messages), historyTurns);
  }

  private sealEntry(messages: ChatMessage[]): Promise<string> {
    return this.seal(JSON.stringify(messages), `${this.thread.key}:history`);
  }

  /** Keeps a draft until a person approves, edits or rejects it. */
  async holdDraft(approvalId: string, text: string, replyTo: string): Promise<void> {
    const sealed = await this.seal(text, `${this.thread.key}:draft:${approvalId}`);
    this.store.putDraft(approvalId, sealed, replyTo, Date.now());
  }

  /** The held draft's text and the message it answers, or null when it is gone. */
  async draft(approvalId: string): Promise<{ text: string; replyTo: string } | null> {
    const row = this.store.draft(approvalId);
    if (!row) return null;
    return {
      text: await this.open(row.sealed, `${this.thread.key}:draft:${approvalId}`),
      replyTo: row.replyTo,
    };
  }

  /** The reply an earlier attempt of this turn could not send yet. */
  async keptReply(turnId: string): Promise<KeptReply | null> {
    const sealed = this.store.get("kept_reply");
    if (!sealed) return null;
    return JSON.parse(await this.open(sealed, `${this.thread.key}:reply:${turnId}`)) as KeptReply;
  }

  /** Keeps the reply for the turn's next attempt; the turn's end forgets it. */
  async keepReply(turnId: string, reply: KeptReply): Promise<void> {
    this.store.set(
      "kept_reply",
      await this.seal(JSON.stringify(reply), `${this.thread.key}:reply:${turnId}`),
    );
  }

  /** The email reply context of the customer's newest mail, for a person's reply. */
  async emailContext(): Promise<EmailReplyContext | null> {
    const sealed = this.thread.channel === "email" ? this.store.get("email_ctx") : null;
    if (!sealed) return null;
    return JSON.parse(await this.open(sealed, `${this.thread.key}:email`)) as EmailReplyContext;
  }

  async keepEmailContext(context: EmailReplyContext): Promise<void> {
    this.store.set("email_ctx", await this.seal(JSON.stringify(context), `${this.thread.key}:email`));
  }

  /**
   * Mail the routing rules sent to a person (never answered automatically), kept for the live
   * inbox only: apart from the history, so no AI turn reads or answers it. The newest 20, until
   * the conversation goes idle.
   */
  async keepForPerson(messages: { text: string; at: number }[]): Promise<void> {
    const kept = [...(await this.forPerson()), ...messages].slice(-20);
    this.store.set("person_mail", await this.seal(JSON.stringify(kept), `${this.thread.key}:person`));
  }

  async forPerson(): Promise<{ text: string; at: number }[]> {
    const sealed = this.store.get("person_mail");
    if (!sealed) return [];
    return JSON.parse(await this.open(sealed, `${this.thread.key}:person`)) as { text: string; at: number }[];
  }

  /** Queues an inbox item under its deterministic id; the item keeps its own sealed copy. */
  async queueRelay(id: string, req: RelayRequest): Promise<void> {
    const sealed = await this.seal(JSON.stringify(req), `${this.thread.key}:relay:${id}`);
    this.store.queueRelay(id, sealed, Date.now());
  }

  async openRelay(row: QueuedRelay): Promise<RelayRequest> {
    return JSON.parse(await this.open(row.sealed, `${this.thread.key}:relay:${row.id}`)) as RelayRequest;
  }
}
