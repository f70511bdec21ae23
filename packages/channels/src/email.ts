import { createMimeMessage, Mailbox } from "mimetext/browser";

/** Marks every message Concierge sends, so that mail loops can be recognised and broken. */
export const LOOP_HEADER = "X-Concierge-Loop";

export type NotificationEmail = {
  from: string;
  fromName?: string;
  to: string;
  subject: string;
  text: string;
};

const ADDRESS = /^[^\s@<>()",;:]+@[^\s@<>()",;:]+\.[^\s@<>()",;:]+$/;

/** A plain address, checked: nothing from outside is ever pasted into a header unchecked. */
export function isPlainAddress(s: string): boolean {
  return s.length <= 254 && ADDRESS.test(s);
}

/**
 * An automatic notification to a tenant (RFC 3834: `Auto-Submitted: auto-generated`), built
 * with mimetext. Line breaks in the subject are removed: header injection is impossible.
 */
export function buildNotificationEmail(n: NotificationEmail): string {
  if (!isPlainAddress(n.from) || !isPlainAddress(n.to)) throw new Error("invalid email address");
  const msg = createMimeMessage();
  msg.setSender(n.fromName ? { name: n.fromName.replace(/[\r\n"]/g, " "), addr: n.from } : n.from);
  msg.setRecipient(n.to);
  msg.setSubject(n.subject.replace(/[\r\n]+/g, " ").slice(0, 200));
  msg.setHeader("Auto-Submitted", "auto-generated");
  msg.setHeader(LOOP_HEADER, "1");
  msg.addMessage({ contentType: "text/plain", data: n.text });
  return msg.asRaw();
}

/** A mailbox for a header: the address is checked, the display name is cleaned. */
export type MailAddress = { addr: string; name?: string };

const MAX_NAME_LENGTH = 64;
const MAX_SUBJECT_LENGTH = 200;
const MAX_REFERENCES = 20;
/** Printable ASCII without `<`, `>` or whitespace, inside angle brackets (RFC 5322 msg-id, loosely). */
const MESSAGE_ID = /^<[!-;=?-~]{1,250}>$/;
const HOSTNAME =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;
/** Control characters (C0, DEL, C1) and Unicode line/paragraph separators: none may reach a header. */
const CONTROL = /[\p{Cc}\p{Zl}\p{Zp}]+/gu;
const MIME_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/i;

/** One line of header text: control characters become spaces, runs of space collapse, length capped. */
export function headerText(s: string, max: number): string {
  const clean = s.replace(CONTROL, " ").replace(/\s+/g, " ").trim();
  return Array.from(clean).slice(0, max).join("");
}

function checkedAddress(addr: string): string {
  if (!isPlainAddress(addr)) throw new Error("invalid email address");
  return addr;
}

function mailbox(m: MailAddress): { addr: string; name?: string } {
  const addr = checkedAddress(m.addr);
  // mimetext quotes or encodes the name; a `"` or `\` would still end a quoted string early.
  const name = m.name === undefined ? "" : headerText(m.name.replace(/["\\]/g, " "), MAX_NAME_LENGTH);
  return name ? { addr, name } : { addr };
}

/** A message id is only ever copied into a header when it is well formed. */
export function isMessageId(s: string): boolean {
  return MESSAGE_ID.test(s);
}

/**
 * The ids of a References/In-Reply-To value, well-formed ones only, in order, without
 * duplicates. Accepts whole header values ("<a@x> <b@y>") as well as single ids.
 */
export function messageIds(values: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const value of values) {
    for (const token of value.split(/[\s,]+/)) {
      if (isMessageId(token) && !seen.has(token)) {
        seen.add(token);
        out.push(token);
      }
    }
  }
  return out;
}

function base64Utf8(s: string): string {
  const bytes = new TextEncoder().encode(s);
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return wrap76(btoa(bin));
}

function wrap76(b64: string): string {
  return b64.replace(/.{1,76}/g, "$&\r\n").replace(/\r\n$/, "");
}

/**
 * RFC 2047 encoded words of at most 75 characters each, folded onto continuation lines, so
 * that a long or non-ASCII subject never produces an over-long header line.
 */
function encodedWords(s: string): string {
  const enc = new TextEncoder();
  const words: string[] = [];
  let chunk = "";
  let bytes = 0;
  for (const ch of s) {
    const n = enc.encode(ch).length;
    if (bytes + n > 45 && chunk) {
      words.push(chunk);
      chunk = "";
      bytes = 0;
    }
    chunk += ch;
    bytes += n;
  }
  if (chunk) words.push(chunk);
  if (words.length === 0) return "";
  return words.map((w) => `=?utf-8?B?${base64Utf8(w)}?=`).join("\r\n ");
}

/** Parameter values (file names) go inside quotes: keep them short and free of quotes. */
function fileName(name: string): string {
  const clean = headerText(name.replace(/["\\/]/g, "_"), 100) || "attachment";
  return /^[\x20-\x7e]*$/.test(clean) ? clean : encodedWords(clean).replace(/\r\n /g, "");
}

function newMessageId(domain: string): string {
  if (!HOSTNAME.test(domain)) throw new Error("invalid message id domain");
  return `<${crypto.randomUUID()}@${domain.toLowerCase()}>`;
}

type Attachment = {
  filename: string;
  contentType: string;
  data: string;
  inline?: boolean;
  contentId?: string;
};

type Built = {
  from: MailAddress;
  to: string;
  subject: string;
  text: string;
  html?: string;
  messageIdDomain: string;
};

function build(
  m: Built,
  extra: { name: string; value: string | Mailbox }[],
  attachments: readonly Attachment[] = [],
): { raw: string; messageId: string } {
  const msg = createMimeMessage();
  msg.setSender(mailbox(m.from));
  msg.setRecipient(checkedAddress(m.to));
  const subjectField = msg.headers.fields.find((f) => f.name === "Subject");
  // mimetext would put the whole subject into one encoded word of unbounded length.
  if (subjectField) subjectField.dump = (v) => (typeof v === "string" ? encodedWords(v) : "");
  msg.setSubject(headerText(m.subject, MAX_SUBJECT_LENGTH));
  const messageId = newMessageId(m.messageIdDomain);
  msg.setHeader("Message-ID", messageId);
  for (const h of extra) msg.setHeader(h.name, h.value);
  msg.setHeader(LOOP_HEADER, "1");
  // Bodies are base64: any bytes, any line length, and nothing in them can look like a boundary.
  msg.addMessage({ contentType: "text/plain", data: base64Utf8(m.text), encoding: "base64" });
  if (m.html !== undefined) {
    msg.addMessage({ contentType: "text/html", data: base64Utf8(m.html), encoding: "base64" });
  }
  for (const a of attachments) {
    const data = a.data.replace(/\s+/g, "");
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(data)) throw new Error("attachment data is not base64");
    const headers: Record<string, string> = {};
    if (a.contentId !== undefined) {
      const cid = a.contentId.startsWith("<") ? a.contentId : `<${a.contentId}>`;
      if (isMessageId(cid)) headers["Content-ID"] = cid;
    }
    msg.addAttachment({
      filename: fileName(a.filename),
      contentType: MIME_TYPE.test(a.contentType) ? a.contentType.toLowerCase() : "application/octet-stream",
      data: wrap76(data),
      encoding: "base64",
      inline: a.inline === true,
      headers,
    });
  }
  return { raw: msg.asRaw(), messageId };
}

/** References for a reply: the parent's references plus the parent itself, last ones kept. */
function referencesFor(references: readonly string[], inReplyTo: string | undefined): string[] {
  const ids = messageIds(inReplyTo === undefined ? references : [...references, inReplyTo]);
  return ids.slice(-MAX_REFERENCES);
}

function threadingHeaders(inReplyTo: string | undefined, references: readonly string[]) {
  const out: { name: string; value: string | Mailbox }[] = [];
  if (inReplyTo !== undefined && isMessageId(inReplyTo)) out.push({ name: "In-Reply-To", value: inReplyTo });
  const refs = referencesFor(references, inReplyTo);
  if (refs.length > 0) out.push({ name: "References", value: refs.join("\r\n ") });
  return out;
}

export type ReplyEmail = {
  from: MailAddress;
  to: string;
  /** The subject of the message replied to; "Re: " is added unless it is already there. */
  subject: string;
  /** The Message-ID of the message replied to, "<id@host>". */
  inReplyTo: string;
  /** The References of the message replied to; the parent id is appended. */
  references: string[];
  text: string;
  html?: string;
  /** Written without a person in the loop: marked `Auto-Submitted: auto-replied` (RFC 3834). */
  automatic: boolean;
  messageIdDomain: string;
};

/** A reply in the customer's thread. Throws on an address that is not plain. */
export function buildReplyEmail(m: ReplyEmail): { raw: string; messageId: string } {
  const original = headerText(m.subject, MAX_SUBJECT_LENGTH);
  const subject = /^re:/i.test(original) ? original : `Re: ${original}`.trim();
  const extra = threadingHeaders(m.inReplyTo, m.references);
  if (m.automatic) extra.push({ name: "Auto-Submitted", value: "auto-replied" });
  const built: Built = {
    from: m.from,
    to: m.to,
    subject,
    text: m.text,
    messageIdDomain: m.messageIdDomain,
  };
  if (m.html !== undefined) built.html = m.html;
  return build(built, extra);
}

export type ForwardEmail = {
  /** E.g. `{ addr: "reply+TOKEN@acme.cncg.email", name: "Jane via acme" }`. */
  from: MailAddress;
  to: string;
  replyTo: string;
  /** The original subject, kept as it is. */
  subject: string;
  /** The original sender, carried in `X-Original-From`. */
  originalFrom: string;
  /** The original Date header; carried in `X-Original-Date` when it parses. */
  originalDate?: string;
  text: string;
  html?: string;
  attachments?: Attachment[];
  messageIdDomain: string;
  inReplyTo?: string;
  references?: string[];
};

/**
 * A customer's message forwarded to a tenant address. Any human-readable preamble ("Forwarded
 * from …") is the caller's to write, in the tenant's language. Throws on an address that is
 * not plain.
 */
export function buildForwardEmail(m: ForwardEmail): { raw: string; messageId: string } {
  const extra: { name: string; value: string | Mailbox }[] = [
    { name: "Reply-To", value: new Mailbox({ addr: checkedAddress(m.replyTo) }) },
    { name: "X-Original-From", value: checkedAddress(m.originalFrom) },
  ];
  if (m.originalDate !== undefined) {
    const t = Date.parse(m.originalDate);
    if (!Number.isNaN(t)) extra.push({ name: "X-Original-Date", value: new Date(t).toUTCString() });
  }
  extra.push(...threadingHeaders(m.inReplyTo, m.references ?? []));
  const built: Built = {
    from: m.from,
    to: m.to,
    subject: m.subject,
    text: m.text,
    messageIdDomain: m.messageIdDomain,
  };
  if (m.html !== undefined) built.html = m.html;
  return build(built, extra, m.attachments);
}

const SYSTEM_LOCAL_PARTS = new Set([
  "mailer-daemon",
  "postmaster",
  "noreply",
  "no-reply",
  "no_reply",
  "donotreply",
  "do-not-reply",
  "do_not_reply",
]);

function localPart(addr: string): string {
  const m = /<([^<>]*)>\s*$/.exec(addr);
  const bare = (m ? m[1]! : addr).trim();
  const at = bare.lastIndexOf("@");
  const local = (at === -1 ? bare : bare.slice(0, at)).toLowerCase();
  // "noreply+bounces-123@…" is still a no-reply address.
  return local.split("+")[0]!;
}

function firstToken(value: string): string {
  return value
    .split(/[;,(\s]/)[0]!
    .trim()
    .toLowerCase();
}

/**
 * Whether a received message was sent by a machine, so we must not answer it automatically
 * (RFC 3834 §2 and common practice). `reason` is a short code for logs and tests.
 */
export function isAutomaticEmail(
  headers: { get(name: string): string | null },
  envelopeFrom: string,
): { automatic: boolean; reason: string | null } {
  const yes = (reason: string) => ({ automatic: true, reason });
  if (headers.get(LOOP_HEADER) !== null) return yes("loop");
  const contentType = headers.get("Content-Type");
  if (contentType !== null && firstToken(contentType) === "multipart/report") return yes("dsn");
  const envelope = envelopeFrom.trim();
  if (envelope === "" || envelope === "<>") return yes("null_sender");
  const autoSubmitted = headers.get("Auto-Submitted");
  if (autoSubmitted !== null && firstToken(autoSubmitted) !== "no") return yes("auto_submitted");
  if (headers.get("X-Autoreply") !== null || headers.get("X-Autorespond") !== null) return yes("autoreply");
  const precedence = headers.get("Precedence");
  if (precedence !== null && ["bulk", "list", "junk"].includes(firstToken(precedence))) {
    return yes("precedence");
  }
  if (headers.get("List-Id") !== null || headers.get("List-Unsubscribe") !== null) return yes("list");
  if (headers.get("List-Post") !== null) return yes("list");
  const from = headers.get("From");
  if (
    SYSTEM_LOCAL_PARTS.has(localPart(envelope)) ||
    (from !== null && SYSTEM_LOCAL_PARTS.has(localPart(from)))
  ) {
    return yes("system_sender");
  }
  const suppress = headers.get("X-Auto-Response-Suppress");
  if (suppress !== null) {
    const tokens = suppress.split(/[\s,]+/).map((t) => t.toLowerCase());
    if (tokens.some((t) => t === "all" || t === "oof" || t === "autoreply")) return yes("suppress");
  }
  return { automatic: false, reason: null };
}

/**
 * More trace hops than any real delivery takes (RFC 5321 §6.3 asks relays to count Received
 * lines; real mail has well under 20): a message with more has been going round in a loop.
 */
export const MAX_EMAIL_HOPS = 25;

/**
 * Why no automatic mail (forward or auto-reply) may answer or pass on this message, or null.
 * `loop`: it carries our own loop header (every message Concierge sends does, so this is our own
 * forward or reply coming back, e.g. subdomain A forwarding to B forwarding to A), or it has been
 * through more than MAX_EMAIL_HOPS hops. `auto_submitted`: RFC 3834 `Auto-Submitted` other than
 * `no` (a machine wrote it; answering or forwarding machines to machines is how loops start).
 */
export function emailLoopReason(headers: {
  get(name: string): string | null;
  all(name: string): string[];
}): "loop" | "auto_submitted" | null {
  if (headers.all(LOOP_HEADER).length > 0) return "loop";
  if (headers.all("Received").length + headers.all(LOOP_HEADER).length > MAX_EMAIL_HOPS) return "loop";
  const autoSubmitted = headers.get("Auto-Submitted");
  if (autoSubmitted !== null && firstToken(autoSubmitted) !== "no") return "auto_submitted";
  return null;
}
