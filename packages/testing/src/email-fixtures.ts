/// <reference path="./eml-raw.d.ts" />
import bounceDsn from "../fixtures/email/bounce-dsn.eml?raw";
import encodedWordSubject from "../fixtures/email/encoded-word-subject.eml?raw";
import htmlOnly from "../fixtures/email/html-only.eml?raw";
import inlineImage from "../fixtures/email/inline-image.eml?raw";
import iso2022jp from "../fixtures/email/iso-2022-jp.eml?raw";
import mailingList from "../fixtures/email/mailing-list.eml?raw";
import multipartAlternativeAttachments from "../fixtures/email/multipart-alternative-attachments.eml?raw";
import plainText from "../fixtures/email/plain-text.eml?raw";
import replyToAlias from "../fixtures/email/reply-to-alias.eml?raw";
import vacationAutoReply from "../fixtures/email/vacation-auto-reply.eml?raw";
import windows1252 from "../fixtures/email/windows-1252.eml?raw";

/**
 * Real-shaped received messages (CRLF, proper MIME), as strings. Customer-facing mail goes to
 * …@acme.cncg.email. Every body carries `canary-eml-<file name>`, so a test can scan D1, KV,
 * queues and logs for message text that must not be there (ARCHITECTURE.md §5).
 */
export const emailFixtures = {
  plainText,
  htmlOnly,
  multipartAlternativeAttachments,
  inlineImage,
  iso2022jp,
  windows1252,
  encodedWordSubject,
  vacationAutoReply,
  bounceDsn,
  mailingList,
  replyToAlias,
} as const;

export type EmailFixtureName = keyof typeof emailFixtures;

/** The canary word in a fixture's body, e.g. `canary-eml-plain-text`. */
export const EMAIL_CANARIES: Record<EmailFixtureName, string> = {
  plainText: "canary-eml-plain-text",
  htmlOnly: "canary-eml-html-only",
  multipartAlternativeAttachments: "canary-eml-multipart-alternative-attachments",
  inlineImage: "canary-eml-inline-image",
  iso2022jp: "canary-eml-iso-2022-jp",
  windows1252: "canary-eml-windows-1252",
  encodedWordSubject: "canary-eml-encoded-word-subject",
  vacationAutoReply: "canary-eml-vacation-auto-reply",
  bounceDsn: "canary-eml-bounce-dsn",
  mailingList: "canary-eml-mailing-list",
  replyToAlias: "canary-eml-reply-to-alias",
};

/** In reply-to-alias.eml the recipient is `reply+__TOKEN__@acme.cncg.email`: replace the placeholder. */
export const EMAIL_TOKEN_PLACEHOLDER = "__TOKEN__";

/** Replaces every occurrence of each key (plain text, not a pattern). */
export function replaceAll(raw: string, replacements: Record<string, string>): string {
  let out = raw;
  for (const [from, to] of Object.entries(replacements)) out = out.split(from).join(to);
  return out;
}

/**
 * Sets top-level headers: every existing field of that name (with its folded lines) is
 * removed, then the new value is appended to the header block; `null` only removes.
 */
export function withHeaders(raw: string, headers: Record<string, string | null>): string {
  const end = raw.indexOf("\r\n\r\n");
  const head = end === -1 ? raw : raw.slice(0, end);
  const rest = end === -1 ? "" : raw.slice(end);
  const names = new Set(Object.keys(headers).map((n) => n.toLowerCase()));
  const kept: string[] = [];
  let dropping = false;
  for (const line of head.split("\r\n")) {
    const folded = line.startsWith(" ") || line.startsWith("\t");
    if (!folded) dropping = names.has(line.slice(0, line.indexOf(":")).trim().toLowerCase());
    if (!dropping) kept.push(line);
  }
  for (const [name, value] of Object.entries(headers)) {
    if (value !== null) kept.push(`${name}: ${value}`);
  }
  return kept.join("\r\n") + rest;
}

/** Mirrors MAX_EMAIL_BYTES in @concierge/channels (this package cannot depend on it). */
const TEN_MIB = 10 * 1024 * 1024;

/**
 * A well-formed message just over the size limit (a large base64 attachment), built on the
 * fly rather than kept in git. ASCII only, so its string length is its byte size.
 */
export function oversizeEmail(minBytes = TEN_MIB + 1): string {
  const head = [
    "From: Big Sender <big@customer.example>",
    "To: hello@acme.cncg.email",
    "Subject: Huge scan",
    "Date: Sat, 21 Nov 2026 10:00:00 +0000",
    "Message-ID: <oversize-1@customer.example>",
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="big-0001"',
    "",
    "--big-0001",
    "Content-Type: text/plain; charset=utf-8",
    "",
    "Here is the scan. canary-eml-oversize",
    "--big-0001",
    'Content-Type: application/octet-stream; name="scan.bin"',
    'Content-Disposition: attachment; filename="scan.bin"',
    "Content-Transfer-Encoding: base64",
    "",
    "",
  ].join("\r\n");
  const tail = "--big-0001--\r\n";
  const line = `${"A".repeat(76)}\r\n`;
  const lines = Math.max(1, Math.ceil((minBytes - head.length - tail.length) / line.length));
  return head + line.repeat(lines) + tail;
}
