/** Interaction responses and the follow-up calls on the interaction's webhook. */
import { createLogger, errorFields } from "@concierge/core";
import {
  type APIEmbed,
  type APIInteractionResponse,
  type APIModalInteractionResponseCallbackData,
  ComponentType,
  InteractionResponseType,
  MessageFlags,
  type RESTPatchAPIWebhookWithTokenMessageJSONBody,
  type RESTPostAPIWebhookWithTokenJSONBody,
  TextInputStyle,
} from "discord-api-types/v10";

const log = createLogger("discord-interactions");

export const respond = (r: APIInteractionResponse) => Response.json(r);

/** A message only the person who acted sees. */
export function ephemeral(content: string, embeds?: APIEmbed[]): Response {
  return respond({
    type: InteractionResponseType.ChannelMessageWithSource,
    data: { content, flags: MessageFlags.Ephemeral, ...(embeds ? { embeds } : {}) },
  });
}

/** "Thinking…", only for the person: the answer follows by editing it. */
export const deferEphemeral = () =>
  respond({
    type: InteractionResponseType.DeferredChannelMessageWithSource,
    data: { flags: MessageFlags.Ephemeral },
  });

/** The click is acknowledged; the inbox message is edited once the action is done. */
export const deferUpdate = () => respond({ type: InteractionResponseType.DeferredMessageUpdate });

export function modal(data: APIModalInteractionResponseCallbackData): Response {
  return respond({ type: InteractionResponseType.Modal, data });
}

/** The Reply modal: one paragraph input, `text`, as long as Discord allows (4000). */
export function replyModal(relayId: string, title: string, label: string): Response {
  return modal({
    custom_id: `relay:modal:${relayId}`,
    title: title.slice(0, 45),
    components: [
      {
        type: ComponentType.Label,
        label: label.slice(0, 45),
        component: {
          type: ComponentType.TextInput,
          custom_id: "text",
          style: TextInputStyle.Paragraph,
          min_length: 1,
          max_length: 4000,
          required: true,
        },
      },
    ],
  });
}

export type Webhook = { baseUrl: string; applicationId: string; token: string };

async function call(w: Webhook, method: string, path: string, body: unknown, what: string): Promise<boolean> {
  const url = `${w.baseUrl}/webhooks/${w.applicationId}/${encodeURIComponent(w.token)}${path}`;
  try {
    const res = await fetch(url, {
      method,
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!res.ok) log.warn("discord.webhook_failed", { what, status: res.status });
    return res.ok;
  } catch (err) {
    log.warn("discord.webhook_failed", { what, ...errorFields(err) });
    return false;
  }
}

/** Edits the message the interaction is about (the inbox item, or a deferred answer). */
export function editOriginal(w: Webhook, body: RESTPatchAPIWebhookWithTokenMessageJSONBody) {
  return call(w, "PATCH", "/messages/@original", body, "edit_original");
}

/** A new message for the person who acted only. */
export function followUpEphemeral(w: Webhook, content: string) {
  const body: RESTPostAPIWebhookWithTokenJSONBody = { content, flags: MessageFlags.Ephemeral };
  return call(w, "POST", "", body, "follow_up");
}
