import type { Attachment, InboundMessage, MessageKind, StatusUpdate } from "@concierge/core";
import { MAX_TEXT_LENGTH } from "@concierge/core";
import * as v from "valibot";

/**
 * The WhatsApp Cloud API webhook, as Meta documents it (messages webhook reference, one page per
 * message type, and the status messages reference). Objects are loose: Meta adds fields without
 * notice and an unknown field must never make us drop a customer's message. Only the fields we
 * read are described; a message whose type-specific object does not have the documented shape is
 * still accepted, as `unsupported`, so a person can look at it.
 */
const ContactSchema = v.looseObject({
  wa_id: v.string(),
  profile: v.optional(v.looseObject({ name: v.optional(v.string()) })),
});

/** Meta's error object, on a message (`unsupported`) or on a failed status. */
const ErrorSchema = v.looseObject({
  code: v.number(),
  title: v.optional(v.string()),
  message: v.optional(v.string()),
  error_data: v.optional(v.looseObject({ details: v.optional(v.string()) })),
});

/** The envelope every message shares; the type-specific object is read per type below. */
const MessageSchema = v.looseObject({
  from: v.string(),
  id: v.string(),
  timestamp: v.string(),
  type: v.string(),
  errors: v.optional(v.array(v.unknown())),
});
type Message = v.InferOutput<typeof MessageSchema> & Record<string, unknown>;

const TextSchema = v.looseObject({ body: v.string() });

/** image, audio, video, document and sticker all carry this (caption only on some). */
const MediaSchema = v.looseObject({
  id: v.string(),
  mime_type: v.optional(v.string()),
  caption: v.optional(v.string()),
});

const LocationSchema = v.looseObject({
  latitude: v.number(),
  longitude: v.number(),
  name: v.optional(v.string()),
  address: v.optional(v.string()),
});

const SharedContactSchema = v.looseObject({
  name: v.optional(
    v.looseObject({
      formatted_name: v.optional(v.string()),
      first_name: v.optional(v.string()),
      last_name: v.optional(v.string()),
    }),
  ),
  phones: v.optional(v.array(v.looseObject({ phone: v.optional(v.string()) }))),
});

const ReplySchema = v.looseObject({ id: v.string(), title: v.string() });
const InteractiveSchema = v.variant("type", [
  v.looseObject({ type: v.literal("button_reply"), button_reply: ReplySchema }),
  v.looseObject({ type: v.literal("list_reply"), list_reply: ReplySchema }),
]);

/** A template's quick-reply button. */
const ButtonSchema = v.looseObject({ payload: v.optional(v.string()), text: v.string() });

const ReactionSchema = v.looseObject({ message_id: v.string(), emoji: v.optional(v.string()) });

const StatusSchema = v.looseObject({
  id: v.string(),
  status: v.string(),
  timestamp: v.string(),
  recipient_id: v.optional(v.string()),
  errors: v.optional(v.array(v.unknown())),
});

