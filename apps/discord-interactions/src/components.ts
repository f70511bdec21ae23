/** The inbox buttons (Reply, Approve, Drop; Take over, Hand back, Pause) and the Reply modal. */
import type { Translate } from "@concierge/i18n";
import type {
  APIEmbed,
  APIEmbedField,
  RESTPatchAPIWebhookWithTokenMessageJSONBody,
} from "discord-api-types/v10";
import type { RelayControlled, RelayHandled } from "@concierge/core";
import * as v from "valibot";
import {
  deferUpdate,
  editOriginal,
  ephemeral,
  followUpEphemeral,
  replyModal,
  type Webhook,
} from "./responses.ts";
import {
  type ControlAction,
  ControlRowSchema,
  type InteractionMessage,
  type RelayButton,
  isControl,
} from "./schema.ts";

export type Actor = { id: string; name: string };
type Ctx = {
  env: Env;
  ctx: ExecutionContext;
  tenantId: string;
  t: Translate;
  webhook: Webhook;
  actor: Actor;
};
type RelayAction =
  | { kind: "reply"; text: string }
  | { kind: "approve" }
  | { kind: "drop" }
  | { kind: ControlAction };

/** Discord's own timestamp markup: every reader sees it in their time zone. */
const discordTime = (ms: number) => `<t:${Math.floor(ms / 1000)}:f>`;

const DONE = {
  replied: "discord-handled-replied",
  approved: "discord-handled-approved",
  dropped: "discord-handled-dropped",
} as const;

const EMBED_FIELDS_MAX = 25;

/** The message's embeds with `field` set (one of its name: replaced, not repeated). */
function withField(message: InteractionMessage | undefined, field: APIEmbedField): APIEmbed[] {
  const embeds = (message?.embeds ?? []) as APIEmbed[];
  const [first, ...rest] = embeds.length ? embeds : [{}];
  const kept = (first!.fields ?? []).filter((f) => f.name !== field.name);
  const fields = [...kept, field].slice(-EMBED_FIELDS_MAX);
  return [{ ...first, fields }, ...rest];
}

/**
 * The inbox message after an action: the same embed, plus who did what and when. Reply, Approve
 * and Drop go, so nobody acts on it again; the Take over / Hand back / Pause row stays, since the
 * conversation goes on (after a reply the bot is often silent, and handing back comes later).
 */
export function handledMessage(
  t: Translate,
  message: InteractionMessage | undefined,
  done: RelayHandled,
): RESTPatchAPIWebhookWithTokenMessageJSONBody {
  const field: APIEmbedField = {
    name: t("discord-handled-field"),
    value: t(DONE[done.status], { name: done.handledBy, when: discordTime(done.handledAt) }),
  };
  const controls = (message?.components ?? []).filter((row) => v.is(ControlRowSchema, row));
  return {
    embeds: withField(message, field),
    components: controls as RESTPatchAPIWebhookWithTokenMessageJSONBody["components"],
  };
}

const CONTROL_DONE = {
  take_over: "discord-control-take-over",
  hand_back: "discord-control-hand-back",
  pause: "discord-control-pause",
} as const;

const CONTROL_STATE = {
  taken_over: "discord-control-state-taken-over",
  handed_off: "discord-control-state-handed-off",
  bot: "discord-control-state-bot",
} as const;

/** The item's "Bot" field after a control: who answers now, set by whom, when (or until when). */
export function controlField(t: Translate, done: RelayControlled): APIEmbedField {
  const args = { name: done.by, when: discordTime(done.at) };
  const value =
    done.state === "paused"
      ? t("discord-control-state-paused", { ...args, until: discordTime(done.pausedUntil ?? done.at) })
      : t(CONTROL_STATE[done.state], args);
  return { name: t("discord-control-field"), value };
}

/**
 * Why an action was not done, in the member's language, from the pipeline's error code. The
 * pipeline's own message is never shown: it is English, written for logs and developers.
 */
