// What the interactions tests share: signed requests to POST /interactions, the demo tenant's
// Discord install, relays seeded straight into D1, and reading Discord's side from the sandbox.
import { env, exports } from "cloudflare:workers";
import type { Persona } from "@concierge/prompt";
import {
  createChannelAccount,
  createRelay,
  saveDiscordInstall,
  updateDiscordSettings,
} from "@concierge/storage";
import { signedInteraction } from "@concierge/testing/discord";
import { uniqueCustomer } from "@concierge/testing/sandbox-client";
import { DEMO } from "@concierge/testing/seed";
import {
  approvePersona as approveTenantPersona,
  inboundText,
  setBalance as setTenantBalance,
} from "@concierge/testing/tenant-fixtures";
import { vi } from "vitest";

export const tenantId = DEMO.tenantId;
export const GUILD = "900000000000000001";
export const STAFF_ROLE = "900000000000000002";
export const INBOX = "900000000000000003";
export const APP = "1300000000000000001";

let seq = 0;
const snowflake = () => String(1_400_000_000_000_000_000n + BigInt(Date.now() % 1e9) * 1000n + BigInt(++seq));

export async function installBot(): Promise<void> {
  await saveDiscordInstall(env.DB, { tenantId, guildId: GUILD, guildName: "Chai & Co.", installedBy: null });
  // No inbox channel: the relay posts nothing by itself; the tests seed the items they press.
  await updateDiscordSettings(env.DB, tenantId, {
    inboxChannelId: null,
    staffRoleId: STAFF_ROLE,
    relayMode: "needs_human",
    afterHumanReply: "silent",
  });
}

export type Who = { id?: string; name?: string; roles?: string[]; permissions?: string };
export const STAFF: Who = { id: "800000000000000001", name: "Asha", roles: [STAFF_ROLE], permissions: "0" };
export const OUTSIDER: Who = { id: "800000000000000002", name: "Ravi", roles: [], permissions: "1024" };

export function interaction(type: number, extra: Record<string, unknown> = {}, who: Who = STAFF) {
  return {
    id: snowflake(),
    application_id: APP,
    type,
    token: `tok-${snowflake()}`,
    version: 1,
    guild_id: GUILD,
    locale: "en-US",
    member: {
      user: {
        id: who.id ?? "800000000000000001",
        username: (who.name ?? "asha").toLowerCase(),
        global_name: who.name ?? "Asha",
      },
      roles: who.roles ?? [],
      permissions: who.permissions ?? "0",
      nick: null,
    },
    ...extra,
  };
}

/** POSTs an interaction signed with the application's key (or `key`) at `timestamp`. */
export async function post(body: unknown, opts: { key?: string; timestamp?: string } = {}) {
  const signed = await signedInteraction(opts.key ?? env.TEST_DISCORD_PRIVATE_KEY, body, opts);
  return exports.default.fetch("https://discord.test/interactions", {
    method: "POST",
    headers: signed.headers,
    body: signed.body,
  });
}

export type WebhookCall = {
  token: string;
  kind: "edit_original" | "follow_up";
  body: Record<string, unknown> & { content?: string; embeds?: Embed[]; components?: unknown[] };
  ephemeral: boolean;
};
export type Embed = { title?: string; description?: string; fields?: { name: string; value: string }[] };

/** What the Worker sent on the interaction's webhook once there is at least one call. */
export async function webhookCalls(token: string, n = 1): Promise<WebhookCall[]> {
  const read = async () => {
    const r = await fetch(
      `${env.SANDBOX_URL}/__sandbox/discord/interactions?token=${encodeURIComponent(token)}`,
    );
    return ((await r.json()) as { calls: WebhookCall[] }).calls;
  };
  await vi.waitUntil(async () => (await read()).length >= n, { timeout: 8000 });
  return read();
}

/** The relay's buttons as the relay posts them (the fixed custom id contract). */
export function inboxMessage(relayId: string, withApprove: boolean, withControls = false) {
  const button = (label: string, action: string, style: number) => ({
    type: 2,
    style,
    label,
    custom_id: `relay:${action}:${relayId}`,
  });
  return {
    id: snowflake(),
    channel_id: INBOX,
    embeds: [
      {
        title: "WhatsApp · +91 98•••• 10",
        description: "A preview",
        fields: [{ name: "Rule", value: "Default" }],
      },
    ],
    components: [
      {
        type: 1,
        components: [
          button("Reply", "reply", 1),
          ...(withApprove ? [button("Approve", "approve", 3)] : []),
          button("Drop", "drop", 4),
        ],
      },
      ...(withControls ? [controlRow(relayId)] : []),
    ],
  };
}

/** Take over, Hand back, Pause 1 h: the second row of a message or handoff item. */
export function controlRow(relayId: string) {
  return {
    type: 1,
    components: [
      { type: 2, style: 2, label: "Take over", custom_id: `relay:take_over:${relayId}` },
      { type: 2, style: 2, label: "Hand back", custom_id: `relay:hand_back:${relayId}` },
      { type: 2, style: 2, label: "Pause 1 h", custom_id: `relay:pause:${relayId}` },
    ],
  };
}

export { inboundText };

let phone = 0;
export async function newWhatsAppAccount() {
  phone += 1;
  const externalId = `92${String(Date.now() % 1e9).padStart(9, "0")}${phone}`;
  return createChannelAccount(env.DB, { tenantId, channel: "whatsapp", externalId });
}

let relays = 0;
/** An inbox item seeded the way the relay records one. */
export async function seedRelay(
  a: { accountId: string; customerId: string },
  kind: "message" | "handoff" | "approval" = "handoff",
  approvalId: string | null = null,
) {
  relays += 1;
  const id = `rl_test${Date.now().toString(36)}${relays}`;
  await createRelay(env.DB, {
    id,
    tenantId,
    accountId: a.accountId,
    channel: "whatsapp",
    customerId: a.customerId,
    threadKey: `${tenantId}/${a.accountId}/${a.customerId}`,
    kind,
    approvalId,
    providerMessageId: null,
    guildId: GUILD,
    channelId: INBOX,
  });
  return id;
}

export async function relayRow(id: string) {
  return env.DB.prepare("SELECT status, handled_by AS handledBy FROM discord_relays WHERE id = ?")
    .bind(id)
    .first<{ status: string; handledBy: string | null }>();
}

export async function approvePersona(): Promise<void> {
  const persona: Persona = {
    kind: "builder",
    voice: "concise",
    businessName: "Chai & Co.",
    businessType: "tea shop",
    catchPhrases: [],
    offTopics: [],
    never: [],
    handoffConditions: [],
  };
  await approveTenantPersona(env.DB, tenantId, persona);
}

export function setBalance(amount: number): Promise<void> {
  return setTenantBalance(env.DB, tenantId, amount);
}

export { uniqueCustomer };
