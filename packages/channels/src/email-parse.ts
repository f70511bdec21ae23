import { sha256Hex } from "@concierge/crypto";
import { MAX_TEXT_LENGTH } from "@concierge/core";
import type { EmailFacts } from "@concierge/rules";
import PostalMime, { type Address } from "postal-mime";
import { isMessageId, messageIds } from "./email.ts";

/**
 * The largest message we accept, checked on `rawSize` BEFORE parsing. Parsing holds the raw
 * message, the decoded parts and base64 copies of the attachments in memory at once (about
 * 3-4x the raw size), which must stay well inside a Worker's 128 MB; 10 MB of raw MIME is
 * roughly 7 MB of attachments after base64, enough for a scanned document or a few photos.
 */
export const MAX_EMAIL_BYTES = 1024 * 1024 * 10;

export type ParsedAttachment = {
  filename: string;
  contentType: string;
  /** Decoded size in bytes. */
  size: number;
  inline: boolean;
  contentId: string | null;
  /** Base64. */
  data: string;
};

/** `get`: every occurrence joined; `all`: each occurrence on its own, top to bottom (trace headers). */
export type EmailHeaders = { get(name: string): string | null; all(name: string): string[] };

export type ParsedEmail = {
  /** "<…>"; synthesised from a hash of the raw bytes when the message has none, so it is stable across retries. */
  messageId: string;
  /** Lowercased address, "" when the message has no usable From. */
  from: string;
  fromName: string | null;
  to: string[];
  subject: string;
  /** The text part, or the HTML as plain text when there is no text part; trimmed and capped. */
  text: string;
  html: string | null;
  inReplyTo: string | null;
  references: string[];
  /** Milliseconds since the epoch. */
  date: number | null;
  /** True for real attachments; inline images referenced from the HTML by cid do not count. */
  hasAttachment: boolean;
  attachments: ParsedAttachment[];
  headers: EmailHeaders;
};

async function bytesOf(raw: ArrayBuffer | Uint8Array | string | ReadableStream): Promise<Uint8Array> {
  if (typeof raw === "string") return new TextEncoder().encode(raw);
  if (raw instanceof Uint8Array) return raw;
  if (raw instanceof ArrayBuffer) return new Uint8Array(raw);
  return new Uint8Array(await new Response(raw).arrayBuffer());
}

/** Where the body starts: after the first empty line (CRLF CRLF, or LF LF from a lax sender). */
function bodyStart(bytes: Uint8Array): number {
  for (let i = 0; i + 1 < bytes.length; i++) {
    if (bytes[i] !== 10) continue;
    if (bytes[i + 1] === 10) return i + 2;
    if (bytes[i + 1] === 13 && bytes[i + 2] === 10) return i + 3;
  }
  return bytes.length;
}

/**
 * An id for a mail without a Message-ID that is the same every time the mail is delivered: from
 * the sender's own part (From, To, Date, Subject and the body), never the whole message, since
 * every delivery prepends fresh trace and authentication headers (Received, ARC-*) with their
 * own timestamps. Retries must find the same id, or a forward or a claim would happen twice.
 */
async function syntheticMessageId(
  bytes: Uint8Array,
  email: { from?: unknown; to?: unknown; date?: string; subject?: string },
): Promise<string> {
  // Without a Date either, two mails the same in every other way (a script's repeated alert)
  // would be one: the whole bytes tell them apart, at the cost of stable redeliveries.
  if (!email.date) return `<${(await sha256Hex(bytes)).slice(0, 32)}@synthesised.invalid>`;
  const head = new TextEncoder().encode(
    `${JSON.stringify([email.from ?? null, email.to ?? null, email.date ?? null, email.subject ?? null])}\n`,
  );
  const body = bytes.subarray(bodyStart(bytes));
  const joined = new Uint8Array(head.length + body.length);
  joined.set(head);
  joined.set(body, head.length);
  return `<${(await sha256Hex(joined)).slice(0, 32)}@synthesised.invalid>`;
}

function mailboxes(list: readonly Address[] | Address | undefined): { address: string; name: string }[] {
  if (list === undefined) return [];
  const out: { address: string; name: string }[] = [];
  for (const a of Array.isArray(list) ? list : [list]) {
    if (a.group) out.push(...a.group);
    else if (a.address) out.push({ address: a.address, name: a.name });
  }
  return out;
}

/** Domains are case-insensitive; local parts may not be (reply tokens live there). */
function lowerDomain(addr: string): string {
  const at = addr.lastIndexOf("@");
  return at === -1 ? addr : addr.slice(0, at) + addr.slice(at).toLowerCase();
}

/** Cut at a code point boundary, never inside a surrogate pair. */
function capText(s: string, max: number): string {
  if (s.length <= max) return s;
  const cut = s.slice(0, max);
  const last = cut.charCodeAt(cut.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}

const ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: " ",
  hellip: "…",
  mdash: "—",
  ndash: "–",
  lsquo: "‘",
  rsquo: "’",
  ldquo: "“",
  rdquo: "”",
  euro: "€",
  copy: "©",
  reg: "®",
};

function decodeEntities(s: string): string {
  return s.replace(/&(#[xX][0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-zA-Z]{2,8});/g, (whole, ref: string) => {
    if (ref[0] === "#") {
      const cp = ref[1] === "x" || ref[1] === "X" ? Number.parseInt(ref.slice(2), 16) : Number(ref.slice(1));
      return cp > 0 && cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff) ? String.fromCodePoint(cp) : whole;
    }
    return ENTITIES[ref.toLowerCase()] ?? whole;
  });
}

