import { createLogger, errorFields } from "@concierge/core";
import { type RelayRequest, relayId, relayItem } from "../channels/discord/relay.ts";
import { getDiscordInstall } from "@concierge/storage";
import { type DiscordInbox, configCache } from "../config/config-cache.ts";
import type { PipelineEnv } from "../env.ts";
import { INJECTION_FLAGGED } from "./ai-turn.ts";
import type { SealedThread } from "./sealed.ts";
import type { HandoffPhase, HeldDraft, Turn } from "./types.ts";

const log = createLogger("pipeline.conversation");

/**
 * Attempts at posting an inbox item, a minute apart: within the few minutes Discord honours a
 * message's nonce, so a retry after an unknown outcome never posts twice.
 */
const RELAY_ATTEMPTS = 4;

/** What a turn did that decides its inbox item. */
/** At most one flagged message per thread reaches a `needs_human` inbox in this time. */
const FLAG_RELAY_GAP_MS = 3_600_000;

export type TurnFacts = {
  phase: HandoffPhase;
  handoffStarted: boolean;
  held: HeldDraft | null;
  /** The injection scan flagged the customer's text, so nothing answered it. */
  flagged?: true;
};

/**
 * What the turn calls for in the Discord inbox: the held draft, the handoff it started (or the
 * handoff it arrived in), or, for tenants relaying everything, the message itself. Queued sealed
 * (the text stays in this object) and posted after the turn; never fails the turn.
 */
export async function queueTurnRelay(
  env: PipelineEnv,
  sealed: SealedThread,
  turn: Turn,
  facts: TurnFacts,
): Promise<void> {
  const { thread } = turn;
  // Most turns have nothing to relay: no inbox channel, or a plain message in a mode that relays
  // only what needs a person. Then nothing is sealed, stored, read back and deleted for it.
  // The inbox is config, cached like the rest (relay.ts reads it fresh before posting).
  const kind = facts.held
    ? "approval"
    : facts.handoffStarted || facts.phase !== "none"
      ? "handoff"
      : "message";
  let inbox: DiscordInbox;
  try {
    inbox = await discordInbox(env, thread.tenantId);
  } catch (err) {
    // Unknown: queue it, and let the post decide (it reads the install itself).
    log.warn("relay.inbox_unreadable", { ...errorFields(err), tenant_id: thread.tenantId });
    inbox = { channelId: "", relayMode: "all" };
  }
  // A flagged message got no answer at all: a person sees it (and why) in every relay mode, at
  // most one per thread an hour, so a customer who keeps trying cannot flood the inbox (and crowd
  // out handoffs and approvals under Discord's rate limits). Mode "all" relays them all anyway.
  if (!inbox || (kind === "message" && inbox.relayMode !== "all" && !facts.flagged)) return;
  if (kind === "message" && inbox.relayMode !== "all" && facts.flagged) {
    const last = sealed.store.number("flag_relayed_at");
    if (last !== null && Date.now() - last < FLAG_RELAY_GAP_MS) return;
    sealed.store.set("flag_relayed_at", String(Date.now()));
  }
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
      : facts.flagged
        ? // The reason, never the model's output (it was discarded unread).
          { ...base, kind: "message", approvalId: null, reason: INJECTION_FLAGGED, flagged: true }
        : { ...base, kind: "message", approvalId: null, reason: "all" };
  try {
    await sealed.queueRelay(await relayId(req), req);
  } catch (err) {
    log.error("relay.queue_failed", { ...errorFields(err), tenant_id: thread.tenantId, kind: req.kind });
  }
}

/** The tenant's Discord inbox channel and relay mode (null: none), through the config cache. */
export function discordInbox(env: PipelineEnv, tenantId: string): Promise<DiscordInbox> {
  return configCache(env).discordInboxes.get(tenantId, async () => {
    const install = await getDiscordInstall(env.DB, tenantId);
    return install?.inboxChannelId
      ? { channelId: install.inboxChannelId, relayMode: install.relayMode }
      : null;
  });
}

/**
 * Posts queued inbox items; a retryable failure waits for the next alarm, a few times.
 * `purged`: the object was purged meanwhile (its tables are gone): stop quietly.
 */
export async function flushRelays(
  env: PipelineEnv,
  sealed: SealedThread,
  purged: () => boolean,
): Promise<void> {
  const { store, thread } = sealed;
  for (const row of store.relays()) {
    const fields = { tenant_id: thread.tenantId, account_id: thread.accountId, relay_id: row.id };
    try {
      const req = await sealed.openRelay(row);
      const r = await relayItem(env, req);
      if (r.ok && r.relayed && req.kind === "handoff" && r.channelId) {
        store.set("handoff_relayed_to", r.channelId);
      }
      if (r.ok && r.relayed && req.kind === "approval" && r.channelId) {
        store.set("approval_relayed_to", r.channelId);
      }
      if (r.ok || !r.retryable || row.attempts + 1 >= RELAY_ATTEMPTS) {
        if (!r.ok) log.error("relay.given_up", { ...fields, attempts: row.attempts + 1 });
        store.deleteRelay(row.id);
      } else {
        store.relayRetry(row.id);
      }
    } catch (err) {
      if (purged()) return;
      log.error("relay.flush_failed", { ...errorFields(err), ...fields });
      store.relayAttemptFailed(row.id, RELAY_ATTEMPTS);
    }
  }
}
