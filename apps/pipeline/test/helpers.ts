// What the pipeline's Worker tests share: the demo tenant's fresh accounts, customer messages,
// an approved persona, an exact balance, and waiting for replies at the fake Graph API.
import { env, exports } from "cloudflare:workers";
import type { Persona } from "@concierge/prompt";
import { createChannelAccount, saveReplyConfig } from "@concierge/storage";
import { sentTo } from "@concierge/testing/sandbox-client";
import { DEMO } from "@concierge/testing/seed";
import {
  approvePersona as approveTenantPersona,
  inboundText,
  setBalance as setTenantBalance,
} from "@concierge/testing/tenant-fixtures";
import { vi } from "vitest";

// One handle per named entrypoint, as each caller's service binding sees the pipeline.
export const ingestApi = exports.MetaIngestEntrypoint;
export const tenantApi = exports.TenantEntrypoint;
export const discordApi = exports.DiscordEntrypoint;
export const operatorApi = exports.OperatorEntrypoint;
export const demoApi = exports.DemoEntrypoint;
export const tenantId = DEMO.tenantId;

export { inboundText };

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
    send: (customerId: string, text: string) => ingestApi.ingest([inboundText(externalId, customerId, text)]),
    conversation: (customerId: string) =>
      env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(`${tenantId}/${account.id}/${customerId}`)),
  };
}

export function approvePersona(persona: Persona): Promise<void> {
  return approveTenantPersona(env.DB, tenantId, persona);
}

/** Spends whatever the demo tenant has left, then grants exactly `amount`. */
export function setBalance(amount: number): Promise<void> {
  return setTenantBalance(env.DB, tenantId, amount);
}

/** The replies a customer has had, once there are at least `n`. */
export async function repliesTo(customerId: string, n = 1) {
  await vi.waitUntil(async () => (await sentTo(env.SANDBOX_URL, customerId)).length >= n, { timeout: 8000 });
  return sentTo(env.SANDBOX_URL, customerId);
}
