import * as v from "valibot";

export const ChannelSchema = v.picklist(["whatsapp", "instagram", "email", "discord"]);
export type Channel = v.InferOutput<typeof ChannelSchema>;

export const MessageKindSchema = v.picklist([
  "text",
  "media",
  "interactive",
  "location",
  "contacts",
  "unsupported",
]);
export type MessageKind = v.InferOutput<typeof MessageKindSchema>;

const Id = (max: number) => v.pipe(v.string(), v.minLength(1), v.maxLength(max));

/** Upper bound on one message's text; anything longer is cut by the ingress before it gets here. */
export const MAX_TEXT_LENGTH = 16_384;

/** A file the customer sent, as the provider's handle: fetched later if ever, never at ingest. */
export const AttachmentSchema = v.object({
  /** The provider's media type: image, audio, video, document, sticker, … */
  type: v.pipe(v.string(), v.minLength(1), v.maxLength(32)),
  mediaId: Id(512),
  mimeType: v.optional(v.pipe(v.string(), v.maxLength(255))),
});
export type Attachment = v.InferOutput<typeof AttachmentSchema>;

/** RFC 5322 Message-IDs as they appear in headers, angle brackets included. */
const MessageIdSchema = v.pipe(v.string(), v.minLength(3), v.maxLength(998), v.regex(/^<[^<>\s]+>$/));

/** Why mail its rules would forward or answer automatically went to the inbox instead. */
export const EMAIL_RELAY_REASONS = [
  "subscription_inactive",
  "sender_unauthenticated",
  "daily_limit",
  "loop",
  "auto_submitted",
  "forward_unknown",
] as const;
export type EmailRelayReason = (typeof EMAIL_RELAY_REASONS)[number];

/**
 * What the email ingress decided and what a threaded reply needs. Ids and addresses only: the
 * subject and text travel in the message's own fields and are sealed with them.
 */
export const InboundEmailSchema = v.object({
  /** The routing action that sent it into the pipeline. */
  route: v.picklist(["auto_reply", "relay"]),
  /** The routing rule that won; null when the default action applied. */
  ruleId: v.nullable(v.pipe(v.string(), v.maxLength(64))),
  /**
   * Why a forward or automatic reply was turned into a relay: the subdomain's plan lapsed, the
   * sender did not authenticate, the tenant's daily cap on automatic mail was reached, the mail
   * is our own coming back or went round too many hops (`loop`), a machine wrote it
   * (`auto_submitted`), or a forward's send has an unknown outcome (`forward_unknown`).
   */
  relayReason: v.optional(v.picklist(EMAIL_RELAY_REASONS)),
  /** RFC 3834: automatic mail (vacation replies, bounces, lists) is never answered automatically. */
  automatic: v.boolean(),
  automaticReason: v.nullable(v.pipe(v.string(), v.maxLength(64))),
  /** The envelope recipient: the address on the subdomain the customer wrote to. */
  to: v.pipe(v.string(), v.minLength(3), v.maxLength(320)),
  inReplyTo: v.nullable(MessageIdSchema),
  /** The References chain, capped: the newest 20 ids are enough to thread. */
  references: v.pipe(v.array(MessageIdSchema), v.maxLength(20)),
});
export type InboundEmail = v.InferOutput<typeof InboundEmailSchema>;

/**
 * One customer message, the same shape for every channel. Ingress Workers produce it; the pipeline
 * is the only consumer. It crosses the service binding in memory and is never persisted as-is.
 */
export const InboundMessageSchema = v.object({
  channel: ChannelSchema,
  /** The channel account as the provider names it: phone_number_id, page id, email subdomain. */
  accountExternalId: Id(128),
  /** The provider's id for this message, the de-duplication key (wamid, mid, Message-ID). */
  providerMessageId: Id(512),
  customerId: Id(320),
  customerName: v.optional(v.pipe(v.string(), v.maxLength(256))),
  /** When the provider says the customer sent it, epoch milliseconds. */
  sentAt: v.pipe(v.number(), v.integer(), v.minValue(0)),
  kind: MessageKindSchema,
  text: v.pipe(v.string(), v.maxLength(MAX_TEXT_LENGTH)),
  subject: v.optional(v.pipe(v.string(), v.maxLength(1000))),
  hasAttachment: v.boolean(),
  /** The attachment's provider handle, when there is one; never downloaded at ingest. */
  attachment: v.optional(AttachmentSchema),
  /**
   * The provider's own name for what arrived when `kind` is coarser ("sticker", "button_reply",
   * "list_reply", "button", an unsupported type's name): metadata, so the tenant can see it.
   */
  providerType: v.optional(v.pipe(v.string(), v.maxLength(64))),
  /** The id or payload the business gave the button or list row the customer tapped. */
  replyId: v.optional(v.pipe(v.string(), v.maxLength(512))),
  /** Email only: the routing decision and threading ids. */
  email: v.optional(InboundEmailSchema),
});
export type InboundMessage = v.InferOutput<typeof InboundMessageSchema>;

export const IngestBatchSchema = v.pipe(v.array(InboundMessageSchema), v.minLength(1), v.maxLength(100));

export const IngestStatusSchema = v.picklist([
  "accepted",
  "duplicate",
  "unknown_account",
  "inactive_account",
]);
export type IngestStatus = v.InferOutput<typeof IngestStatusSchema>;

/** RPC results carry the same error envelope as HTTP answers instead of throwing across the binding. */
export type IngestResult =
  | { ok: true; results: { providerMessageId: string; status: IngestStatus }[] }
  | { ok: false; error: { code: string; message: string } };
