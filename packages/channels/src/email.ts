import { createMimeMessage } from "mimetext/browser";

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