const BREAKS = new Set([
  "br",
  "p",
  "div",
  "li",
  "tr",
  "table",
  "ul",
  "ol",
  "blockquote",
  "hr",
  "h1",
  "h2",
  "h3",
  "h4",
  "h5",
  "h6",
  "pre",
  "section",
  "article",
  "header",
  "footer",
]);
const SKIPPED = new Set(["script", "style", "head", "title"]);

/**
 * HTML to readable text with a single forward scan (no backtracking regexes, so a hostile
 * body cannot make it slow). Good enough for matching rules and for a model to read; not a
 * renderer.
 */
export function htmlToPlainText(html: string): string {
  const lower = html.toLowerCase();
  let out = "";
  let i = 0;
  while (i < html.length) {
    const lt = html.indexOf("<", i);
    if (lt === -1) {
      out += html.slice(i);
      break;
    }
    out += html.slice(i, lt);
    if (html.startsWith("<!--", lt)) {
      const end = html.indexOf("-->", lt + 4);
      i = end === -1 ? html.length : end + 3;
      continue;
    }
    const gt = html.indexOf(">", lt + 1);
    if (gt === -1) break;
    const name = /^\/?([a-z0-9]+)/.exec(lower.slice(lt + 1, Math.min(gt, lt + 20)))?.[1] ?? "";
    i = gt + 1;
    if (SKIPPED.has(name) && lower[lt + 1] !== "/") {
      const close = lower.indexOf(`</${name}`, i);
      const closeEnd = close === -1 ? -1 : html.indexOf(">", close);
      i = closeEnd === -1 ? html.length : closeEnd + 1;
      continue;
    }
    if (BREAKS.has(name)) out += "\n";
    else if (name === "td" || name === "th") out += " ";
  }
  return decodeEntities(out)
    .replace(/\u00a0/g, " ")
    .split(/\r?\n/)
    .map((line) => line.replace(/[ \t\f\v]+/g, " ").trim())
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

function base64Size(b64: string): number {
  const len = b64.length;
  if (len === 0) return 0;
  const padding = b64.endsWith("==") ? 2 : b64.endsWith("=") ? 1 : 0;
  return Math.floor((len * 3) / 4) - padding;
}

function headerMap(headers: readonly { key: string; value: string }[]): EmailHeaders {
  const map = new Map<string, string[]>();
  for (const h of headers) {
    const list = map.get(h.key);
    if (list) list.push(h.value);
    else map.set(h.key, [h.value]);
  }
  return {
    get: (name: string) => map.get(name.toLowerCase())?.join(", ") ?? null,
    all: (name: string) => [...(map.get(name.toLowerCase()) ?? [])],
  };
}

/**
 * Parses a received message. The caller checks the size against MAX_EMAIL_BYTES first;
 * postal-mime's own limits (nesting depth, header size) reject pathological structure.
 */
export async function parseEmail(
  raw: ArrayBuffer | Uint8Array | string | ReadableStream,
): Promise<ParsedEmail> {
  const bytes = await bytesOf(raw);
  const email = await PostalMime.parse(bytes, { attachmentEncoding: "base64" });

  const ownId = messageIds([email.messageId ?? ""])[0];
  const messageId = ownId ?? (await syntheticMessageId(bytes, email));
  const sender = mailboxes(email.from)[0];
  const html = email.html ?? null;
  const text = email.text ?? (html === null ? "" : htmlToPlainText(html));
  const inReplyTo = messageIds([email.inReplyTo ?? ""])[0] ?? null;
  const date = email.date === undefined ? Number.NaN : Date.parse(email.date);

  // postal-mime's `related` only says "has a Content-ID inside multipart/related"; what matters
  // is whether the HTML actually shows the part, otherwise the customer sent it as a file.
  const htmlLower = html?.toLowerCase() ?? "";
  const shownInHtml = (cid: string | null) =>
    cid !== null && htmlLower.includes(`cid:${cid.slice(1, -1).toLowerCase()}`);
  const attachments = email.attachments.map((a): ParsedAttachment => {
    const data = typeof a.content === "string" ? a.content : "";
    const contentId = a.contentId && isMessageId(a.contentId) ? a.contentId : null;
    return {
      filename: a.filename ?? "",
      contentType: a.mimeType,
      size: base64Size(data),
      inline: shownInHtml(contentId) || a.disposition === "inline",
      contentId,
      data,
    };
  });

  return {
    messageId,
    from: sender ? sender.address.toLowerCase() : "",
    fromName: sender?.name ? sender.name : null,
    to: mailboxes(email.to).map((a) => lowerDomain(a.address)),
    subject: (email.subject ?? "").trim(),
    text: capText(text.replace(/\r\n/g, "\n").trim(), MAX_TEXT_LENGTH),
    html,
    inReplyTo,
    references: messageIds([email.references ?? ""]),
    date: Number.isNaN(date) ? null : date,
    hasAttachment: attachments.some((a) => !shownInHtml(a.contentId)),
    attachments,
    headers: headerMap(email.headers),
  };
}

/**
 * The facts routing rules look at; `to` is the envelope recipient, not the To header (rules
 * compare case-insensitively, so it is passed on as received).
 */
export function emailFacts(p: ParsedEmail, envelopeTo: string): EmailFacts {
  return {
    from: p.from,
    to: envelopeTo,
    subject: p.subject,
    body: p.text,
    hasAttachment: p.hasAttachment,
  };
}
