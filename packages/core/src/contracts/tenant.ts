/**
 * The tenant API: what the dashboard may ask of the pipeline on behalf of a signed-in tenant.
 * Every method takes the tenant id first and checks that what it names belongs to that tenant.
 */
import type { EmailAction, EmailFacts, EmailRouting, EmailRoutingRule, ReplyConfig } from "@concierge/rules";
import * as v from "valibot";
import { type DigestCadence, type NotifyCadence, TimeZoneSchema } from "../onboarding.ts";
import type {
  BillingDetails,
  CheckoutOrder,
  CheckoutResult,
  CheckoutSubscription,
  PaymentOutcome,
  SubscriptionCheckoutResult,
  SubscriptionRecord,
} from "./billing.ts";
import type {
  ControlResult,
  ConversationView,
  Decision,
  DecisionResult,
  HumanReplyResult,
} from "./conversation.ts";
import type {
  ApprovalRow,
  ConversationSettings,
  DiscordInstall,
  EmailSubdomain,
  ForwardAddress,
  SafetyStatus,
} from "./records.ts";
import type { RpcResult } from "./rpc.ts";

export const NewTenantSchema = v.object({
  name: v.pipe(
    v.string(),
    v.trim(),
    v.minLength(1, "Give a name."),
    v.maxLength(80, "At most 80 characters."),
  ),
  locale: v.optional(v.picklist(["en-IN", "en-US"]), "en-IN"),
  currency: v.optional(v.picklist(["INR", "USD"]), "INR"),
  /** IANA zone; without one, the locale's country's (DEFAULT_TIME_ZONE). */
  timeZone: v.optional(TimeZoneSchema),
});
export type NewTenant = v.InferInput<typeof NewTenantSchema>;

/** The test panel's answer: which rule matched and what would be sent. */
export type RuleTest = {
  ruleId: string;
  label: string;
  via: "keyword" | "embedding" | "default";
  score: number | null;
  /**
   * When the default answers: the intent rule the message came closest to, below its threshold
   * (null: no intent rule, or none could be scored), so the owner sees why nothing matched.
   */
  closest: { ruleId: string; label: string; score: number; threshold: number } | null;
  reply:
    | { kind: "canned"; text: string }
    /** A hand-off rule: the holding sentence, then the bot is silent and the tenant paged. */
    | { kind: "handoff"; text: string }
    | { kind: "prompt"; envelope: string; personaStatus: SafetyStatus | null };
};

/** The test panel's opt-in AI preview, for one credit. */
export type AiPreview = {
  ruleId: string;
  label: string;
  via: "keyword" | "embedding" | "default";
  score: number | null;
  /** The reply a customer would get (handoff sentinel already stripped). */
  reply: string;
  /** The model asked for a person: a real turn would page the tenant. */
  handoff: boolean;
  /** Why a real turn would hold this draft for approval instead of sending it; null: sent. */
  hold: string[] | null;
  /** The balance after this preview's credit. */
  balance: number;
};

export type ConnectWhatsAppInput = {
  phoneNumberId: string;
  /**
   * The business token Embedded Signup's code was exchanged for; without it (the manual fallback)
   * the platform token looks the number up, which sees only numbers in the platform's account.
   */
  accessToken?: string;
  /** With a business token: the customer's WhatsApp Business Account, to subscribe our app to. */
  wabaId?: string;
  /**
   * The number's two-step verification PIN (6 digits), with a business token and on the manual
   * path: registering a number for Cloud API sets it, or must repeat it when it already has one.
   */
  pin?: string;
  /**
   * Without a business token (the manual path): the code Meta sent to the number after
   * `requestWhatsAppCode`, the proof that this tenant controls it.
   */
  code?: string;
};

/** The manual path's first step: Meta sends the number a code (by SMS or a voice call). */
export type RequestWhatsAppCodeInput = {
  phoneNumberId: string;
  codeMethod?: "SMS" | "VOICE";
  /** The tenant's locale (en-IN, en-US): the language of Meta's message. */
  locale?: string;
};

export type ConnectedNumber = {
  accountId: string;
  phoneNumberId: string;
  displayName: string;
  created: boolean;
};

const Digits = v.pipe(v.string(), v.regex(/^\d{1,32}$/));

export const ConnectInstagramSchema = v.object({
  pageId: Digits,
  instagramId: Digits,
  // Instagram usernames: letters, digits, periods and underscores, at most 30.
  username: v.pipe(v.string(), v.regex(/^[A-Za-z0-9._]{1,30}$/)),
  pageToken: v.pipe(v.string(), v.minLength(1), v.maxLength(4096)),
  /** The long-lived user token the page token came from; kept sealed for the refresh. */
  userToken: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(4096))),
  facebookUserId: v.optional(Digits),
});
export type ConnectInstagramInput = v.InferInput<typeof ConnectInstagramSchema>;
export type ConnectedInstagram = { accountId: string; created: boolean };

