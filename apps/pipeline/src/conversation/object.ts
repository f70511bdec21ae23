import { DurableObject } from "cloudflare:workers";
import { type Channel, type MessageKind, createLogger, errorBody, errorFields, newId } from "@concierge/core";
import type { ChatMessage } from "@concierge/ai";
import { encryptString } from "@concierge/crypto";
import { recordMessages } from "@concierge/storage";
import { type HandoffPhase, type Turn, type TurnMessage, runTurn, send } from "./turn.ts";
import type { PipelineEnv } from "./env.ts";
import { openSealed, tenantKey } from "./keys.ts";
import { maskCustomer, notifyTenant, tenantSettings } from "./notify.ts";
import { type RelayRequest, relayId, relayItem } from "./relay.ts";
import { type KeptReply, humanReplyWindowMs, serviceWindowMs } from "./outbound.ts";
import { type EmailReplyContext, type EmailTurnState, replyContextOf } from "./email-turn.ts";

const log = createLogger("pipeline.conversation");

export type Thread = {
  key: string;
  tenantId: string;
  accountId: string;
  channel: Channel;
  accountExternalId: string;
  customerId: string;
};

export type AcceptInput = {
  thread: Thread;
  providerMessageId: string;
  /** `{ text, customerName, subject }` sealed with the tenant key, bound to the thread key. */
  sealed: string;
  sentAt: number;
  kind: MessageKind;
  hasAttachment: boolean;
  waitSeconds: number;
};

/** How long a provider message id is remembered for de-duplication; Meta retries for days. */
const SEEN_TTL_MS = 7 * 24 * 3600_000;
/** However long a burst goes on, its first message is answered within this. */
const MAX_BUFFER_MS = 30_000;
/** PRODUCT.md §3 defaults, used until the tenant's own settings are read. */
const DEFAULTS = { idleGapMinutes: 360, handoffCooldownMinutes: 60, historyTurns: 20 };
type Timing = typeof DEFAULTS;
/** A page that could not be delivered is tried again after this long. */
const PAGE_RETRY_MS = 60_000;
/**
 * Attempts at posting an inbox item, a minute apart: within the few minutes Discord honours a
 * message's nonce, so a retry after an unknown outcome never posts twice.
 */
const RELAY_ATTEMPTS = 4;
/** What a turn did that decides its inbox item. */
type TurnFacts = {
  phase: HandoffPhase;
  handoffStarted: boolean;
  held: { approvalId: string; text: string; reasons: string[] } | null;
};
/** A turn that keeps failing is retried with backoff for this long, then given up (and logged). */
const GIVE_UP_AFTER_MS = 24 * 3600_000;

export type HumanReplyInput = {
  text: string;
  actor: string;
  requestId: string;
  /**
   * The Discord install's choice after a person's reply: `silent` hands the conversation to the
   * person (no automatic reply, handoff or not, until resolved or idle), `keep` leaves automatic
   * replies as they were. Unset (dashboard): a handoff in progress goes silent.
   */
  afterReply?: "silent" | "keep";
};
export type HumanReplyResult =
  | { ok: true; providerMessageId: string | null }
  | { ok: false; error: { code: string; message: string } };

const OUTSIDE_WINDOW = errorBody(
  "outside_window",
  "More than 24 hours have passed since the customer's last message, so WhatsApp no longer accepts a free-form reply; it allows only template messages now. The conversation reopens when the customer writes again.",
);

const INSTAGRAM_OUTSIDE_WINDOW = errorBody(
  "outside_window",
  "More than 7 days have passed since the customer's last message, so Instagram no longer accepts a reply, even from a person. The conversation reopens when the customer writes again.",
);

const outsideWindow = (channel: Channel) =>
  channel === "instagram" ? INSTAGRAM_OUTSIDE_WINDOW : OUTSIDE_WINDOW;

type PendingRow = {
  seq: number;
  provider_message_id: string;
  sealed: string;
  sent_at: number;
  kind: string;
  has_attachment: number;
  accepted_at: number;
};

/**
 * One customer thread: the single point of serialization for de-duplication, the reply buffer
 * and the conversation's state. Storage is SQLite, whose synchronous API lets the duplicate check
 * and the insert happen with nothing in between.
 */