function refusal(t: Translate, code: string, channel: string | null): string {
  switch (code) {
    case "outside_window":
      return t(
        channel === "whatsapp"
          ? "discord-outside-window-whatsapp"
          : channel === "instagram"
            ? "discord-outside-window-instagram"
            : "discord-outside-window",
      );
    case "account_disabled":
      return t("discord-account-disabled");
    case "send_retryable":
      return t("discord-send-retry");
    // Permanent: the channel refused it (e.g. the number cannot receive messages).
    case "send_failed":
      return t("discord-send-failed");
    case "tenant_suspended":
      return t("discord-suspended");
    case "already_decided":
      return t("discord-already-decided");
    case "no_draft":
      return t("discord-no-draft");
    case "not_found":
      return t("discord-item-gone");
    case "conversation_gone":
      return t("discord-control-gone");
    case "invalid_action":
      return t("discord-empty-reply");
    default:
      return t("discord-action-failed");
  }
}

function handledBy(t: Translate, name: string | null, at: number | null): string {
  return name && at
    ? t("discord-already-handled", { name, when: discordTime(at) })
    : t("discord-already-handled-unknown");
}

/** Runs the action after Discord has its answer, then edits the message or tells the person why not. */
async function act(c: Ctx, relayId: string, action: RelayAction, message: InteractionMessage | undefined) {
  const { env, t, webhook } = c;
  let channel: string | null = null;
  try {
    const r = await env.PIPELINE.relayAction(c.tenantId, relayId, action, c.actor);
    if (r.ok && r.status === "control") {
      // The person is told what happened; the team sees it on the item, whose buttons all stay.
      if (isControl(action.kind)) await followUpEphemeral(webhook, t(CONTROL_DONE[action.kind]));
      await editOriginal(webhook, { embeds: withField(message, controlField(t, r)) });
      return;
    }
    if (r.ok) {
      await editOriginal(webhook, handledMessage(t, message, r));
      return;
    }
    if (r.error.code === "already_handled") {
      await followUpEphemeral(webhook, handledBy(t, r.handledBy ?? null, r.handledAt ?? null));
      return;
    }
    if (r.error.code === "outside_window") {
      const s = await env.PIPELINE.relayState(c.tenantId, relayId);
      channel = s.ok ? s.channel : null;
    }
    await followUpEphemeral(webhook, refusal(t, r.error.code, channel));
  } catch {
    await followUpEphemeral(webhook, t("discord-error"));
  }
}

/**
 * A button: Reply opens the modal at once; Approve, Drop and the controls are acknowledged within
 * Discord's 3 seconds and carried out after the answer. An item already handled says by whom,
 * except to a control: who answers the customer can change after the item is handled.
 */
export async function onButton(
  c: Ctx,
  action: RelayButton,
  relayId: string,
  message: InteractionMessage,
): Promise<Response> {
  const { env, t } = c;
  const state = await env.PIPELINE.relayState(c.tenantId, relayId);
  if (!state.ok) return ephemeral(t("discord-item-gone"));
  if (isControl(action)) {
    c.ctx.waitUntil(act(c, relayId, { kind: action }, message));
    return deferUpdate();
  }
  if (state.status !== "open") return ephemeral(handledBy(t, state.handledBy, state.handledAt));
  if (action === "reply") {
    return replyModal(relayId, t("discord-reply-modal-title"), t("discord-reply-modal-label"));
  }
  if (action === "approve" && !state.hasDraft) return ephemeral(t("discord-no-draft"));
  c.ctx.waitUntil(act(c, relayId, { kind: action }, message));
  return deferUpdate();
}

/** The Reply modal's text goes to the customer after Discord has its answer. */
export function onReplySubmit(
  c: Ctx,
  relayId: string,
  text: string | null,
  message: InteractionMessage | undefined,
): Response {
  if (!text?.trim()) return ephemeral(c.t("discord-empty-reply"));
  c.ctx.waitUntil(act(c, relayId, { kind: "reply", text }, message));
  return deferUpdate();
}
