import {
  type ControlResult,
  type ControlState,
  type ConversationControl,
  type ConversationView,
  type Thread,
  createLogger,
  errorBody,
  errorFields,
} from "@concierge/core";
import { saveConversationState } from "@concierge/storage";
import type { PipelineEnv } from "../env.ts";
import { handToPerson, resolveHandoff } from "./handoff.ts";
import type { ConversationHost } from "./host.ts";
import { humanReplyWindowMs, serviceWindowMs } from "./outbound.ts";
import { SealedThread } from "./sealed.ts";
import type { ConversationStore } from "./store.ts";

/**
 * Who answers a thread (issue 19 items 1 and 2): the bot, nobody while a handoff waits for a person,
 * a person who took it over, or nobody until a pause ends. The conversation object is the truth;
 * `conversation_states` in D1 mirrors it for the inbox's list, written only when it changes.
 */

const log = createLogger("pipeline.conversation");

/** Handoffs the bot starts name themselves so; anything else in `control_by` is a person. */
const BOT_ACTORS = new Set(["ai", "rule"]);

/** Whether a person paused the bot for this customer, still. */
export function pausedNow(store: ConversationStore, now = Date.now()): boolean {
  const until = store.number("paused_until");
  return until !== null && until > now;
}

/** The thread's state now, read from its own storage. */
export function controlState(
  store: ConversationStore,
  now = Date.now(),
): {
  state: ControlState;
  by: string | null;
  pausedUntil: number | null;
} {
  const by = store.get("control_by");
  if (pausedNow(store, now)) return { state: "paused", by, pausedUntil: store.number("paused_until") };
  if (store.get("handoff_since") !== null) {
    return { state: by !== null && !BOT_ACTORS.has(by) ? "taken_over" : "handed_off", by, pausedUntil: null };
  }
  return { state: "bot", by, pausedUntil: null };
}

/**
 * Writes the thread's state to the inbox's mirror: who answers apart from a pause (a handoff or a
 * takeover) and the pause's end apart from it, so the list shows the handoff again once a pause
 * over it ends. Timed when written (after any send), never earlier than the thread's previous
 * write, so a later change's write is never refused as older. A failure is logged and left: the thread holds the truth, the next change writes again.
 */
export async function mirrorState(env: PipelineEnv, thread: Thread, store: ConversationStore): Promise<void> {
  // Strictly later than this thread's last write, taken before the await: of two writes that
  // overlap (the object serves other calls while D1 answers), the later change is the newer row.
  const at = Math.max(Date.now(), (store.number("mirror_at") ?? 0) + 1);
  store.set("mirror_at", String(at));
  const by = store.get("control_by");
  const state =
    store.get("handoff_since") === null
      ? "bot"
      : by !== null && !BOT_ACTORS.has(by)
        ? "taken_over"
        : "handed_off";
  try {
    await saveConversationState(env.DB, {
      tenantId: thread.tenantId,
      accountId: thread.accountId,
      customerId: thread.customerId,
      conversationId: store.conversationId(),
      state,
      actor: by ?? "ai",
      pausedUntil: store.number("paused_until"),
      at,
    });
  } catch (err) {
    log.warn("control.mirror_failed", { ...errorFields(err), tenant_id: thread.tenantId, state });
  }
}

function threadOf(host: ConversationHost): Thread | null {
  return host.purged ? null : host.store.thread();
}

const NO_CONVERSATION = errorBody("not_found", "No such conversation.");

/**
 * A person takes the thread over (silent until handed back or idle), hands it back (a handoff or a
 * takeover ends, a pause too), or pauses the bot until `minutes` from now. Repeating an action
 * changes nothing but its time and who did it.
 */
export async function controlThread(
  host: ConversationHost,
  control: ConversationControl,
  actor: string,
): Promise<ControlResult> {
  const thread = threadOf(host);
  if (!thread) return NO_CONVERSATION;
  const { store } = host;
  const now = Date.now();
  if (control.action === "take_over") {
    handToPerson(store);
    store.clear("paused_until");
    // The takeover belongs to the conversation going on now: one already quiet past the idle gap
    // would otherwise end (and the takeover with it) at the customer's next message.
    store.markActive(now);
  } else if (control.action === "hand_back") {
    resolveHandoff(store);
    store.clear("paused_until");
  } else {
    store.set("paused_until", String(now + control.minutes * 60_000));
  }
  store.set("control_by", actor);
  await mirrorState(host.env, thread, store);
  log.info("control.changed", {
    tenant_id: thread.tenantId,
    account_id: thread.accountId,
    action: control.action,
  });
  const { state, pausedUntil } = controlState(store, now);
  return { ok: true, state, pausedUntil };
}

/**
 * The conversation as the inbox shows it to the signed-in tenant: opened here, returned, and kept
 * nowhere else. The channel's window says whether a person's reply can go now.
 */
export async function conversationView(host: ConversationHost): Promise<ConversationView | null> {
  const thread = threadOf(host);
  if (!thread) return null;
  const { store } = host;
  const sealed = new SealedThread(host.env, store, thread);
  const now = Date.now();
  const [history, forPerson, waiting, drafts] = await Promise.all([
    sealed.history(),
    sealed.forPerson(),
    sealed.openPending(store.pending(null)),
    Promise.all(
      store.draftIds().map(async (approvalId) => ({
        approvalId,
        text: (await sealed.draft(approvalId))?.text ?? "",
      })),
    ),
  ]);
  // Threads from before the window was tracked fall back on their last turn.
  const lastInbound = store.lastInboundAt() ?? store.lastActivityAt();
  const windowMs = humanReplyWindowMs(thread.channel);
  const closesAt = windowMs === null || lastInbound === null ? null : lastInbound + windowMs;
  const automaticMs = serviceWindowMs(thread.channel);
  return {
    channel: thread.channel,
    ...controlState(store, now),
    messages: history
      .filter((m) => m.role === "user" || m.role === "assistant")
      .map((m) => ({ from: m.role === "user" ? "customer" : "business", text: String(m.content) })),
    forPerson,
    waiting: waiting.map((m) => ({ text: m.text, at: m.sentAt })),
    drafts,
    window: {
      open: closesAt === null || now <= closesAt,
      humanAgent:
        thread.channel === "instagram" &&
        automaticMs !== null &&
        lastInbound !== null &&
        now - lastInbound > automaticMs,
      closesAt,
    },
  };
}
