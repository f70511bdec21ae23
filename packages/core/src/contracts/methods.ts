/**
 * Every RPC method of each of the pipeline's entrypoints, by name. Any public method of an
 * entrypoint class is callable over its binding, so these lists are what each caller can reach:
 * the pipeline's tests compare them with the classes' own methods (a helper made public by
 * mistake fails there), and each Worker's tests prove its binding refuses every other name.
 * The type check makes each list complete: a method added to a contract must be listed here.
 */
import type { BillingApi } from "./billing.ts";
import type { DemoApi } from "./demo.ts";
import type { DiscordApi } from "./discord.ts";
import type { EmailIngestApi, MetaIngestApi } from "./ingest.ts";
import type { OperatorApi } from "./operator.ts";
import type { TenantApi } from "./tenant.ts";

function methods<T>() {
  return <const L extends readonly (keyof T & string)[]>(
    list: L,
    ..._complete: [Exclude<keyof T, L[number]>] extends [never] ? [] : [missing: Exclude<keyof T, L[number]>]
  ): L => list;
}

export const ENTRYPOINT_METHODS = {
  MetaIngestEntrypoint: methods<MetaIngestApi>()(["ingest", "recordStatuses"]),
  EmailIngestEntrypoint: methods<EmailIngestApi>()([
    "ingest",
    "emailRoute",
    "recordEmailOutcome",
    "forwardEmail",
    "replyViaAlias",
    "claimAutomaticMail",
  ]),
  DiscordEntrypoint: methods<DiscordApi>()([
    "discordGuild",
    "discordStatus",
    "discordDomains",
    "discordAccounts",
    "discordRules",
    "listApprovals",
    "relayState",
    "relayAction",
  ]),
  TenantEntrypoint: methods<TenantApi>()([
    "createTenant",
    "deleteTenant",
    "runDataDeletion",
    "savePersona",
    "saveReplyConfig",
    "testReplyRules",
    "previewAiReply",
    "saveConversationSettings",
    "setNotifications",
    "resolveHandoff",
    "sendHumanReply",
    "readConversation",
    "controlConversation",
    "listApprovals",
    "readApprovalDraft",
    "decideApproval",
    "requestWhatsAppCode",
    "connectWhatsApp",
    "connectInstagram",
    "disconnectAccount",
    "completeDiscordInstall",
    "getDiscordSetup",
    "saveDiscordSettings",
    "uninstallDiscord",
    "createEmailSubdomain",
    "retryEmailSubdomain",
    "deleteEmailSubdomain",
    "listEmailSubdomains",
    "addForwardAddress",
    "resendForwardVerification",
    "deleteForwardAddress",
    "listForwardAddresses",
    "verifyForwardAddress",
    "getEmailRouting",
    "saveEmailRouting",
    "testEmailRouting",
    "createOrder",
    "confirmCheckout",
    "startSubscription",
    "confirmSubscription",
    "cancelSubscription",
    "saveBillingDetails",
  ]),
  BillingEntrypoint: methods<BillingApi>()(["razorpayEvent"]),
  DemoEntrypoint: methods<DemoApi>()(["demoOptions", "demoReply"]),
  OperatorEntrypoint: methods<OperatorApi>()([
    "rotateTenantKey",
    "suspendTenant",
    "reactivateTenant",
    "grantCredits",
    "setSubdomainQuota",
    "deleteTenant",
    "saveCreditPack",
    "setSubdomainPlanPrice",
    "setTrialSettings",
    "saveArchetype",
    "retireArchetype",
    "saveDemoSettings",
    "saveEmailAutomaticLimit",
    "platformHealth",
  ]),
} as const;

export type EntrypointName = keyof typeof ENTRYPOINT_METHODS;

/** The methods of every other entrypoint that `name`'s binding must refuse. */
export function foreignMethods(name: EntrypointName): string[] {
  const own = new Set<string>(ENTRYPOINT_METHODS[name]);
  const all = Object.values(ENTRYPOINT_METHODS).flat() as string[];
  return [...new Set(all)].filter((m) => !own.has(m)).sort();
}
