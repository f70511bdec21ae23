import type { InboundMessage } from "@concierge/core";
import { MAX_TEXT_LENGTH } from "@concierge/core";
import * as v from "valibot";

/**
 * The WhatsApp Cloud API webhook, as Meta documents it. Objects are loose: Meta adds fields
 * without notice and an unknown field must never make us drop a customer's message.
 */
const ContactSchema = v.looseObject({
  wa_id: v.string(),
  profile: v.optional(v.looseObject({ name: v.optional(v.string()) })),
});

const MessageSchema = v.looseObject({
  from: v.string(),
  id: v.string(),
  timestamp: v.string(),
  type: v.string(),
  text: v.optional(v.looseObject({ body: v.string() })),
});

export const MessagesValueSchema = v.looseObject({
  messaging_product: v.literal("whatsapp"),
  metadata: v.looseObject({ phone_number_id: v.string(), display_phone_number: v.optional(v.string()) }),
  contacts: v.optional(v.array(ContactSchema), []),
  messages: v.optional(v.array(MessageSchema), []),
  statuses: v.optional(v.array(v.unknown()), []),
});

export const WhatsAppWebhookSchema = v.looseObject({
  object: v.literal("whatsapp_business_account"),
  entry: v.array(
    v.looseObject({
      id: v.string(),
      changes: v.array(v.looseObject({ field: v.string(), value: v.unknown() })),
    }),
  ),
});
export type WhatsAppWebhook = v.InferOutput<typeof WhatsAppWebhookSchema>;

export type Normalized = { messages: InboundMessage[]; skipped: { reason: string; id?: string }[] };

/** Every customer message in a webhook, as `InboundMessage`s; what we do not handle yet is listed. */
export function normalizeWhatsApp(payload: WhatsAppWebhook): Normalized {
  const out: Normalized = { messages: [], skipped: [] };
  for (const entry of payload.entry) {
    for (const change of entry.changes) {
      if (change.field !== "messages") {
        out.skipped.push({ reason: `field:${change.field}` });
        continue;
      }
      const value = v.safeParse(MessagesValueSchema, change.value);
      if (!value.success) {
        out.skipped.push({ reason: "unrecognized_value" });
        continue;
      }
      const { metadata, contacts, messages, statuses } = value.output;
      if (statuses.length > 0) out.skipped.push({ reason: "statuses" });
      for (const m of messages) {
        if (m.type !== "text" || !m.text) {
          out.skipped.push({ reason: `type:${m.type}`, id: m.id });
          continue;
        }
        const name = contacts.find((c) => c.wa_id === m.from)?.profile?.name;
        const seconds = Number(m.timestamp);
        out.messages.push({
          channel: "whatsapp",
          accountExternalId: metadata.phone_number_id,
          providerMessageId: m.id,
          customerId: m.from,
          ...(name ? { customerName: name.slice(0, 256) } : {}),
          sentAt: Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : Date.now(),
          kind: "text",
          text: m.text.body.slice(0, MAX_TEXT_LENGTH),
          hasAttachment: false,
        });
      }
    }
  }
  return out;
}
