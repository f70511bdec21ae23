import {
  waAudio,
  waButtonReply,
  waContacts,
  waDocument,
  waImage,
  waListReply,
  waLocation,
  waReaction,
  waStatusDelivered,
  waStatusFailed,
  waStatusRead,
  waSticker,
  waText,
  waUnsupported,
  waVideo,
  whatsappSingle,
} from "@concierge/testing/whatsapp-fixtures";

/**
 * What the customer page can send as a WhatsApp customer, and the delivery statuses it can play
 * as Meta. Every payload comes from the fixtures' builders (Meta's documented shapes), so the
 * sandbox exercises meta-webhooks exactly as the tests do; media ids are fake, nothing is uploaded.
 */

export const CUSTOMER_TYPES = [
  "text",
  "image",
  "video",
  "audio",
  "document",
  "sticker",
  "location",
  "contacts",
  "button_reply",
  "list_reply",
  "reaction",
  "unsupported",
] as const;
export type CustomerType = (typeof CUSTOMER_TYPES)[number];

export type CustomerMessage = {
  phoneNumberId: string;
  from: string;
  name: string;
  type: CustomerType;
  text?: string;
  caption?: string;
  filename?: string;
  latitude?: number;
  longitude?: number;
  place?: string;
  contactName?: string;
  contactPhone?: string;
  /** The title the customer tapped (button or list reply). */
  title?: string;
  /** The business message replied or reacted to: the last reply the page saw. */
  contextId?: string;
  emoji?: string;
  /** Written this many seconds ago: Meta delivering (or redelivering) a message late. */
  ageSeconds?: number;
};

/** Meta retries a webhook for up to 7 days. */
export const MAX_AGE_SECONDS = 7 * 24 * 3600;

export const STATUS_KINDS = ["delivered", "read", "failed"] as const;
export type StatusKind = (typeof STATUS_KINDS)[number];

export type StatusRequest = { messageId: string; status: StatusKind; code?: number };

type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

const MAX = 4096;
const str = (v: unknown, max = MAX): string | undefined =>
  typeof v === "string" && v.trim() !== "" ? v.slice(0, max) : undefined;
const num = (v: unknown): number | undefined => {
  const n = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : Number.NaN;
  return Number.isFinite(n) ? n : undefined;
};

/** The page's request body, checked: which fields each type needs. */
export function parseCustomerMessage(raw: unknown): Parsed<CustomerMessage> {
  const b = (raw ?? {}) as Record<string, unknown>;
  const phoneNumberId = str(b.phoneNumberId, 64);
  const from = str(b.from, 32);
  const type = (b.type ?? "text") as CustomerType;
  if (!phoneNumberId || !from) return { ok: false, message: "phoneNumberId and from are required" };
  if (!/^\d+$/.test(from)) return { ok: false, message: "from must be a WhatsApp id (digits)" };
  if (!CUSTOMER_TYPES.includes(type)) {
    return { ok: false, message: `type must be one of ${CUSTOMER_TYPES.join(", ")}` };
  }
  const m: CustomerMessage = { phoneNumberId, from, name: str(b.name, 256) ?? "Customer", type };
  const optional = {
    text: str(b.text),
    caption: str(b.caption),
    filename: str(b.filename, 240),
    latitude: num(b.latitude),
    longitude: num(b.longitude),
    place: str(b.place, 256),
    contactName: str(b.contactName, 256),
    contactPhone: str(b.contactPhone, 32),
    title: str(b.title, 24),
    contextId: str(b.contextId, 256),
    emoji: str(b.emoji, 16),
  };
  for (const [k, val] of Object.entries(optional)) if (val !== undefined) Object.assign(m, { [k]: val });
  if (b.ageSeconds !== undefined && b.ageSeconds !== "" && b.ageSeconds !== 0 && b.ageSeconds !== "0") {
    const age = num(b.ageSeconds);
    if (age === undefined || !Number.isInteger(age) || age < 0 || age > MAX_AGE_SECONDS) {
      return { ok: false, message: `ageSeconds must be a whole number from 0 to ${MAX_AGE_SECONDS}` };
    }
    m.ageSeconds = age;
  }
  const need = (ok: boolean, message: string): Parsed<CustomerMessage> =>
    ok ? { ok: true, value: m } : { ok: false, message };
  switch (type) {
    case "text":
      return need(!!m.text, "text is required");
    case "location":
      return need(
        m.latitude !== undefined &&
          m.longitude !== undefined &&
          Math.abs(m.latitude) <= 90 &&
          Math.abs(m.longitude) <= 180,
        "latitude (-90..90) and longitude (-180..180) are required",
      );
    case "contacts":
      return need(!!m.contactName && !!m.contactPhone, "contactName and contactPhone are required");
    case "button_reply":
    case "list_reply":
      return need(!!m.title, "title is required");
    case "reaction":
      return need(!!m.contextId && !!m.emoji, "contextId (the message reacted to) and emoji are required");
    default:
      return { ok: true, value: m };
  }
}

/** A reply id the way a business would name its buttons and rows: from the title. */
const replyId = (title: string) =>
  title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_|_$/g, "") || "choice";

