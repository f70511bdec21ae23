import type { Attachment, InboundMessage, MessageKind } from "@concierge/core";
import { MAX_TEXT_LENGTH } from "@concierge/core";
import * as v from "valibot";

/**
 * The Instagram messaging webhook (Messenger Platform for Instagram), as Meta documents it:
 * `entry[].messaging[]` events with `sender`, `recipient`, `timestamp` (milliseconds) and one of
 * `message`, `reaction`, `read`, `postback`. Objects are loose: Meta adds fields (and attachment
 * types) without notice, and an unknown one must never make us drop a customer's message.
 */
const EventSchema = v.looseObject({
  sender: v.looseObject({ id: v.string() }),
  recipient: v.looseObject({ id: v.string() }),
  timestamp: v.optional(v.number()),
});

const AttachmentSchema = v.looseObject({
  type: v.string(),
  payload: v.optional(v.nullable(v.looseObject({ url: v.optional(v.string()) }))),
});

const MessageSchema = v.looseObject({
  mid: v.string(),
  text: v.optional(v.string()),
  attachments: v.optional(v.array(v.unknown())),
  reply_to: v.optional(
    v.looseObject({
      story: v.optional(v.looseObject({ id: v.optional(v.string()), url: v.optional(v.string()) })),
      mid: v.optional(v.string()),
    }),
  ),
  quick_reply: v.optional(v.looseObject({ payload: v.optional(v.string()) })),
  is_echo: v.optional(v.boolean()),
  is_deleted: v.optional(v.boolean()),
  is_unsupported: v.optional(v.boolean()),
});

const PostbackSchema = v.looseObject({
  mid: v.string(),
  title: v.optional(v.string()),
  payload: v.optional(v.string()),
});

const ReactionSchema = v.looseObject({ mid: v.optional(v.string()), action: v.optional(v.string()) });
const ReadSchema = v.looseObject({ mid: v.optional(v.string()) });

export const InstagramWebhookSchema = v.looseObject({
  object: v.literal("instagram"),
  entry: v.array(
    v.looseObject({
      id: v.string(),
      messaging: v.optional(v.array(v.unknown()), []),
    }),
  ),
});
export type InstagramWebhook = v.InferOutput<typeof InstagramWebhookSchema>;

/** What the logs say about a webhook: events, ids and reasons, never content. */
export type IgNote = {
  event:
    | "instagram.skipped"
    | "instagram.echo_ignored"
    | "instagram.reaction_ignored"
    | "instagram.read_ignored"
    | "instagram.deleted";
  reason?: string;
  id?: string;
};

export type IgNormalized = { messages: InboundMessage[]; notes: IgNote[] };

/**
 * Neutral lines for what comes without words of its own, so rules, the AI and a person can read
 * it. They describe the event, never its content (the story or post itself is not fetched).
 */
export const IG_SUMMARY = {
  storyReply: "[replied to your story]",
  storyMention: "[mentioned you in their story]",
  share: "[shared a post]",
  reel: "[shared a reel]",
} as const;

const MEDIA_TYPES = new Set(["image", "video", "audio", "file"]);
const SHARE_TYPES = new Set(["share", "ig_post"]);

const clip = (s: string) => s.slice(0, MAX_TEXT_LENGTH);
/** Meta's vocabulary, safe as metadata. */
const typeName = (t: string) => t.replace(/[^\w.-]/g, "").slice(0, 32) || "unknown";

function parse<T extends v.GenericSchema>(schema: T, value: unknown): v.InferOutput<T> | null {
  const r = v.safeParse(schema, value);
  return r.success ? r.output : null;
}

type Content = {
  kind: MessageKind;
  text: string;
  hasAttachment: boolean;
  attachment?: Attachment;
  providerType?: string;
  replyId?: string;
};

/**
 * The attachment's handle: Instagram sends a signed CDN URL rather than a media id. It is kept
 * (sealed, like the text) only when it fits; it is never fetched here.
 */
function handle(type: string, a: v.InferOutput<typeof AttachmentSchema>): Attachment | undefined {
  const url = a.payload?.url;
  if (!url || url.length > 512) return undefined;
  return { type: typeName(type), mediaId: url };
}

const withText = (summary: string, text: string) => clip(text ? `${summary}\n${text}` : summary);