/** Discord's bot authorization came back to the dashboard with this code. */
export const CompleteInstallSchema = v.object({
  code: v.pipe(v.string(), v.minLength(1), v.maxLength(200)),
  redirectUri: v.pipe(v.string(), v.url(), v.maxLength(500)),
  actor: v.nullable(v.pipe(v.string(), v.maxLength(200))),
});
export type CompleteInstall = v.InferOutput<typeof CompleteInstallSchema>;

const SNOWFLAKE = /^\d{17,20}$/;

export const DiscordSettingsSchema = v.object({
  inboxChannelId: v.nullable(v.pipe(v.string(), v.regex(SNOWFLAKE))),
  staffRoleId: v.nullable(v.pipe(v.string(), v.regex(SNOWFLAKE))),
  relayMode: v.picklist(["all", "needs_human"]),
  afterHumanReply: v.picklist(["silent", "keep"]),
});
export type DiscordSettingsInput = v.InferOutput<typeof DiscordSettingsSchema>;

export type DiscordOption = { id: string; name: string };
export type DiscordSetup = {
  install: Omit<DiscordInstall, "installedBy" | "createdAt" | "updatedAt"> | null;
  channels: DiscordOption[];
  roles: DiscordOption[];
  /** Discord could not be asked for the lists just now (the form still shows the saved choice). */
  lookupFailed: boolean;
};

export type SubdomainView = Omit<EmailSubdomain, "routingJson">;
export type RoutingTest = { rule: EmailRoutingRule | null; action: EmailAction; facts: EmailFacts };

/** The pipeline's `TenantEntrypoint`, bound by the dashboard. */
export interface TenantApi {
  /** Signs up a new tenant with its own data key (only the pipeline holds ENCRYPTION_KEY). */
  createTenant(input: NewTenant): Promise<RpcResult<{ tenantId: string }>>;
  /**
   * Deletes the tenant and everything of it: its data key first (unreadable at once), then its rows
   * in bounded chunks; `complete` false when rows remain for the 15-minute cron. Safe to call again.
   */
  deleteTenant(
    tenantId: string,
  ): Promise<RpcResult<{ deleted: { rows: number; conversations: number; complete: boolean } }>>;
  /**
   * Runs Meta's data deletion request recorded under this confirmation code (its targets by id):
   * the person's Instagram accounts and Facebook sign-in, never the business. Safe to call again;
   * the 15-minute cron resumes one that was cut off.
   */
  runDataDeletion(
    code: string,
  ): Promise<RpcResult<{ status: "pending" | "completed" | "nothing_found" | "failed" }>>;

  savePersona(tenantId: string, input: unknown): Promise<RpcResult<{ hash: string; status: SafetyStatus }>>;
  /**
   * `expectedVersion`: the rules' version the editor was shown at (0: none saved yet), checked in
   * the save statement: a save made since makes this one `stale` (nothing written). Absent: no check.
   */
  saveReplyConfig(
    tenantId: string,
    accountId: string,
    input: unknown,
    expectedVersion?: number | null,
  ): Promise<RpcResult<{ config: ReplyConfig }>>;
  testReplyRules(tenantId: string, accountId: string, text: string): Promise<RpcResult<RuleTest>>;
  previewAiReply(
    tenantId: string,
    accountId: string,
    text: string,
    previewId: string,
  ): Promise<RpcResult<AiPreview>>;
  /**
   * `expectedVersion`: the settings version the form was shown at; a save made since makes this
   * one `stale` (nothing written). Absent: no check.
   */
  saveConversationSettings(
    tenantId: string,
    input: unknown,
    expectedVersion?: number | null,
  ): Promise<RpcResult<{ settings: ConversationSettings }>>;
  /**
   * Where and how often the tenant is told about approvals, handoffs and a low balance, and its
   * summary digest. A field left out keeps its saved value. The email must be one of the tenant's
   * verified addresses (verified by link like forward addresses): else `email_unverified`, and
   * nothing is saved. Other refusals: `invalid_channel`, `invalid_email`, `invalid_cadence`.
   * `no_target`: a digest other than 'off' with neither an email nor a Discord channel after the update.
   */
  setNotifications(
    tenantId: string,
    to: {
      discordChannelId?: string | null;
      email?: string | null;
      cadence?: NotifyCadence;
      digest?: DigestCadence;
    },
  ): Promise<RpcResult<object>>;

