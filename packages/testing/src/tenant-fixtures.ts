// What Worker tests set up for a tenant before a message can be answered: a customer's WhatsApp
// text, an approved persona, an exact credit balance. Shared by the pipeline, dashboard and
// discord-interactions suites, which run in workerd against the same D1 schema.
import { type InboundMessage, newId } from "@concierge/core";
import { type Persona, personaHash } from "@concierge/prompt";
import { grantCredits, recordPersonaVerdict, savePersona } from "@concierge/storage";
import { newWamid } from "./meta.ts";

/** A customer's WhatsApp text as meta-webhooks hands it to the pipeline. */
export function inboundText(accountExternalId: string, customerId: string, text: string): InboundMessage {
  return {
    channel: "whatsapp",
    accountExternalId,
    providerMessageId: newWamid(),
    customerId,
    sentAt: Date.now(),
    kind: "text",
    text,
    hasAttachment: false,
  };
}

/** A customer's mail to `hello@<domain>` as email-inbound hands it over once routing chose `route`. */
export function inboundEmail(
  domain: string,
  from: string,
  m: { text: string; subject: string; route: "auto_reply" | "relay" },
): InboundMessage {
  return {
    channel: "email",
    accountExternalId: domain,
    providerMessageId: `<${newId("m")}@mail.example>`,
    customerId: from,
    sentAt: Date.now(),
    kind: "text",
    text: m.text,
    subject: m.subject,
    hasAttachment: false,
    email: {
      route: m.route,
      ruleId: null,
      automatic: false,
      automaticReason: null,
      to: `hello@${domain}`,
      inReplyTo: null,
      references: [],
    },
  };
}

/** Saves the persona as the tenant's and records the safety check's approval, as the queue would. */
export async function approvePersona(db: D1Database, tenantId: string, persona: Persona): Promise<void> {
  const hash = await personaHash(persona);
  await savePersona(db, tenantId, persona, hash);
  await recordPersonaVerdict(db, tenantId, hash, "approved", null);
}

let grant = 0;
/** Spends whatever the tenant has left, then grants exactly `amount`. */
export async function setBalance(db: D1Database, tenantId: string, amount: number): Promise<void> {
  await db.prepare("UPDATE credit_lots SET remaining = 0 WHERE tenant_id = ?").bind(tenantId).run();
  grant += 1;
  if (amount > 0) {
    await grantCredits(db, {
      tenantId,
      amount,
      source: "grant",
      reference: `test-${grant}-${crypto.randomUUID()}`,
    });
  }
}