function content(m: v.InferOutput<typeof MessageSchema>): Content {
  const text = (m.text ?? "").trim();
  if (m.is_unsupported)
    return { kind: "unsupported", text: "", hasAttachment: false, providerType: "unsupported" };
  const attachments = (m.attachments ?? [])
    .map((a) => parse(AttachmentSchema, a))
    .filter((a): a is v.InferOutput<typeof AttachmentSchema> => a !== null);
  const find = (pred: (t: string) => boolean) => attachments.find((a) => pred(a.type));
  const media = (type: string, a: v.InferOutput<typeof AttachmentSchema>, line: string) => {
    const attachment = handle(type, a);
    return {
      kind: "media" as const,
      text: line,
      hasAttachment: true,
      ...(attachment ? { attachment } : {}),
      providerType: typeName(type),
    };
  };
  const mention = find((t) => t === "story_mention");
  if (mention) return media("story_mention", mention, withText(IG_SUMMARY.storyMention, text));
  const share = find((t) => SHARE_TYPES.has(t));
  // Since November 2025 a shared post comes as `share` plus `ig_post`: one summary for both.
  if (share) return media("share", share, withText(IG_SUMMARY.share, text));
  const reel = find((t) => t === "ig_reel" || t === "reel");
  if (reel) return media("ig_reel", reel, withText(IG_SUMMARY.reel, text));
  const file = find((t) => MEDIA_TYPES.has(t)) ?? attachments[0];
  if (file) return media(file.type, file, clip(text));
  if (m.reply_to?.story) {
    return {
      kind: "text",
      text: withText(IG_SUMMARY.storyReply, text),
      hasAttachment: false,
      providerType: "story_reply",
    };
  }
  const payload = m.quick_reply?.payload;
  if (payload) {
    return {
      kind: "interactive",
      text: clip(text),
      hasAttachment: false,
      providerType: "quick_reply",
      replyId: payload.slice(0, 512),
    };
  }
  if (!text) return { kind: "unsupported", text: "", hasAttachment: false, providerType: "empty" };
  return { kind: "text", text: clip(text), hasAttachment: false };
}

/**
 * Every customer DM in a webhook, across all its entries and events. Echoes of our own sends,
 * reactions, reads and deletions ask for no answer: they are noted (ids only) and dropped.
 * Duplicates are left to the pipeline, which de-duplicates on the message id (`mid`).
 */
export function normalizeInstagram(payload: InstagramWebhook): IgNormalized {
  const out: IgNormalized = { messages: [], notes: [] };
  for (const entry of payload.entry) {
    for (const raw of entry.messaging) {
      const e = parse(EventSchema, raw);
      if (!e) {
        out.notes.push({ event: "instagram.skipped", reason: "unrecognized_event" });
        continue;
      }
      const event = raw as Record<string, unknown>;
      const sentAt = e.timestamp && e.timestamp > 0 ? Math.floor(e.timestamp) : Date.now();
      const base = {
        channel: "instagram" as const,
        // The business account the DM was sent to; `entry.id` names the same account.
        accountExternalId: e.recipient.id || entry.id,
        customerId: e.sender.id,
        sentAt,
      };
      if (event.message !== undefined) {
        const m = parse(MessageSchema, event.message);
        if (!m) {
          out.notes.push({ event: "instagram.skipped", reason: "unrecognized_message" });
          continue;
        }
        if (m.is_echo) {
          out.notes.push({ event: "instagram.echo_ignored", id: m.mid });
          continue;
        }
        if (m.is_deleted) {
          out.notes.push({ event: "instagram.deleted", id: m.mid });
          continue;
        }
        out.messages.push({ ...base, providerMessageId: m.mid, ...content(m) });
        continue;
      }
      if (event.postback !== undefined) {
        const p = parse(PostbackSchema, event.postback);
        if (!p) {
          out.notes.push({ event: "instagram.skipped", reason: "unrecognized_postback" });
          continue;
        }
        out.messages.push({
          ...base,
          providerMessageId: p.mid,
          kind: "interactive",
          text: clip(p.title ?? ""),
          hasAttachment: false,
          providerType: "postback",
          ...(p.payload ? { replyId: p.payload.slice(0, 512) } : {}),
        });
        continue;
      }
      if (event.reaction !== undefined) {
        // Which message was reacted to is enough for the logs; the emoji is the customer's.
        out.notes.push({
          event: "instagram.reaction_ignored",
          id: parse(ReactionSchema, event.reaction)?.mid,
        });
        continue;
      }
      if (event.read !== undefined) {
        out.notes.push({ event: "instagram.read_ignored", id: parse(ReadSchema, event.read)?.mid });
        continue;
      }
      const kinds = Object.keys(event).filter((k) => !["sender", "recipient", "timestamp"].includes(k));
      out.notes.push({ event: "instagram.skipped", reason: `event:${typeName(kinds[0] ?? "none")}` });
    }
  }
  return out;
}
