import { newWamid } from "./meta.ts";

/**
 * One builder per WhatsApp Cloud API webhook message type and per status, in the shapes of Meta's
 * messages webhook reference (one page per type) and its status messages reference. Each builder
 * returns the element of `value.messages[]` or `value.statuses[]`; `whatsappChange` and
 * `whatsappPayload` wrap them, so a test can put several entries and changes in one body. Sign and
 * serialize with `signedMetaRequest` from `./meta.ts` (Meta's escaped unicode).
 */

export type Common = { from: string; id?: string; timestamp?: number };

const now = () => Math.floor(Date.now() / 1000);

/** Fields every message has; the type-specific object is added by each builder. */
function base(c: Common, type: string) {
  return { from: c.from, id: c.id ?? newWamid(), timestamp: String(c.timestamp ?? now()), type };
}

/** Meta's media ids are numeric strings; its sha256 is base64 of the file's digest. */
function mediaId(): string {
  return String(1_000_000_000_000_000 + Math.floor(Math.random() * 1e15));
}

const SHA = "aGVsbG8gd29ybGQgdGhpcyBpcyBhIGZha2Ugc2hhMjU2IGhhc2g=";
const mediaUrl = (id: string) =>
  `https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=${id}&ext=1749416383&hash=ATtCF3V1f2Ig`;

export const waText = (c: Common & { body: string }) => ({ ...base(c, "text"), text: { body: c.body } });

export function waImage(c: Common & { caption?: string; mimeType?: string; mediaId?: string }) {
  const id = c.mediaId ?? mediaId();
  return {
    ...base(c, "image"),
    image: {
      ...(c.caption !== undefined ? { caption: c.caption } : {}),
      mime_type: c.mimeType ?? "image/jpeg",
      sha256: SHA,
      id,
      url: mediaUrl(id),
    },
  };
}

export function waVideo(c: Common & { caption?: string; mediaId?: string }) {
  const id = c.mediaId ?? mediaId();
  return {
    ...base(c, "video"),
    video: {
      ...(c.caption !== undefined ? { caption: c.caption } : {}),
      mime_type: "video/mp4",
      sha256: SHA,
      id,
      url: mediaUrl(id),
    },
  };
}

/** A voice note (`voice: true`) by default, as recorded in the WhatsApp app. */
export function waAudio(c: Common & { voice?: boolean; mediaId?: string }) {
  const id = c.mediaId ?? mediaId();
  return {
    ...base(c, "audio"),
    audio: {
      mime_type: "audio/ogg; codecs=opus",
      sha256: SHA,
      id,
      url: mediaUrl(id),
      voice: c.voice ?? true,
    },
  };
}

export function waDocument(c: Common & { caption?: string; filename?: string; mediaId?: string }) {
  const id = c.mediaId ?? mediaId();
  return {
    ...base(c, "document"),
    document: {
      ...(c.caption !== undefined ? { caption: c.caption } : {}),
      filename: c.filename ?? "menu-request.pdf",
      mime_type: "application/pdf",
      sha256: SHA,
      id,
      url: mediaUrl(id),
    },
  };
}

export function waSticker(c: Common & { animated?: boolean; mediaId?: string }) {
  const id = c.mediaId ?? mediaId();
  return {
    ...base(c, "sticker"),
    sticker: { mime_type: "image/webp", sha256: SHA, id, url: mediaUrl(id), animated: c.animated ?? false },
  };
}

export function waLocation(
  c: Common & { latitude: number; longitude: number; name?: string; address?: string; url?: string },
) {
  return {
    ...base(c, "location"),
    location: {
      ...(c.address !== undefined ? { address: c.address } : {}),
      latitude: c.latitude,
      longitude: c.longitude,
      ...(c.name !== undefined ? { name: c.name } : {}),
      ...(c.url !== undefined ? { url: c.url } : {}),
    },
  };
}

export type ContactCard = { formattedName: string; firstName?: string; lastName?: string; phones: string[] };

/** Shared contact cards (`contacts` message type; not the sender list `value.contacts`). */
export function waContacts(c: Common & { cards: ContactCard[] }) {
  return {
    ...base(c, "contacts"),
    contacts: c.cards.map((card) => ({
      name: {
        formatted_name: card.formattedName,
        ...(card.firstName ? { first_name: card.firstName } : {}),
        ...(card.lastName ? { last_name: card.lastName } : {}),
      },
      phones: card.phones.map((phone, i) => ({
        phone,
        type: i === 0 ? "CELL" : "HOME",
        ...(i === 0 ? { wa_id: phone.replace(/\D/g, "") } : {}),
      })),
    })),
  };
}

/** The reply to one of our messages carries `context` with that message's id. */
const context = (c: { contextId?: string }, from: string) => ({
  context: { from, id: c.contextId ?? newWamid() },
});

