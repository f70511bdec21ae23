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
  return (store.number("last_activity_at") ?? 0) + t.idleGapMinutes * 60_000;
}

/**
 * Stable within a conversation. After the idle gap a new conversation starts: a new id, and
 * the old one's history and handoff state are gone.
 */
export function currentConversation(store: ConversationStore, now: number, t: Timing): string {
  let id = store.get("conversation_id");
  if (!id || now > idleAt(store, t)) {
    id = newId("conv");
    store.set("conversation_id", id);
    endConversation(store);
  }
  store.set("last_activity_at", String(now));
  return id;
}

/** The idle gap has passed: the history, mail kept for a person and the handoff state go. */
export function endConversation(store: ConversationStore): void {
  store.clearHistory();
  store.clear("handoff_since", "person_mail");
}
