import { type Thread, newId } from "@concierge/core";
import type { PipelineEnv } from "../env.ts";
import { tenantSettings } from "../tenants/notify.ts";
import type { ConversationStore } from "./store.ts";
import type { Timing } from "./types.ts";

/** PRODUCT.md §3 defaults, used until the tenant's own settings are read. */
const DEFAULTS: Timing = { idleGapMinutes: 360, handoffCooldownMinutes: 60, historyTurns: 20 };

export async function timing(env: PipelineEnv, thread: Thread): Promise<Timing> {
  return (await tenantSettings(env, thread.tenantId)) ?? DEFAULTS;
}

/** When the idle gap of the conversation ends, counted from its last activity. */
export function idleAt(store: ConversationStore, t: Timing): number {
  return (store.lastActivityAt() ?? 0) + t.idleGapMinutes * 60_000;
}

/**
 * A turn starts at `now` on the buffered messages up to `lastSeq`, in the current conversation:
 * stable within a conversation; after the idle gap a new one starts (a new id, and the old one's
 * history and handoff state are gone). `previous` is the conversation that was current until now.
 */
export function startTurn(
  store: ConversationStore,
  lastSeq: number,
  now: number,
  t: Timing,
): { conversationId: string; previous: string | null } {
  const previous = store.conversationId();
  let id = previous;
  if (!id || now > idleAt(store, t)) {
    id = newId("conv");
    endConversation(store);
    // A wait left from the conversation that ended is over unanswered (reply-wait.ts). Cleared
    // with the new id, not later: a turn whose first attempt fails before it reads its messages
    // finds this conversation current on its retry and would carry the old wait into it.
    if (store.get("awaiting_reply_since") !== null) store.clear("awaiting_reply_since");
  }
  store.beginTurn(lastSeq, now, id);
  return { conversationId: id, previous };
}

/** The idle gap has passed: the history, mail kept for a person and the handoff state go. */
export function endConversation(store: ConversationStore): void {
  store.clearHistory();
  store.clear("handoff_since", "person_mail");
}
