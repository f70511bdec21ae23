import { type EmailRelayReason, type InboundMessage, MAX_TEXT_LENGTH } from "@concierge/core";
import type { ParsedEmail } from "@concierge/channels";

/** A mail the routing rules sent into the pipeline (relay or auto-reply), as an InboundMessage. */
export function toInboundMessage(
  parsed: ParsedEmail,
  envelope: { from: string; to: string; domain: string },
  decision: { route: "auto_reply" | "relay"; ruleId: string | null; relayReason?: EmailRelayReason },
  automatic: { automatic: boolean; reason: string | null },
  now = Date.now(),
): InboundMessage {
  const name = parsed.fromName?.replace(/[\r\n]+/g, " ").slice(0, 256);
  return {
    channel: "email",
    accountExternalId: envelope.domain,
    providerMessageId: parsed.messageId,
    // The envelope sender is who gets the reply; a null return path gets none (automatic).
    customerId: envelope.from || "<>",
    ...(name ? { customerName: name } : {}),
    // A Date header in the future (a wrong clock) must not move the conversation's clock.
    sentAt: Math.min(parsed.date ?? now, now),
    kind: "text",
    text: parsed.text.slice(0, MAX_TEXT_LENGTH),
    subject: parsed.subject.slice(0, 1000),
    hasAttachment: parsed.hasAttachment,
    email: {
      route: decision.route,
      ruleId: decision.ruleId,
      ...(decision.relayReason ? { relayReason: decision.relayReason } : {}),
      automatic: automatic.automatic,
      automaticReason: automatic.reason,
      to: envelope.to,
      inReplyTo: parsed.inReplyTo,
      references: parsed.references.slice(-20),
    },
  };
}