/** The element of `value.messages[]` for this message. */
function messageElement(m: CustomerMessage, businessNumber: string) {
  const c = {
    from: m.from,
    ...(m.ageSeconds ? { timestamp: Math.floor(Date.now() / 1000) - m.ageSeconds } : {}),
  };
  const caption = m.caption !== undefined ? { caption: m.caption } : {};
  const ctx = m.contextId !== undefined ? { contextId: m.contextId } : {};
  switch (m.type) {
    case "text":
      return waText({ ...c, body: m.text ?? "" });
    case "image":
      return waImage({ ...c, ...caption });
    case "video":
      return waVideo({ ...c, ...caption });
    case "audio":
      return waAudio(c);
    case "document":
      return waDocument({ ...c, ...caption, ...(m.filename ? { filename: m.filename } : {}) });
    case "sticker":
      return waSticker(c);
    case "location":
      return waLocation({
        ...c,
        latitude: m.latitude ?? 0,
        longitude: m.longitude ?? 0,
        ...(m.place ? { name: m.place } : {}),
      });
    case "contacts": {
      const [firstName, ...rest] = (m.contactName ?? "").split(" ");
      return waContacts({
        ...c,
        cards: [
          {
            formattedName: m.contactName ?? "",
            ...(firstName ? { firstName } : {}),
            ...(rest.length ? { lastName: rest.join(" ") } : {}),
            phones: [m.contactPhone ?? ""],
          },
        ],
      });
    }
    case "button_reply":
      return waButtonReply({
        ...c,
        ...ctx,
        businessNumber,
        title: m.title ?? "",
        replyId: replyId(m.title ?? ""),
      });
    case "list_reply":
      return waListReply({
        ...c,
        ...ctx,
        businessNumber,
        title: m.title ?? "",
        replyId: replyId(m.title ?? ""),
      });
    case "reaction":
      return waReaction({ ...c, messageId: m.contextId ?? "", ...(m.emoji ? { emoji: m.emoji } : {}) });
    case "unsupported":
      return waUnsupported(c);
  }
}

/** What the chat shows for the customer's own message. */
export function preview(m: CustomerMessage): string {
  const withCaption = (label: string) => (m.caption ? `${label} ${m.caption}` : label);
  switch (m.type) {
    case "text":
      return m.text ?? "";
    case "image":
      return withCaption("🖼️ Photo");
    case "video":
      return withCaption("🎬 Video");
    case "audio":
      return "🎤 Voice message";
    case "document":
      return withCaption(`📄 ${m.filename ?? "menu-request.pdf"}`);
    case "sticker":
      return "Sticker";
    case "location":
      return `📍 ${m.place ? `${m.place} ` : ""}(${m.latitude}, ${m.longitude})`;
    case "contacts":
      return `👤 ${m.contactName} ${m.contactPhone}`;
    case "button_reply":
      return `Tapped button: ${m.title}`;
    case "list_reply":
      return `Chose from list: ${m.title}`;
    case "reaction":
      return `Reacted ${m.emoji} to the last reply`;
    case "unsupported":
      return "Unsupported message (e.g. an edit)";
  }
}

/**
 * The signed-ready webhook body for one customer message, and its wamid. `displayPhoneNumber` is
 * the business number as Meta writes it (digits): it is both the metadata and a reply's `context.from`.
 */
export function customerPayload(m: CustomerMessage, displayPhoneNumber = "15550783881") {
  const message = messageElement(m, displayPhoneNumber);
  return {
    payload: whatsappSingle({
      phoneNumberId: m.phoneNumberId,
      displayPhoneNumber,
      profiles: [{ waId: m.from, name: m.name }],
      messages: [message],
    }),
    messageId: message.id,
  };
}

/** The page's request to play Meta on one of our sends, checked. */
export function parseStatusRequest(raw: unknown): Parsed<StatusRequest> {
  const b = (raw ?? {}) as Record<string, unknown>;
  const messageId = str(b.messageId, 256);
  const status = b.status as StatusKind;
  if (!messageId) return { ok: false, message: "messageId is required" };
  if (!STATUS_KINDS.includes(status)) {
    return { ok: false, message: `status must be one of ${STATUS_KINDS.join(", ")}` };
  }
  if (status !== "failed") return { ok: true, value: { messageId, status } };
  const code = b.code === undefined || b.code === "" ? 131026 : num(b.code);
  if (code === undefined || !Number.isInteger(code) || code <= 0) {
    return { ok: false, message: "code must be a positive integer" };
  }
  return { ok: true, value: { messageId, status, code } };
}

const RANK: Record<string, number> = { sent: 1, delivered: 2, read: 3, failed: 9 };

/**
 * Whether a reply showing `current` should now show `next`: the pipeline's rule, statuses only
 * move forward and failed is terminal, so the page never shows what D1 did not record.
 */
export const advances = (current: string | undefined, next: string) =>
  (RANK[next] ?? 0) > (RANK[current ?? "sent"] ?? 0);

/** Titles Meta gives the error codes a person is likely to try; others get a generic title. */
const FAILURE_TITLES: Record<number, string> = {
  131026: "Message undeliverable",
  131047: "Re-engagement message",
  131049: "This message was not delivered to maintain healthy ecosystem engagement.",
  131050: "User has stopped receiving marketing messages",
  131053: "Media upload error",
};

/** The `statuses` webhook Meta would send about our message `messageId` to `recipientId`. */
export function statusPayload(
  s: StatusRequest & { phoneNumberId: string; recipientId: string; details?: string },
  displayPhoneNumber = "15550783881",
) {
  const input = { id: s.messageId, recipientId: s.recipientId };
  const status =
    s.status === "delivered"
      ? waStatusDelivered(input)
      : s.status === "read"
        ? waStatusRead(input)
        : waStatusFailed({
            ...input,
            code: s.code ?? 131026,
            title: FAILURE_TITLES[s.code ?? 131026] ?? "Message failed to send",
            details: s.details ?? "Played from the sandbox's customer page.",
          });
  return whatsappSingle({ phoneNumberId: s.phoneNumberId, displayPhoneNumber, statuses: [status] });
}
