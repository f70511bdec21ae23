// What the pipeline's Worker tests share: the demo tenant's fresh accounts, customer messages,
// an approved persona, an exact balance, and waiting for replies at the fake Graph API.
import { env, exports } from "cloudflare:workers";
import type { InboundMessage } from "@concierge/core";
import { type Persona, personaHash } from "@concierge/prompt";
import {
  createChannelAccount,
  grantCredits,
  recordPersonaVerdict,
  saveReplyConfig,
  savePersona,
} from "@concierge/storage";
import { newWamid } from "@concierge/testing/meta";
import { sentTo } from "@concierge/testing/sandbox-client";
import { DEMO } from "@concierge/testing/seed";
import { vi } from "vitest";

export const pipeline = exports.PipelineEntrypoint;
export const tenantId = DEMO.tenantId;

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

let phone = 0;
/** A new WhatsApp number of the demo tenant, with no reply config yet. */
export function newBareAccount() {
  phone += 1;
  const externalId = `91${String(Date.now() % 1e9).padStart(9, "0")}${phone}`;
  return createChannelAccount(env.DB, { tenantId, channel: "whatsapp", externalId });
}

/** A new WhatsApp number of the demo tenant with this reply config; `send` ingests as a customer. */
export async function newAccount(config: unknown) {
  const account = await newBareAccount();
  const externalId = account.externalId;
  await saveReplyConfig(env.DB, tenantId, account.id, config);
  return {
    ...account,
    send: (customerId: string, text: string) => pipeline.ingest([inboundText(externalId, customerId, text)]),
    conversation: (customerId: string) =>
      env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(`${tenantId}/${account.id}/${customerId}`)),
  };
}

export async function approvePersona(persona: Persona): Promise<void> {
  const hash = await personaHash(persona);
  await savePersona(env.DB, tenantId, persona, hash);
  await recordPersonaVerdict(env.DB, tenantId, hash, "approved", null);
}

let grant = 0;
/** Spends whatever the demo tenant has left, then grants exactly `amount`. */
export async function setBalance(amount: number): Promise<void> {
  await env.DB.prepare("UPDATE credit_lots SET remaining = 0 WHERE tenant_id = ?").bind(tenantId).run();
  grant += 1;
  if (amount > 0) {
    await grantCredits(env.DB, {
      tenantId,
      amount,
      source: "grant",
      reference: `test-${grant}-${Date.now()}`,
    });
  }
}

/** The replies a customer has had, once there are at least `n`. */
export async function repliesTo(customerId: string, n = 1) {
  await vi.waitUntil(async () => (await sentTo(env.SANDBOX_URL, customerId)).length >= n, { timeout: 8000 });
  return sentTo(env.SANDBOX_URL, customerId);
}