  /** A person resolved a handed-off conversation: automatic replies resume for that customer. */
  resolveHandoff(
    tenantId: string,
    accountId: string,
    customerId: string,
  ): Promise<RpcResult<{ wasInHandoff: boolean }>>;
  /** A person's reply to a customer, inside the channel's window, once per `requestId`. */
  sendHumanReply(
    tenantId: string,
    accountId: string,
    customerId: string,
    text: string,
    actor: string,
    opts?: { requestId?: string },
  ): Promise<HumanReplyResult>;
  /** The live inbox: one conversation's recent messages and drafts, opened for the tenant only. */
  readConversation(
    tenantId: string,
    accountId: string,
    customerId: string,
  ): Promise<RpcResult<{ view: ConversationView }>>;
  /** Take over, hand back, or pause the bot for one customer; recorded with who did it. */
  controlConversation(
    tenantId: string,
    accountId: string,
    customerId: string,
    control: unknown,
    actor: string,
  ): Promise<ControlResult>;

  listApprovals(tenantId: string): Promise<ApprovalRow[]>;
  readApprovalDraft(tenantId: string, approvalId: string): Promise<RpcResult<{ text: string }>>;
  decideApproval(
    tenantId: string,
    approvalId: string,
    decision: Decision,
    actor: string,
  ): Promise<DecisionResult>;

  /** The manual path's proof of control, step one: Meta sends a code to the number. */
  requestWhatsAppCode(
    tenantId: string,
    input: RequestWhatsAppCodeInput,
  ): Promise<RpcResult<{ phoneNumberId: string; displayName: string }>>;
  connectWhatsApp(tenantId: string, input: ConnectWhatsAppInput): Promise<RpcResult<ConnectedNumber>>;
  connectInstagram(tenantId: string, input: ConnectInstagramInput): Promise<RpcResult<ConnectedInstagram>>;
  disconnectAccount(tenantId: string, accountId: string): Promise<RpcResult<object>>;

  completeDiscordInstall(
    tenantId: string,
    input: CompleteInstall,
  ): Promise<RpcResult<{ guildId: string; guildName: string | null }>>;
  getDiscordSetup(tenantId: string): Promise<DiscordSetup>;
  saveDiscordSettings(tenantId: string, input: DiscordSettingsInput): Promise<RpcResult<object>>;
  uninstallDiscord(tenantId: string): Promise<RpcResult<object>>;

  createEmailSubdomain(tenantId: string, name: string): Promise<RpcResult<{ subdomain: SubdomainView }>>;
  retryEmailSubdomain(tenantId: string, accountId: string): Promise<RpcResult<{ subdomain: SubdomainView }>>;
  deleteEmailSubdomain(tenantId: string, accountId: string): Promise<RpcResult<object>>;
  listEmailSubdomains(tenantId: string): Promise<SubdomainView[]>;
  addForwardAddress(
    tenantId: string,
    address: string,
  ): Promise<RpcResult<{ address: ForwardAddress; sent: boolean }>>;
  resendForwardVerification(tenantId: string, id: string): Promise<RpcResult<{ sent: boolean }>>;
  deleteForwardAddress(tenantId: string, id: string): Promise<RpcResult<object>>;
  listForwardAddresses(tenantId: string): Promise<ForwardAddress[]>;
  /** The public verification link: `verified`, `expired` or `invalid`. */
  verifyForwardAddress(
    token: string,
  ): Promise<{ ok: true; status: "verified" | "expired" | "invalid"; address?: string }>;
  getEmailRouting(
    tenantId: string,
    accountId: string,
  ): Promise<RpcResult<{ routing: EmailRouting; version: number; domain: string }>>;
  saveEmailRouting(
    tenantId: string,
    accountId: string,
    routing: unknown,
    version: number,
  ): Promise<RpcResult<{ routing: EmailRouting; version: number }>>;
  testEmailRouting(
    tenantId: string,
    accountId: string,
    input: { raw: string } | EmailFacts,
  ): Promise<RpcResult<RoutingTest>>;

  /**
   * Buying credits: creates the Razorpay order for one of the packs offered in the tenant's
   * currency and records it (credits and amount copied from the pack as priced now).
   */
  createOrder(tenantId: string, packId: string): Promise<RpcResult<{ order: CheckoutOrder }>>;
  /**
   * The Checkout handler's fields: the signature checked against our own record of the order,
   * the payment's capture confirmed with Razorpay, the order's credits granted once (ledger
   * reference = the payment id), whichever of this and the webhook comes first.
   */
  confirmCheckout(tenantId: string, result: CheckoutResult): Promise<RpcResult<PaymentOutcome>>;
  /** The email-subdomain plan: a Razorpay subscription for `quantity` extra subdomains. */
  startSubscription(tenantId: string, quantity: number): Promise<RpcResult<CheckoutSubscription>>;
  confirmSubscription(
    tenantId: string,
    result: SubscriptionCheckoutResult,
  ): Promise<RpcResult<{ subscription: SubscriptionRecord }>>;
  cancelSubscription(tenantId: string): Promise<RpcResult<{ subscription: SubscriptionRecord }>>;
  /** Legal name, address and GSTIN, printed on receipts. */
  saveBillingDetails(tenantId: string, input: unknown): Promise<RpcResult<{ details: BillingDetails }>>;
}