export class ConversationDO extends DurableObject<PipelineEnv> {
  private readonly sql: SqlStorage;
  /**
   * Set when the tenant was deleted and this object purged: work still in flight (a turn awaiting
   * the model) must neither write again nor re-arm the alarm. Its tables are gone as well, so any
   * write it attempts fails instead of re-creating data.
   */
  private purged = false;

  constructor(ctx: DurableObjectState, env: PipelineEnv) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS seen (provider_message_id TEXT PRIMARY KEY, at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS pending (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        provider_message_id TEXT NOT NULL,
        sealed TEXT NOT NULL,
        sent_at INTEGER NOT NULL,
        kind TEXT NOT NULL,
        has_attachment INTEGER NOT NULL,
        accepted_at INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS state (k TEXT PRIMARY KEY, v TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS history (seq INTEGER PRIMARY KEY AUTOINCREMENT, sealed TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS drafts (
        approval_id TEXT PRIMARY KEY, sealed TEXT NOT NULL, reply_to TEXT NOT NULL, created_at INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS relay_queue (
        id TEXT PRIMARY KEY, sealed TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS outbox (
        turn_id TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        provider_message_id TEXT,
        updated_at INTEGER NOT NULL
      );
    `);
  }

  private get(k: string): string | null {
    const row = this.sql.exec<{ v: string }>("SELECT v FROM state WHERE k = ?", k).toArray()[0];
    return row ? row.v : null;
  }

  private set(k: string, v: string): void {
    this.sql.exec(
      "INSERT INTO state (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v",
      k,
      v,
    );
  }

  async accept(input: AcceptInput): Promise<{ status: "accepted" | "duplicate" | "unknown_account" }> {
    // The tenant is being deleted (a lookup cached elsewhere can still lead here): refuse.
    if (this.purged) return { status: "unknown_account" };
    const now = Date.now();
    // No await between the check and the inserts: no other request can interleave here.
    const dup = this.sql
      .exec("SELECT 1 FROM seen WHERE provider_message_id = ?", input.providerMessageId)
      .toArray().length;
    if (dup) return { status: "duplicate" };
    this.sql.exec("INSERT INTO seen (provider_message_id, at) VALUES (?, ?)", input.providerMessageId, now);
    this.sql.exec(
      "INSERT INTO pending (provider_message_id, sealed, sent_at, kind, has_attachment, accepted_at) VALUES (?, ?, ?, ?, ?, ?)",
      input.providerMessageId,
      input.sealed,
      input.sentAt,
      input.kind,
      input.hasAttachment ? 1 : 0,
      now,
    );
    if (!this.get("thread")) this.set("thread", JSON.stringify(input.thread));
    this.set("wait_ms", String(input.waitSeconds * 1000));
    // The customer-service window runs from the customer's own send time (a redelivery hours
    // later must not reopen it), never from a time in the future.
    const inboundAt = Math.min(input.sentAt, now);
    if (inboundAt > Number(this.get("last_inbound_at") ?? 0)) this.set("last_inbound_at", String(inboundAt));
    // Sliding window: each message pushes the turn back, but never past MAX_BUFFER_MS after the first.
    // A turn that is being retried keeps its backoff (and the provider's Retry-After); this
    // message gets its own turn when that one is done.
    if (this.get("turn_seq") === null) {
      const first = this.sql.exec<{ at: number }>("SELECT MIN(accepted_at) AS at FROM pending").one().at;
      await this.arm(Math.min(now + input.waitSeconds * 1000, first + MAX_BUFFER_MS));
    }
    // The output gate holds this reply until the writes above are durable.
    return { status: "accepted" };
  }

  override async alarm(): Promise<void> {
    if (this.purged) return;
    try {
      await this.runAlarm();
    } catch (err) {
      if (this.purged) return;
      // Whatever failed outside a turn (reading settings, paging, scheduling): never leave the
      // object without a next alarm, or accepted messages would wait for the next customer word.
      log.error("alarm.failed", errorFields(err));
      await this.arm(Date.now() + PAGE_RETRY_MS);
    }
  }

  /** Every alarm goes through here: a purged object never arms one again. */
  private async arm(at: number): Promise<void> {
    if (!this.purged) await this.ctx.storage.setAlarm(at);
  }

  /**
   * The tenant is deleted: everything this thread holds (pending messages, history, drafts,
   * de-duplication ids, state) and its alarm go, at once. Safe to call again, or on an object that
   * never held anything.
   */
  async purge(): Promise<void> {
    this.purged = true;
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
  }

  private async runAlarm(): Promise<void> {
    const threadJson = this.get("thread");
    if (threadJson) {
      const { tenantId, accountId } = JSON.parse(threadJson) as Thread;
      if (!(await tenantSettings(this.env, tenantId))) {
        // The tenant was deleted after this object accepted something the deletion could not see
        // (no metadata yet). Nothing of it may stay, and nothing re-arms.
        log.info("conversation.tenant_gone", { tenant_id: tenantId, account_id: accountId });
        return this.purge();
      }
    }
    // A turn keeps the messages it started with across retries: its id, outbox row and credit
    // reference stay the same even when more messages arrive meanwhile.
    const fixed = this.get("turn_seq");
    const pending = this.sql
      .exec<PendingRow>(
        "SELECT * FROM pending WHERE seq <= ? ORDER BY seq",
        fixed === null ? Number.MAX_SAFE_INTEGER : Number(fixed),
      )
      .toArray();
    if (!threadJson || pending.length === 0) {
      this.sql.exec("DELETE FROM state WHERE k = 'turn_seq'");
      return this.expireIfIdle();
    }
    const thread = JSON.parse(threadJson) as Thread;
    const timing = await this.timing(thread);
    const lastSeq = pending[pending.length - 1]!.seq;
    this.set("turn_seq", String(lastSeq));
    const turnId = `turn:${lastSeq}`;
    try {
      const turn = await this.buildTurn(thread, pending, turnId, timing);
      const key = await tenantKey(this.env, thread.tenantId);
      const facts: TurnFacts = {
        phase: this.handoffPhase(Date.now(), timing),
        handoffStarted: false,
        held: null,
      };
      const outcome = await runTurn(this.env, turn, {
        history: await this.history(thread),
        handoff: facts.phase,
        attempt: Number(this.get("attempts") ?? 0),
        outboxStatus: () => this.outboxStatus(turnId),
        markSending: () => this.markOutbox(turnId, "sending"),
        markSent: (id) => this.markOutbox(turnId, "sent", id),
        markFailed: () => this.markOutbox(turnId, "failed"),
        startHandoff: () => {
          facts.handoffStarted = true;
          this.set("handoff_since", String(Date.now()));
          // Paged once per handoff; delivered after the turn, retried until it gets through.
          this.set("page_pending", turn.conversationId);
          log.info("handoff.started", {
            tenant_id: thread.tenantId,
            account_id: thread.accountId,
            turn_id: turnId,
          });
        },
        holdDraft: async (approvalId, text, replyTo, reasons) => {
          facts.held = { approvalId, text, reasons: reasons ?? [] };
          const sealed = await encryptString(key.key, key.version, text, `${thread.key}:draft:${approvalId}`);
          this.sql.exec(
            "INSERT OR REPLACE INTO drafts (approval_id, sealed, reply_to, created_at) VALUES (?, ?, ?, ?)",
            approvalId,
            sealed,
            replyTo,
            Date.now(),
          );
        },
        dropDraft: (approvalId) => this.dropDraft(approvalId),
        markHeld: () => this.markOutbox(turnId, "held"),
        ...(thread.channel === "email" ? { email: this.emailState() } : {}),
        remember: (messages) => this.remember(thread, messages, timing),
        keptReply: async () => {
          const sealed = this.get("kept_reply");
          if (!sealed) return null;
          return JSON.parse(
            await openSealed(this.env, thread.tenantId, sealed, `${thread.key}:reply:${turnId}`),
          ) as KeptReply;
        },
        keepReply: async (reply) => {
          const json = JSON.stringify(reply);
          this.set(
            "kept_reply",
            await encryptString(key.key, key.version, json, `${thread.key}:reply:${turnId}`),
          );
        },
      });
      if (outcome.kind === "retry")
        return this.retryLater(pending[0]!.accepted_at, outcome.afterMs, thread, lastSeq);
      // Before the turn's messages leave storage: the inbox item keeps its own sealed copy.
      await this.queueRelay(turn, facts);
      this.finishTurn(lastSeq, turnId);
    } catch (err) {
      // Purged while the turn ran (the tenant was deleted): its tables are gone, hence the failure.
      if (this.purged) return;
      log.error("turn.failed", {
        ...errorFields(err),
        tenant_id: thread.tenantId,
        account_id: thread.accountId,
      });
      return this.retryLater(pending[0]!.accepted_at, null, thread, lastSeq);
    }
    if (this.purged) return;
    await this.flushRelays(thread);
    await this.flushPage(thread);
    await this.afterTurn(timing);
  }

  private async buildTurn(
    thread: Thread,
    pending: PendingRow[],
    turnId: string,
    timing: Timing,
  ): Promise<Turn> {
    const messages = await Promise.all(
      pending.map(async (p) => {
        const opened = JSON.parse(await openSealed(this.env, thread.tenantId, p.sealed, thread.key)) as {
          text: string;
          customerName: string | null;
          attachment?: { type: string } | null;
          subject?: string | null;
          email?: TurnMessage["email"];
        };
        return {
          ...(opened.email ? { subject: opened.subject ?? null, email: opened.email } : {}),
          providerMessageId: p.provider_message_id,
          text: opened.text,
          customerName: opened.customerName,
          sentAt: p.sent_at,
          kind: p.kind as MessageKind,
          hasAttachment: p.has_attachment === 1,
          attachmentType: opened.attachment?.type ?? null,
        };
      }),
    );
    const newest = messages[messages.length - 1];
    const context = newest ? replyContextOf(newest) : null;
    if (context) {
      // A person's later reply (Discord, dashboard) threads under the customer's newest mail.
      const key = await tenantKey(this.env, thread.tenantId);
      this.set(
        "email_ctx",
        await encryptString(key.key, key.version, JSON.stringify(context), `${thread.key}:email`),
      );
    }
    return { id: turnId, thread, conversationId: this.conversationId(Date.now(), timing), messages };
  }

  /** The email reply context of the customer's newest mail, for a person's reply. */
  private async emailContext(thread: Thread): Promise<EmailReplyContext | null> {
    const sealed = thread.channel === "email" ? this.get("email_ctx") : null;
    if (!sealed) return null;
    return JSON.parse(
      await openSealed(this.env, thread.tenantId, sealed, `${thread.key}:email`),
    ) as EmailReplyContext;
  }

  /** Per sender and subdomain, as this object is: the auto-reply cooldown and relays done. */
  private emailState(): EmailTurnState {
    return {
      lastAutoReplyAt: () => {
        const at = this.get("last_auto_reply_at");
        return at === null ? null : Number(at);
      },
      markAutoReplied: (at) => this.set("last_auto_reply_at", String(at)),
      wasRelayed: (id) => this.get(`relayed:${id}`) !== null,
      markRelayed: (id) => this.set(`relayed:${id}`, "1"),
    };
  }

  private async timing(thread: Thread): Promise<Timing> {
    return (await tenantSettings(this.env, thread.tenantId)) ?? DEFAULTS;
  }

  /** Pages the tenant about a handoff once; on failure the alarm tries again shortly, 10 times. */
  private async flushPage(thread: Thread): Promise<void> {
    const conversationId = this.get("page_pending");
    if (!conversationId) return;
    const attempts = Number(this.get("page_attempts") ?? 0) + 1;
    this.set("page_attempts", String(attempts));
    if (attempts > 10) {
      log.error("handoff.page_given_up", { tenant_id: thread.tenantId, account_id: thread.accountId });
      this.sql.exec("DELETE FROM state WHERE k IN ('page_pending', 'page_attempts')");
      return;
    }
    const delivered = await notifyTenant(this.env, thread.tenantId, {
      kind: "handoff",
      channel: thread.channel,
      customer: maskCustomer(thread.customerId),
      conversation: conversationId,
      relayedTo: this.get("handoff_relayed_to"),
    });
    if (delivered) {
      this.sql.exec("DELETE FROM state WHERE k IN ('page_pending', 'page_attempts', 'handoff_relayed_to')");
    }
  }

  /**
   * What the turn calls for in the Discord inbox: the held draft, the handoff it started (or the
   * handoff it arrived in), or, for tenants relaying everything, the message itself. Queued sealed
   * (the text stays in this object) and posted after the turn; never fails the turn.
   */
  private async queueRelay(turn: Turn, facts: TurnFacts): Promise<void> {
    const { thread } = turn;
    // Mail the routing rules relayed is in the inbox already (email-turn.ts).
    const messages = turn.messages.filter((m) => m.email?.route !== "relay");
    const last = messages[messages.length - 1];
    if (!last) return;
    const base = {
      thread,
      providerMessageId: last.providerMessageId,
      customerName: [...messages].reverse().find((m) => m.customerName)?.customerName ?? null,
      subject: last.subject ?? null,
      preview: messages
        .map((m) => m.text)
        .filter(Boolean)
        .join("\n"),
    };
    const req: RelayRequest = facts.held
      ? {
          ...base,
          kind: "approval",
          approvalId: facts.held.approvalId,
          reason: facts.held.reasons.join(","),
          draft: facts.held.text,
        }
      : facts.handoffStarted || facts.phase !== "none"
        ? { ...base, kind: "handoff", approvalId: null, reason: "handoff" }
        : { ...base, kind: "message", approvalId: null, reason: "all" };
    try {
      const id = await relayId(req);
      const key = await tenantKey(this.env, thread.tenantId);
      const sealed = await encryptString(
        key.key,
        key.version,
        JSON.stringify(req),
        `${thread.key}:relay:${id}`,
      );
      this.sql.exec(
        "INSERT OR IGNORE INTO relay_queue (id, sealed, created_at) VALUES (?, ?, ?)",
        id,
        sealed,
        Date.now(),
      );
    } catch (err) {
      log.error("relay.queue_failed", { ...errorFields(err), tenant_id: thread.tenantId, kind: req.kind });
    }
  }

  private relaysQueued(): boolean {
    return this.sql.exec("SELECT 1 FROM relay_queue LIMIT 1").toArray().length > 0;
  }

  /** Posts queued inbox items; a retryable failure waits for the next alarm, a few times. */
  private async flushRelays(thread: Thread): Promise<void> {
    const rows = this.sql
      .exec<{ id: string; sealed: string; attempts: number }>("SELECT id, sealed, attempts FROM relay_queue")
      .toArray();
    for (const row of rows) {
      const fields = { tenant_id: thread.tenantId, account_id: thread.accountId, relay_id: row.id };
      try {
        const req = JSON.parse(
          await openSealed(this.env, thread.tenantId, row.sealed, `${thread.key}:relay:${row.id}`),
        ) as RelayRequest;
        const r = await relayItem(this.env, req);
        if (r.ok && r.relayed && req.kind === "handoff" && r.channelId) {
          this.set("handoff_relayed_to", r.channelId);
        }
        if (r.ok || !r.retryable || row.attempts + 1 >= RELAY_ATTEMPTS) {
          if (!r.ok) log.error("relay.given_up", { ...fields, attempts: row.attempts + 1 });
          this.sql.exec("DELETE FROM relay_queue WHERE id = ?", row.id);
        } else {
          this.sql.exec("UPDATE relay_queue SET attempts = attempts + 1 WHERE id = ?", row.id);
        }
      } catch (err) {
        if (this.purged) return;
        log.error("relay.flush_failed", { ...errorFields(err), ...fields });
        this.sql.exec("UPDATE relay_queue SET attempts = attempts + 1 WHERE id = ?", row.id);
        this.sql.exec("DELETE FROM relay_queue WHERE id = ? AND attempts >= ?", row.id, RELAY_ATTEMPTS);
      }
    }
  }

  private async remember(thread: Thread, messages: ChatMessage[], timing?: Timing): Promise<void> {
    const historyTurns = (timing ?? (await this.timing(thread))).historyTurns;
    const key = await tenantKey(this.env, thread.tenantId);
    for (const m of messages) {
      const sealed = await encryptString(key.key, key.version, JSON.stringify(m), `${thread.key}:history`);
      this.sql.exec("INSERT INTO history (sealed) VALUES (?)", sealed);
    }
    this.sql.exec(
      "DELETE FROM history WHERE seq NOT IN (SELECT seq FROM history ORDER BY seq DESC LIMIT ?)",
      historyTurns * 2,
    );
  }

  private thread(): Thread | null {
    const json = this.get("thread");
    return json ? (JSON.parse(json) as Thread) : null;
  }

  /** The held draft's text, for the person deciding (the dashboard or the Discord inbox). */
  async readDraft(approvalId: string): Promise<string | null> {
    if (this.purged) return null;
    const thread = this.thread();
    const row = this.sql
      .exec<{ sealed: string }>("SELECT sealed FROM drafts WHERE approval_id = ?", approvalId)
      .toArray()[0];
    if (!thread || !row) return null;
    return openSealed(this.env, thread.tenantId, row.sealed, `${thread.key}:draft:${approvalId}`);
  }

  /**
   * Sends an approved draft (or the person's edit of it) to the customer, at most once: the
   * outbox row of the approval stops a second send even if the caller retries.
   */
  async sendDraft(
    approvalId: string,
    editedText: string | null,
  ): Promise<{ ok: true } | { ok: false; retryable: boolean; reason: string }> {
    if (this.purged) return { ok: false, retryable: false, reason: "The draft is no longer here." };
    const thread = this.thread();
    const row = this.sql
      .exec<{ reply_to: string }>("SELECT reply_to FROM drafts WHERE approval_id = ?", approvalId)
      .toArray()[0];
    const outboxId = `approval:${approvalId}`;
    const status = this.outboxStatus(outboxId);
    if (status === "sent" || status === "sending") return { ok: true };
    if (!thread || !row) return { ok: false, retryable: false, reason: "The draft is no longer here." };
    const text = editedText ?? (await this.readDraft(approvalId))!;
    this.markOutbox(outboxId, "sending");
    const result = await send(this.env, thread, text, row.reply_to, {
      email: { context: await this.emailContext(thread), automatic: false },
    });
    if (!result.ok && result.unknown) {
      // Possibly delivered: treat as sent (never twice), and say so in the logs.
      log.warn("approval.send_outcome_unknown", { tenant_id: thread.tenantId, approval_id: approvalId });
      this.sql.exec("DELETE FROM drafts WHERE approval_id = ?", approvalId);
      return { ok: true };
    }
    if (!result.ok) {
      this.markOutbox(outboxId, "failed");
      return { ok: false, retryable: result.retryable, reason: result.reason };
    }
    this.markOutbox(outboxId, "sent", result.providerMessageId);
    this.sql.exec("DELETE FROM drafts WHERE approval_id = ?", approvalId);
    await recordMessages(this.env.DB, [
      {
        tenantId: thread.tenantId,
        accountId: thread.accountId,
        channel: thread.channel,
        conversationId: this.get("conversation_id"),
        ruleId: null,
        direction: "outbound",
        providerMessageId: result.providerMessageId,
        senderId: thread.accountExternalId,
        recipientId: thread.customerId,
        action: editedText === null ? "approved_reply" : "edited_reply",
        at: Date.now(),
      },
    ]);
    await this.remember(thread, [{ role: "assistant", content: text }]);
    return { ok: true };
  }

  /**
   * A person's reply (dashboard, Discord inbox), sent at once if the channel's customer-service
   * window is open, at most once per `requestId`. During a handoff the holding voice stops: the
   * thread stays silent until the handoff is resolved, so no automatic reply talks over the person.
   */
  async sendHumanReply(input: HumanReplyInput): Promise<HumanReplyResult> {
    const thread = this.purged ? null : this.thread();
    if (!thread) return OUTSIDE_WINDOW;
    const now = Date.now();
    // Threads from before the window was tracked fall back on their last turn.
    const lastInbound = Number(this.get("last_inbound_at") ?? this.get("last_activity_at") ?? 0);
    const windowMs = humanReplyWindowMs(thread.channel);
    const fields = { tenant_id: thread.tenantId, account_id: thread.accountId, actor: input.actor };
    if (windowMs !== null && now - lastInbound > windowMs) {
      log.info("human_reply.outside_window", fields);
      return outsideWindow(thread.channel);
    }
    // Past the automatic window a person may still answer on Instagram, tagged as a human agent.
    const automaticMs = serviceWindowMs(thread.channel);
    const humanAgent =
      thread.channel === "instagram" && automaticMs !== null && now - lastInbound > automaticMs;
    const outboxId = `human:${input.requestId}`;
    const status = this.outboxStatus(outboxId);
    if (status === "sent" || status === "sending") {
      const row = this.sql
        .exec<{ id: string | null }>(
          "SELECT provider_message_id AS id FROM outbox WHERE turn_id = ?",
          outboxId,
        )
        .one();
      return { ok: true, providerMessageId: row.id };
    }
    this.markOutbox(outboxId, "sending");
    const result = await send(this.env, thread, input.text, undefined, {
      humanAgent,
      email: { context: await this.emailContext(thread), automatic: false },
    });
    if (!result.ok && result.unknown) {
      // Possibly delivered: never sent a second time, even if the person clicks again.
      log.warn("human_reply.send_outcome_unknown", fields);
      return { ok: true, providerMessageId: null };
    }
    const meta = (action: string, providerMessageId: string, errorCode: number | null) => ({
      tenantId: thread.tenantId,
      accountId: thread.accountId,
      channel: thread.channel,
      conversationId: this.get("conversation_id"),
      ruleId: null,
      direction: "outbound" as const,
      providerMessageId,
      senderId: thread.accountExternalId,
      recipientId: thread.customerId,
      action,
      at: Date.now(),
      errorCode,
    });
    if (!result.ok) {
      this.markOutbox(outboxId, "failed");
      log.warn("human_reply.send_failed", { ...fields, status: result.status, code: result.code });
      if (result.outsideWindow) return outsideWindow(thread.channel);
      if (result.retryable) {
        const wait = result.retryAfterSeconds ? `in ${result.retryAfterSeconds} seconds` : "in a moment";
        return errorBody("send_retryable", `The message could not be sent just now. Try again ${wait}.`);
      }
      await recordMessages(this.env.DB, [meta("send_failed", `failed:${outboxId}`, result.code)]);
      return errorBody(
        "send_failed",
        `The message could not be delivered${result.code === null ? "" : ` (error ${result.code})`}: ${result.reason}`,
      );
    }
    this.markOutbox(outboxId, "sent", result.providerMessageId);
    const silence =
      input.afterReply === "silent" || (input.afterReply === undefined && this.get("handoff_since") !== null);
    if (silence) {
      // A handoff that began at the epoch is past any cooldown: silent, until resolved or idle.
      this.set("handoff_since", "0");
      this.sql.exec("DELETE FROM state WHERE k IN ('page_pending', 'page_attempts')");
    }
    this.set("last_activity_at", String(now));
    await recordMessages(this.env.DB, [meta("human_reply", result.providerMessageId, null)]);
    await this.remember(thread, [{ role: "assistant", content: input.text }]);
    log.info("human_reply.sent", fields);
    return { ok: true, providerMessageId: result.providerMessageId };
  }

  /** A person has taken over: the holding pattern or the silence ends, and rules apply again. */
  async resolveHandoff(): Promise<{ wasInHandoff: boolean }> {
    if (this.purged) return { wasInHandoff: false };
    const was = this.get("handoff_since") !== null;
    this.sql.exec("DELETE FROM state WHERE k IN ('handoff_since', 'page_pending')");
    return { wasInHandoff: was };
  }

  /** A rejected or expired draft's text leaves storage. */
  async dropDraft(approvalId: string): Promise<void> {
    if (this.purged) return;
    this.sql.exec("DELETE FROM drafts WHERE approval_id = ?", approvalId);
  }

  /** The recent turns, oldest first, as the AI sees them. */
  private async history(thread: Thread): Promise<ChatMessage[]> {
    const rows = this.sql.exec<{ sealed: string }>("SELECT sealed FROM history ORDER BY seq").toArray();
    return Promise.all(
      rows.map(
        async (r) =>
          JSON.parse(
            await openSealed(this.env, thread.tenantId, r.sealed, `${thread.key}:history`),
          ) as ChatMessage,
      ),
    );
  }

  private handoffPhase(now: number, timing: Timing): HandoffPhase {
    const since = this.get("handoff_since");
    if (since === null) return "none";
    return now - Number(since) < timing.handoffCooldownMinutes * 60_000 ? "holding" : "silent";
  }

  /**
   * Stable within a conversation. After the idle gap a new conversation starts: a new id, and
   * the old one's history and handoff state are gone.
   */
  private conversationId(now: number, timing: Timing): string {
    const last = Number(this.get("last_activity_at") ?? 0);
    let id = this.get("conversation_id");
    if (!id || now - last > timing.idleGapMinutes * 60_000) {
      id = newId("conv");
      this.set("conversation_id", id);
      this.sql.exec("DELETE FROM history");
      this.sql.exec("DELETE FROM state WHERE k = 'handoff_since'");
    }
    this.set("last_activity_at", String(now));
    return id;
  }

  private outboxStatus(turnId: string): string | null {
    const row = this.sql
      .exec<{ status: string }>("SELECT status FROM outbox WHERE turn_id = ?", turnId)
      .toArray()[0];
    return row?.status ?? null;
  }

  private markOutbox(turnId: string, status: string, providerMessageId?: string): void {
    this.sql.exec(
      `INSERT INTO outbox (turn_id, status, attempts, provider_message_id, updated_at) VALUES (?, ?, 1, ?, ?)
       ON CONFLICT (turn_id) DO UPDATE SET status = excluded.status, attempts = attempts + (excluded.status = 'sending'),
         provider_message_id = COALESCE(excluded.provider_message_id, provider_message_id), updated_at = excluded.updated_at`,
      turnId,
      status,
      providerMessageId ?? null,
      Date.now(),
    );
  }

  /** The turn is done: its messages' text leaves storage now. */
  private finishTurn(lastSeq: number, turnId: string): void {
    this.sql.exec("DELETE FROM pending WHERE seq <= ?", lastSeq);
    this.sql.exec("DELETE FROM outbox WHERE turn_id = ?", turnId);
    this.sql.exec("DELETE FROM state WHERE k IN ('attempts', 'turn_seq', 'kept_reply')");
    this.sql.exec("DELETE FROM state WHERE k LIKE 'relayed:%'");
  }

  private async retryLater(
    firstAcceptedAt: number,
    afterMs: number | null,
    thread: Thread,
    lastSeq: number,
  ): Promise<void> {
    const attempts = Number(this.get("attempts") ?? 0) + 1;
    if (Date.now() - firstAcceptedAt > GIVE_UP_AFTER_MS) {
      // Only this turn's messages are given up; later ones still get their own turn.
      log.error("turn.given_up", { tenant_id: thread.tenantId, account_id: thread.accountId, attempts });
      this.finishTurn(lastSeq, `turn:${lastSeq}`);
      const left = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM pending").one().n;
      if (left > 0) await this.arm(Date.now());
      return;
    }
    this.set("attempts", String(attempts));
    const backoff = Math.min(2 ** attempts * 1000, 10 * 60_000);
    // A failed send brings its own schedule (jittered backoff, never before Retry-After).
    await this.arm(Date.now() + (afterMs ?? backoff));
  }

  /**
   * Messages that arrived while the turn was running get their own turn. Otherwise the next
   * alarm is the end of the idle gap, when the conversation's history is deleted.
   */
  private async afterTurn(timing: Timing): Promise<void> {
    const left = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM pending").one().n;
    if (left > 0) {
      if ((await this.ctx.storage.getAlarm()) === null) {
        await this.arm(Date.now() + Number(this.get("wait_ms") ?? 0));
      }
    } else if (this.get("page_pending") || this.relaysQueued()) {
      await this.arm(Date.now() + PAGE_RETRY_MS);
    } else {
      const last = Number(this.get("last_activity_at") ?? Date.now());
      await this.arm(last + timing.idleGapMinutes * 60_000);
    }
    this.prune();
  }

  /**
   * An alarm with nothing pending: deliver an undelivered page, and once the idle gap has
   * passed, delete the history.
   */
  private async expireIfIdle(): Promise<void> {
    const thread = this.thread();
    if (!thread) return this.prune();
    const timing = await this.timing(thread);
    await this.flushRelays(thread);
    await this.flushPage(thread);
    const last = Number(this.get("last_activity_at") ?? 0);
    const idleAt = last + timing.idleGapMinutes * 60_000;
    if (Date.now() >= idleAt) {
      this.sql.exec("DELETE FROM history");
      this.sql.exec("DELETE FROM state WHERE k = 'handoff_since'");
    }
    if (this.get("page_pending") || this.relaysQueued()) await this.arm(Date.now() + PAGE_RETRY_MS);
    else if (Date.now() < idleAt) await this.arm(idleAt);
    this.prune();
  }

  private prune(): void {
    this.sql.exec("DELETE FROM seen WHERE at < ?", Date.now() - SEEN_TTL_MS);
    // A person's double click comes within seconds; a week of guard is plenty.
    this.sql.exec(
      "DELETE FROM outbox WHERE turn_id LIKE 'human:%' AND updated_at < ?",
      Date.now() - SEEN_TTL_MS,
    );
  }
}
