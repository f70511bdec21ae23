import { DurableObject } from "cloudflare:workers";
import type {
  AcceptInput,
  ControlResult,
  ConversationControl,
  ConversationView,
  HumanReplyInput,
  HumanReplyResult,
} from "@concierge/core";
import type { PipelineEnv } from "../env.ts";
import { BACKSTOP_MS, acceptMessage } from "./accept.ts";
import { onAlarm, retryStuckAlarm } from "./alarm.ts";
import { controlThread, conversationView } from "./control.ts";
import { resolveHandoff } from "./handoff.ts";
import type { ConversationHost } from "./host.ts";
import { draftOutcome, dropDraft, readDraft, sendDraft, sendHumanReply } from "./person.ts";
import { ConversationStore } from "./store.ts";

/**
 * One customer thread: the single point of serialization for de-duplication, the reply buffer
 * and the conversation's state. Storage is SQLite (store.ts), whose synchronous API lets the
 * duplicate check and the insert happen with nothing in between.
 *
 * This class is the wiring only: its RPC methods and alarm delegate to the modules beside it
 * (accept.ts, alarm.ts → turn.ts, person.ts, handoff.ts), which reach the object through
 * `ConversationHost`.
 */
/**
 * Longer than any turn can take (the model's 20 s timeout, sends with their retries, D1): a turn
 * in flight this long is waiting on a call that will never answer.
 */
const STUCK_TURN_MS = 5 * 60_000;

export class ConversationDO extends DurableObject<PipelineEnv> {
  private readonly host: ConversationHost;
  /** See `ConversationHost.purged`. */
  private purged = false;

  constructor(ctx: DurableObjectState, env: PipelineEnv) {
    super(ctx, env);
    // Creates or migrates the schema once per version; otherwise only reads the version.
    const store = new ConversationStore(ctx.storage);
    const purged = () => this.purged;
    this.host = {
      env,
      store,
      get purged() {
        return purged();
      },
      arm: async (at) => {
        if (!this.purged) await ctx.storage.setAlarm(at);
      },
      alarmArmed: async () => (await ctx.storage.getAlarm()) !== null,
      alarmAt: () => ctx.storage.getAlarm(),
      purge: () => this.purge(),
      forget: async () => {
        await ctx.storage.deleteAlarm();
        await ctx.storage.deleteAll();
        // deleteAll took the tables too: the schema is back at once, empty, as a restart would
        // make it, so that this instance can take the customer's next message.
        store.ensureSchema();
      },
    };
  }

  async accept(input: AcceptInput): Promise<{ status: "accepted" | "duplicate" | "unknown_account" }> {
    const { status, turnNow } = await acceptMessage(this.host, input);
    // A 0 s buffer: the turn starts now instead of one alarm hop later. The answer above goes out
    // once the accept's writes are durable (the output gate), and so does anything the turn sends;
    // the alarm accept armed stays the backstop should this invocation end first.
    if (turnNow) this.ctx.waitUntil(this.turnNow());
    return { status };
  }

  override alarm(): Promise<void> {
    if (this.busySince !== null) {
      // A turn is in flight. Past STUCK_TURN_MS (far longer than any turn: a call that never
      // answers) it must not hold every later alarm behind it, so this one runs beside it: the
      // outbox and the debit's reference keep that from sending or charging twice. Before
      // that, this alarm does not queue behind it either: it comes back a backstop later, and
      // the turn re-arms for whatever it leaves.
      if (Date.now() - this.busySince > STUCK_TURN_MS) return onAlarm(this.host);
      return this.host.arm(Date.now() + BACKSTOP_MS);
    }
    return this.oneAtATime(() => onAlarm(this.host));
  }

  /** The turn of a 0 s buffer, in the accepting invocation (accept.ts `turnNow`). */
  private turnNow(): Promise<void> {
    return this.oneAtATime(() => onAlarm(this.host));
  }

  /** The turn in flight (a 0 s buffer's, or the alarm's): the next waits for it. */
  private running: Promise<void> = Promise.resolve();

  /** When the turn in flight started; null when none is. */
  private busySince: number | null = null;

  /**
   * The alarm and a 0 s buffer's turn never run side by side in this object (but see `alarm`
   * for one stuck past STUCK_TURN_MS): an alarm that fires while a turn runs (the backstop, a
   * long model call) comes back a backstop later instead; a second message's turn waits for the
   * first's.
   */
  private oneAtATime(run: () => Promise<void>): Promise<void> {
    const go = async () => {
      this.busySince = Date.now();
      try {
        await run();
      } finally {
        this.busySince = null;
      }
    };
    const next = this.running.then(go, go);
    this.running = next.catch(() => {});
    return next;
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

  /** The held draft's text, for the person deciding (the dashboard or the Discord inbox). */
  readDraft(approvalId: string): Promise<string | null> {
    return readDraft(this.host, approvalId);
  }

  /** Sends an approved draft (or the person's edit of it), at most once. */
  sendDraft(
    approvalId: string,
    editedText: string | null,
    ruleId: string | null = null,
  ): Promise<{ ok: true } | { ok: false; retryable: boolean; reason: string }> {
    return sendDraft(this.host, approvalId, editedText, ruleId);
  }

  /** A person's reply, at most once per request id, while the channel's window is open. */
  sendHumanReply(input: HumanReplyInput): Promise<HumanReplyResult> {
    return sendHumanReply(this.host, input);
  }

  /**
   * A person resolved the handoff: the holding pattern or the silence ends (a pause too), rules
   * apply again, the same as the inbox's hand back.
   */
  async resolveHandoff(): Promise<{ wasInHandoff: boolean }> {
    if (this.purged) return { wasInHandoff: false };
    const was = this.host.store.get("handoff_since") !== null;
    const r = await controlThread(this.host, { action: "hand_back" }, "person");
    return { wasInHandoff: r.ok ? was : resolveHandoff(this.host.store).wasInHandoff };
  }

  /** The live inbox: this thread opened for the signed-in tenant (null: it holds nothing). */
  inboxView(): Promise<ConversationView | null> {
    return conversationView(this.host);
  }

  /** Take over, hand back, or pause the bot (the live inbox, the Discord inbox). */
  control(control: ConversationControl, actor: string): Promise<ControlResult> {
    return controlThread(this.host, control, actor);
  }

  /** The cron wakes an object whose alarm gave up after failing (alarm.ts). */
  retryStuckAlarm(): Promise<{ rearmed: boolean }> {
    return retryStuckAlarm(this.host);
  }

  /** Whether an approved draft went out, for the sweep of approvals stuck in `sending`. */
  async draftOutcome(approvalId: string): Promise<{ delivery: "sent" | "not_sent"; held: boolean }> {
    return draftOutcome(this.host, approvalId);
  }

  /** A rejected or expired draft's text leaves storage. */
  async dropDraft(approvalId: string): Promise<void> {
    dropDraft(this.host, approvalId);
  }
}
