/**
 * A person's action on an item in the Discord inbox: Reply (the modal's text to the customer),
 * Approve (send the held draft) or Drop. The relay's move from `open` is the lock, taken before
 * anything is sent, so two clicks never act twice; an action that could not be carried out puts
 * the item back to `open` so the person can try again. Take over, Hand back and Pause change who
 * answers the item's customer, in the conversation object, and leave the item as it is.
 */
import {
  type Actor,
  ActorSchema,
  type ConversationControl,
  DISCORD_PAUSE_MINUTES,
  createLogger,
  errorBody,
  type RelayAction,
  type RelayControlKind,
  type RelayActionResult,
  RelayActionSchema,
  type RelayState,
  type RpcError,
} from "@concierge/core";
import {
  type DiscordRelay,
  type RelayStatus,
  getApproval,
  getDiscordInstall,
  getRelay,
  reopenRelay,
  transitionRelay,
} from "@concierge/storage";
import * as v from "valibot";
import { decideApproval } from "../../conversation/approvals.ts";
import { closeApprovalRelay } from "./relay.ts";
import type { PipelineEnv } from "../../env.ts";
import { conversationStub, ownedAccount } from "../../tenants/ownership.ts";

const log = createLogger("pipeline.discord");

const TO: Record<Exclude<RelayAction["kind"], RelayControlKind>, Exclude<RelayStatus, "open">> = {
  reply: "replied",
  approve: "approved",
  drop: "dropped",
};

export async function relayState(
  env: PipelineEnv,
  tenantId: string,
  relayId: string,
): Promise<({ ok: true } & RelayState) | RpcError> {
  const r = typeof relayId === "string" ? await getRelay(env.DB, tenantId, relayId) : null;
  if (!r) return errorBody("not_found", "This item is no longer in the inbox.");
  return {
    ok: true,
    status: r.status,
    kind: r.kind,
    channel: r.channel,
    hasDraft: r.approvalId !== null,
    handledBy: r.handledBy,
    handledAt: r.handledAt,
  };
}

function alreadyHandled(r: DiscordRelay | null): RelayActionResult {
  return {
    ...errorBody("already_handled", `Already handled${r?.handledBy ? ` by ${r.handledBy}` : ""}.`),
    handledBy: r?.handledBy ?? null,
    handledAt: r?.handledAt ?? null,
  };
}

export async function relayAction(
  env: PipelineEnv,
  tenantId: string,
  relayId: string,
  input: unknown,
  actorInput: unknown,
): Promise<RelayActionResult> {
  const parsedAction = v.safeParse(RelayActionSchema, input);
  if (!parsedAction.success) return errorBody("invalid_action", "Reply with 1 to 4000 characters.");
  const parsedActor = v.safeParse(ActorSchema, actorInput);
  if (!parsedActor.success) return errorBody("invalid_actor", "Who acted is required.");
  const action = parsedAction.output;
  const actor = parsedActor.output;
  const relay = typeof relayId === "string" ? await getRelay(env.DB, tenantId, relayId) : null;
  if (!relay) return errorBody("not_found", "This item is no longer in the inbox.");
  if (action.kind === "take_over" || action.kind === "hand_back" || action.kind === "pause") {
    return controlFromRelay(env, relay, action.kind, actor);
  }
  if (relay.status !== "open") return alreadyHandled(relay);
  if (action.kind === "approve" && relay.approvalId === null) {
    return errorBody("no_draft", "There is no draft to approve on this item.");
  }
  const now = Date.now();
  if (!(await transitionRelay(env.DB, tenantId, relayId, TO[action.kind], actor.name, now)).changed) {
    return alreadyHandled(await getRelay(env.DB, tenantId, relayId));
  }
  const fields = { tenant_id: tenantId, relay_id: relayId, action: action.kind };
  const failed = async (e: RpcError): Promise<RelayActionResult> => {
    await reopenRelay(env.DB, tenantId, relayId);
    log.info("relay.action_refused", { ...fields, code: e.error.code });
    return e;
  };
  const done: RelayActionResult = {
    ok: true,
    status: TO[action.kind],
    handledBy: actor.name,
    handledAt: now,
  };

  if (action.kind === "reply") {
    const account = await ownedAccount(env, tenantId, relay.accountId);
    if (!account) return failed(errorBody("not_found", "No such conversation."));
    if (account.status !== "active") {
      return failed(errorBody("account_disabled", "This channel is switched off; switch it on to reply."));
    }
    const install = await getDiscordInstall(env.DB, tenantId);
    const stub = conversationStub(env, relay.threadKey);
    const sent = await stub.sendHumanReply({
      text: action.text,
      actor: `discord:${actor.id}`,
      // One send per relay: a retried submit after a lost answer is not sent twice.
      requestId: `relay:${relayId}`,
      afterReply: install?.afterHumanReply ?? "silent",
    });
    if (!sent.ok) return failed(sent);
    log.info("relay.replied", fields);
    return done;
  }

  if (relay.approvalId !== null) {
    const decided = await decideApproval(
      env,
      tenantId,
      relay.approvalId,
      { action: action.kind === "approve" ? "approve" : "reject" },
      `discord:${actor.id}`,
    );
    // A draft decided elsewhere (dashboard, expiry) leaves nothing to drop: dismissing is done.
    const settled = !decided.ok && decided.error.code === "already_decided" && action.kind === "drop";
    if (!decided.ok && !settled) {
      const refused = await failed(decided);
      // Final (the window closed, or a permanent send failure): the approval failed and its draft
      // is gone. The item is closed as failed (its buttons go) instead of offering an Approve that
      // can never work again.
      if ((await getApproval(env.DB, tenantId, relay.approvalId))?.status === "failed") {
        await closeApprovalRelay(env, tenantId, relay.approvalId, "failed", null);
      }
      return refused;
    }
  }
  log.info(action.kind === "approve" ? "relay.approved" : "relay.dropped", fields);
  return done;
}

const CONTROL: Record<RelayControlKind, ConversationControl> = {
  take_over: { action: "take_over" },
  hand_back: { action: "hand_back" },
  pause: { action: "pause", minutes: DISCORD_PAUSE_MINUTES },
};

/**
 * Take over, Hand back or Pause on the item's customer. No lock and no status change: each press
 * sets the thread's state again (take over now, hand back later), on a closed item too, since
 * the conversation goes on after a reply. The relay row was found for this tenant, so its thread
 * is this tenant's; the account is checked still to exist, as for a reply.
 */
async function controlFromRelay(
  env: PipelineEnv,
  relay: DiscordRelay,
  kind: RelayControlKind,
  actor: Actor,
): Promise<RelayActionResult> {
  const fields = { tenant_id: relay.tenantId, relay_id: relay.id, action: kind };
  // The item exists but its conversation does not (the account went, or the thread was never
  // started): said apart from a missing item, which Discord words as "no longer in the inbox".
  const gone = errorBody("conversation_gone", "No such conversation.");
  const account = await ownedAccount(env, relay.tenantId, relay.accountId);
  if (!account) return gone;
  const stub = conversationStub(env, relay.threadKey);
  // The same actor as a Discord reply's, so the thread records one person one way.
  const r = await stub.control(CONTROL[kind], `discord:${actor.id}`);
  if (!r.ok) {
    log.info("relay.action_refused", { ...fields, code: r.error.code });
    return r.error.code === "not_found" ? gone : r;
  }
  log.info("relay.control", { ...fields, state: r.state });
  return {
    ok: true,
    status: "control",
    state: r.state,
    pausedUntil: r.pausedUntil,
    by: actor.name,
    at: Date.now(),
  };
}