export const MessagesValueSchema = v.looseObject({
  messaging_product: v.literal("whatsapp"),
  metadata: v.looseObject({ phone_number_id: v.string(), display_phone_number: v.optional(v.string()) }),
  contacts: v.optional(v.array(ContactSchema), []),
  messages: v.optional(v.array(v.unknown()), []),
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

/** What the logs should say about a webhook: events, ids, reasons and codes, never content. */
export type Note = {
  event: "whatsapp.skipped" | "whatsapp.reaction_ignored" | "whatsapp.message_error";
  reason?: string;
  id?: string;
  code?: number;
};

export type Normalized = {
  messages: InboundMessage[];
  statuses: StatusUpdate[];
  notes: Note[];
};

const MEDIA_TYPES = new Set(["image", "audio", "video", "document", "sticker"]);
const STATUSES = new Set(["sent", "delivered", "read", "failed"]);

const clip = (s: string) => s.slice(0, MAX_TEXT_LENGTH);

function parse<T extends v.GenericSchema>(schema: T, value: unknown): v.InferOutput<T> | null {
  const r = v.safeParse(schema, value);
  return r.success ? r.output : null;
}

function firstError(errors: unknown[] | undefined): v.InferOutput<typeof ErrorSchema> | null {
  return parse(ErrorSchema, errors?.[0]);
}

/** Coordinates to about 10 m: enough to find the place, and no false precision. */
const coord = (n: number) => String(Math.round(n * 10_000) / 10_000);

/** A shared location as one neutral line the rules and the AI can read. */
function locationLine(l: v.InferOutput<typeof LocationSchema>): string {
  const place = [l.name, l.address].filter((s): s is string => !!s?.trim()).join(", ");
  const at = `(${coord(l.latitude)}, ${coord(l.longitude)})`;
  return `📍 ${place ? `${place} ${at}` : at}`;
}

/** Shared contact cards as one neutral line each: name and phone numbers. */
function contactsLines(cards: v.InferOutput<typeof SharedContactSchema>[]): string {
  return cards
    .map((c) => {
      const n = c.name;
      const name = n?.formatted_name ?? [n?.first_name, n?.last_name].filter(Boolean).join(" ");
      const phones = (c.phones ?? []).map((p) => p.phone).filter((p): p is string => !!p);
      return `👤 ${[name, ...phones].filter(Boolean).join(" ")}`.trimEnd();
    })
    .join("\n");
}

type Content = {
  kind: MessageKind;
  text: string;
  hasAttachment: boolean;
  attachment?: Attachment;
  providerType?: string;
  replyId?: string;
};

/** The type-specific part of a message, or null when it does not have the documented shape. */
function content(m: Message): Content | null {
  const body = m[m.type];
  if (m.type === "text") {
    const t = parse(TextSchema, body);
    return t && { kind: "text", text: clip(t.body), hasAttachment: false };
  }
  if (MEDIA_TYPES.has(m.type)) {
    const media = parse(MediaSchema, body);
    if (!media) return null;
    return {
      kind: "media",
      text: clip(media.caption ?? ""),
      hasAttachment: true,
      attachment: {
        type: m.type,
        mediaId: media.id.slice(0, 512),
        ...(media.mime_type ? { mimeType: media.mime_type.slice(0, 255) } : {}),
      },
      providerType: m.type,
    };
  }
  if (m.type === "location") {
    const l = parse(LocationSchema, body);
    return l && { kind: "location", text: clip(locationLine(l)), hasAttachment: false };
  }
  if (m.type === "contacts") {
    const cards = parse(v.pipe(v.array(SharedContactSchema), v.minLength(1)), body);
    return cards && { kind: "contacts", text: clip(contactsLines(cards)), hasAttachment: false };
  }
  if (m.type === "interactive") {
    const i = parse(InteractiveSchema, body);
    if (!i) return null;
    const reply = i.type === "button_reply" ? i.button_reply : i.list_reply;
    return {
      kind: "interactive",
      text: clip(reply.title),
      hasAttachment: false,
      providerType: i.type,
      replyId: reply.id.slice(0, 512),
    };
  }
  if (m.type === "button") {
    const b = parse(ButtonSchema, body);
    return (
      b && {
        kind: "interactive",
        text: clip(b.text),
        hasAttachment: false,
        providerType: "button",
        ...(b.payload ? { replyId: b.payload.slice(0, 512) } : {}),
      }
    );
  }
  return null;
}

/** The provider's type name, safe to keep as metadata (it is Meta's vocabulary, not the customer's). */
const typeName = (t: string) => t.replace(/[^\w.-]/g, "").slice(0, 64) || "unknown";

function normalizeStatus(raw: unknown, phoneNumberId: string, out: Normalized): void {
  const s = parse(StatusSchema, raw);
  if (!s) {
    out.notes.push({ event: "whatsapp.skipped", reason: "unrecognized_status" });
    return;
  }
  if (!STATUSES.has(s.status)) {
    // e.g. "deleted" or "warning": nothing to record on our send.
    out.notes.push({ event: "whatsapp.skipped", reason: `status:${typeName(s.status)}`, id: s.id });
    return;
  }
  const seconds = Number(s.timestamp);
  const error = s.status === "failed" ? firstError(s.errors) : null;
  out.statuses.push({
    channel: "whatsapp",
    accountExternalId: phoneNumberId,
    providerMessageId: s.id,
    status: s.status as StatusUpdate["status"],
    at: Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : Date.now(),
    ...(error ? { errorCode: error.code } : {}),
    ...(error?.title ? { errorTitle: error.title.slice(0, 128) } : {}),
  });
}

/**
 * Every customer message and delivery status in a webhook, across all its entries and changes.
 * Reactions are noted and dropped (they ask for no answer); anything we cannot read is passed on
 * as `unsupported` rather than lost, so the tenant sees that something arrived.
 */
export function normalizeWhatsApp(payload: WhatsAppWebhook): Normalized {
  const out: Normalized = { messages: [], statuses: [], notes: [] };
  for (const entry of payload.entry) {
    for (const change of entry.changes) {
      if (change.field !== "messages") {
        out.notes.push({ event: "whatsapp.skipped", reason: `field:${typeName(change.field)}` });
        continue;
      }
      const value = v.safeParse(MessagesValueSchema, change.value);
      if (!value.success) {
        out.notes.push({ event: "whatsapp.skipped", reason: "unrecognized_value" });
        continue;
      }
      const { metadata, contacts, messages, statuses } = value.output;
      for (const s of statuses) normalizeStatus(s, metadata.phone_number_id, out);
      for (const raw of messages) {
        const parsed = parse(MessageSchema, raw);
        if (!parsed) {
          out.notes.push({ event: "whatsapp.skipped", reason: "unrecognized_message" });
          continue;
        }
        const m = parsed as Message;
        const error = firstError(m.errors);
        if (m.type === "reaction") {
          const r = parse(ReactionSchema, m.reaction);
          // Which message was reacted to is enough for the logs; the emoji is the customer's.
          out.notes.push({ event: "whatsapp.reaction_ignored", id: r?.message_id ?? m.id });
          continue;
        }
        const inner = parse(v.looseObject({ type: v.string() }), m.unsupported)?.type;
        const c = content(m) ?? {
          kind: "unsupported" as const,
          text: "",
          hasAttachment: false,
          // Meta names what it could not pass on ("edit", "poll_creation"…) inside `unsupported`.
          providerType: typeName(m.type === "unsupported" && inner ? inner : m.type),
        };
        if (error) {
          out.notes.push({
            event: "whatsapp.message_error",
            reason: typeName(m.type),
            id: m.id,
            code: error.code,
          });
        }
        const name = contacts.find((x) => x.wa_id === m.from)?.profile?.name;
        const seconds = Number(m.timestamp);
        out.messages.push({
          channel: "whatsapp",
          accountExternalId: metadata.phone_number_id,
          providerMessageId: m.id,
          customerId: m.from,
          ...(name ? { customerName: name.slice(0, 256) } : {}),
          sentAt: Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : Date.now(),
          ...c,
        });
      }
    }
  }
  return out;
}