/** A tap on a reply button of an interactive message we sent. */
export function waButtonReply(
  c: Common & { replyId: string; title: string; contextId?: string; businessNumber?: string },
) {
  return {
    ...context(c, c.businessNumber ?? "15550783881"),
    ...base(c, "interactive"),
    interactive: { type: "button_reply", button_reply: { id: c.replyId, title: c.title } },
  };
}

/** A choice from a list message we sent. */
export function waListReply(
  c: Common & {
    replyId: string;
    title: string;
    description?: string;
    contextId?: string;
    businessNumber?: string;
  },
) {
  return {
    ...context(c, c.businessNumber ?? "15550783881"),
    ...base(c, "interactive"),
    interactive: {
      type: "list_reply",
      list_reply: {
        id: c.replyId,
        title: c.title,
        ...(c.description !== undefined ? { description: c.description } : {}),
      },
    },
  };
}

/** A tap on a quick-reply button of a template message we sent. */
export function waTemplateButton(
  c: Common & { payload: string; text: string; contextId?: string; businessNumber?: string },
) {
  return {
    ...context(c, c.businessNumber ?? "15550783881"),
    ...base(c, "button"),
    button: { payload: c.payload, text: c.text },
  };
}

/** A reaction to one of our messages; a removed reaction has no `emoji`. */
export function waReaction(c: Common & { messageId: string; emoji?: string }) {
  return {
    ...base(c, "reaction"),
    reaction: { message_id: c.messageId, ...(c.emoji !== undefined ? { emoji: c.emoji } : {}) },
  };
}

/** A message type Cloud API does not pass on (an edit, a poll…), with Meta's error 131051. */
export function waUnsupported(c: Common & { unsupportedType?: string }) {
  return {
    ...base(c, "unsupported"),
    errors: [
      {
        code: 131051,
        title: "Message type unknown",
        message: "Message type unknown",
        error_data: { details: "Message type is currently not supported." },
      },
    ],
    unsupported: { type: c.unsupportedType ?? "edit" },
  };
}

// ---- statuses ---------------------------------------------------------------------------------

export type StatusInput = { id: string; recipientId: string; timestamp?: number };

function statusBase(s: StatusInput, status: string) {
  return {
    id: s.id,
    status,
    timestamp: String(s.timestamp ?? now()),
    recipient_id: s.recipientId,
  };
}

const conversation = () => ({
  id: "a75d17ad06104c51166f948319b03c6a",
  expiration_timestamp: String(now() + 24 * 3600),
  origin: { type: "service" },
});
const pricing = { billable: false, pricing_model: "PMP", category: "service", type: "free_customer_service" };

export const waStatusSent = (s: StatusInput) => ({
  ...statusBase(s, "sent"),
  conversation: conversation(),
  pricing,
});

export const waStatusDelivered = (s: StatusInput) => ({
  ...statusBase(s, "delivered"),
  conversation: { id: conversation().id, origin: { type: "service" } },
  pricing,
});

export const waStatusRead = (s: StatusInput) => ({ ...statusBase(s, "read") });

/** A failed send; 131047 (re-engagement: outside the 24-hour window) unless told otherwise. */
export function waStatusFailed(
  s: StatusInput & { code?: number; title?: string; message?: string; details?: string },
) {
  const code = s.code ?? 131047;
  const title = s.title ?? "Re-engagement message";
  return {
    ...statusBase(s, "failed"),
    errors: [
      {
        code,
        title,
        message: s.message ?? title,
        error_data: {
          details:
            s.details ??
            "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
        },
        href: "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
      },
    ],
  };
}

// ---- envelopes --------------------------------------------------------------------------------

export type ChangeInput = {
  phoneNumberId: string;
  displayPhoneNumber?: string;
  /** Senders' profiles (`value.contacts`), by wa_id. */
  profiles?: { waId: string; name: string }[];
  messages?: unknown[];
  statuses?: unknown[];
};

/** One `changes[]` element of field `messages`. */
export function whatsappChange(c: ChangeInput) {
  return {
    value: {
      messaging_product: "whatsapp",
      metadata: {
        display_phone_number: c.displayPhoneNumber ?? "15550783881",
        phone_number_id: c.phoneNumberId,
      },
      ...(c.profiles?.length
        ? { contacts: c.profiles.map((p) => ({ profile: { name: p.name }, wa_id: p.waId })) }
        : {}),
      ...(c.messages?.length ? { messages: c.messages } : {}),
      ...(c.statuses?.length ? { statuses: c.statuses } : {}),
    },
    field: "messages",
  };
}

/** A whole webhook body: one entry per element, each with its changes. */
export function whatsappPayload(entries: { wabaId?: string; changes: unknown[] }[]) {
  return {
    object: "whatsapp_business_account",
    entry: entries.map((e) => ({ id: e.wabaId ?? "102290129340398", changes: e.changes })),
  };
}

/** The common case: one entry, one change, these messages and statuses. */
export function whatsappSingle(c: ChangeInput & { wabaId?: string }) {
  return whatsappPayload([{ ...(c.wabaId ? { wabaId: c.wabaId } : {}), changes: [whatsappChange(c)] }]);
}
