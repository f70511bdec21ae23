/**
 * Instagram messaging webhooks (Messenger Platform for Instagram, Instagram API with Facebook
 * Login), in the shapes of Meta's webhook reference and its notification examples:
 * `{ object: "instagram", entry: [{ id, time, messaging: [{ sender, recipient, timestamp, … }] }] }`.
 * Each builder returns one element of `entry[].messaging[]`; `instagramEntry` and
 * `instagramPayload` wrap them, so a test can put several entries and events in one body. Sign
 * and serialize with `signedMetaRequest` from `./meta.ts` (Meta's escaped unicode and slashes).
 */

/** `sender` is the customer's Instagram-scoped id, `recipient` the business account's id. */
export type IgCommon = { from: string; to: string; mid?: string; timestamp?: number };

let counter = 0;
/** Meta's message ids are base64 of an opaque key, starting `aWdf` ("ig_"). */
export function newMid(): string {
  counter += 1;
  const rand = crypto.getRandomValues(new Uint8Array(18));
  let s = "";
  for (const b of rand) s += String.fromCharCode(b);
  const tail = btoa(`${Date.now()}:${counter}:${s}`).replace(/[+/=]/g, "");
  return `aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOj${tail}`;
}

/** An Instagram-scoped id no other test uses (Meta's are 16–17 digits). */
export function uniqueIgsid(): string {
  return `17${String(Date.now()).slice(-9)}${Math.floor(Math.random() * 1e6)
    .toString()
    .padStart(6, "0")}`;
}

function envelope(c: IgCommon) {
  return {
    sender: { id: c.from },
    recipient: { id: c.to },
    timestamp: c.timestamp ?? Date.now(),
  };
}

const cdn = (asset: string) =>
  `https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=${asset}&signature=AbxVoHUdXGvYfo3-sd`;
const assetId = () => String(17_000_000_000_000_000 + Math.floor(Math.random() * 1e15));

export const igText = (c: IgCommon & { text: string }) => ({
  ...envelope(c),
  message: { mid: c.mid ?? newMid(), text: c.text },
});

/** `image`, `video`, `audio` (voice notes too) and `file` carry a CDN URL in `payload.url`. */
export function igAttachment(c: IgCommon & { type: "image" | "video" | "audio" | "file"; text?: string }) {
  return {
    ...envelope(c),
    message: {
      mid: c.mid ?? newMid(),
      ...(c.text !== undefined ? { text: c.text } : {}),
      attachments: [{ type: c.type, payload: { url: cdn(assetId()) } }],
    },
  };
}

/** A post shared into the DM: `share` and, since November 2025, an `ig_post` beside it. */
export function igShare(c: IgCommon) {
  const media = assetId();
  return {
    ...envelope(c),
    message: {
      mid: c.mid ?? newMid(),
      attachments: [
        { type: "share", payload: { url: cdn(media) } },
        {
          type: "ig_post",
          payload: { ig_post_media_id: media, title: "Our new masala chai blend", url: cdn(media) },
        },
      ],
    },
  };
}

/** A reel shared into the DM. */
export function igReel(c: IgCommon) {
  const media = assetId();
  return {
    ...envelope(c),
    message: {
      mid: c.mid ?? newMid(),
      attachments: [
        { type: "ig_reel", payload: { reel_video_id: media, title: "Morning chai", url: cdn(media) } },
      ],
    },
  };
}

/** The customer mentioned the business in their story: a `story_mention` attachment, no text. */
export function igStoryMention(c: IgCommon) {
  return {
    ...envelope(c),
    message: {
      mid: c.mid ?? newMid(),
      attachments: [{ type: "story_mention", payload: { url: cdn(assetId()) } }],
    },
  };
}

/** A reply to the business's story: the text, and `reply_to.story` naming the story. */
export function igStoryReply(c: IgCommon & { text: string }) {
  const story = assetId();
  return {
    ...envelope(c),
    message: {
      mid: c.mid ?? newMid(),
      text: c.text,
      reply_to: { story: { url: cdn(story), id: story } },
    },
  };
}

/** A reply quoting an earlier message of the thread: `reply_to.mid`. */
export const igReplyTo = (c: IgCommon & { text: string; replyToMid: string }) => ({
  ...envelope(c),
  message: { mid: c.mid ?? newMid(), text: c.text, reply_to: { mid: c.replyToMid } },
});

/** Our own send, echoed back: the business is the sender and `is_echo` is set. */
export const igEcho = (c: IgCommon & { text: string }) => ({
  ...envelope(c),
  message: { mid: c.mid ?? newMid(), text: c.text, is_echo: true },
});

export const igDeleted = (c: IgCommon) => ({
  ...envelope(c),
  message: { mid: c.mid ?? newMid(), is_deleted: true },
});

/** Something Instagram does not pass on through the API. */
export const igUnsupported = (c: IgCommon) => ({
  ...envelope(c),
  message: { mid: c.mid ?? newMid(), is_unsupported: true },
});

export const igReaction = (
  c: IgCommon & { reactedMid: string; action?: "react" | "unreact"; emoji?: string },
) => ({
  ...envelope(c),
  reaction: {
    mid: c.reactedMid,
    action: c.action ?? "react",
    ...(c.action === "unreact" ? {} : { reaction: "love", emoji: c.emoji ?? "\u2764\ufe0f" }),
  },
});

export const igRead = (c: IgCommon & { readMid: string }) => ({
  ...envelope(c),
  read: { mid: c.readMid },
});

/** An icebreaker or a button tapped: `postback` with the title shown and the payload set. */
export const igPostback = (c: IgCommon & { title: string; payload: string }) => ({
  ...envelope(c),
  postback: { mid: c.mid ?? newMid(), title: c.title, payload: c.payload },
});

/** One `entry[]` element: the business account id and its events. */
export const instagramEntry = (accountId: string, ...messaging: unknown[]) => ({
  time: Date.now(),
  id: accountId,
  messaging,
});

export const instagramPayload = (...entries: unknown[]) => ({ object: "instagram", entry: entries });
