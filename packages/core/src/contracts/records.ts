/**
 * Records the pipeline hands across its bindings as they are stored: ids, states and settings,
 * never message text. `packages/storage` reads and writes them; the dashboard and the Discord
 * Worker show them.
 */
import * as v from "valibot";
import type { Channel } from "../inbound.ts";

/** A persona's (or archetype's) safety verdict. */
export type SafetyStatus = "pending" | "approved" | "rejected" | "needs_review";

/** Held AI drafts, indexed without their text (the text is in the conversation's object). */
export type ApprovalStatus = "pending" | "sending" | "sent" | "rejected" | "expired" | "failed";
export type ApprovalRow = {
  id: string;
  tenantId: string;
  accountId: string;
  threadKey: string;
  conversationId: string | null;
  ruleId: string | null;
  creditRef: string;
  reasons: string[];
  status: ApprovalStatus;
  createdAt: number;
  expiresAt: number;
  decidedAt: number | null;
  decidedBy: string | null;
};

/**
 * The version a form was shown at, sent back with its save so the save statement can refuse a
 * stale one (`stale`). Absent or null: no check (callers without a form: the wizard, seeds). A
 * form that lost its version sends -1, which no stored version equals: refused as stale.
 */
export const FormVersionSchema = v.optional(
  v.nullable(v.pipe(v.number(), v.integer(), v.minValue(-1), v.maxValue(Number.MAX_SAFE_INTEGER))),
  null,
);
export type FormVersion = v.InferOutput<typeof FormVersionSchema>;

/** A tenant's conversation settings, as the dashboard edits them. */
export const ConversationSettingsSchema = v.pipe(
  v.object({
    idleGapMinutes: v.pipe(v.number(), v.integer(), v.minValue(30), v.maxValue(10080)),
    handoffCooldownMinutes: v.pipe(v.number(), v.integer(), v.minValue(5), v.maxValue(1440)),
    historyTurns: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(50)),
    defaultWaitSeconds: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(30)),
    lowBalanceThreshold: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(1_000_000)),
  }),
  v.forward(
    v.check(
      (s) => s.idleGapMinutes > s.handoffCooldownMinutes,
      "The idle gap must be longer than the handoff cooldown.",
    ),
    ["idleGapMinutes"],
  ),
);
export type ConversationSettings = v.InferOutput<typeof ConversationSettingsSchema>;

/**
 * The Discord bot's installation per tenant, and the items relayed to its inbox channel. Ids and
 * states only: what the customer wrote is in Discord's message, never here.
 */
export type RelayMode = "all" | "needs_human";
export type AfterHumanReply = "silent" | "keep";

export type DiscordInstall = {
  tenantId: string;
  guildId: string;
  guildName: string | null;
  inboxChannelId: string | null;
  staffRoleId: string | null;
  relayMode: RelayMode;
  afterHumanReply: AfterHumanReply;
  installedBy: string | null;
  createdAt: number;
  updatedAt: number;
};

export type RelayKind = "message" | "handoff" | "approval" | "email";
export type RelayStatus = "open" | "replied" | "approved" | "dropped";

/** An account customers write to (not Discord), for choosing one in /rules. */
export type CustomerAccount = {
  id: string;
  channel: Channel;
  externalId: string;
  displayName: string | null;
  status: "active" | "disabled";
};

/** Channel health: how an account looks from its recent metadata. */
export type HealthLevel = "ok" | "warn" | "danger";
export type HealthReason =
  | "disabled"
  | "last_send_failed"
  /** The newest message was routed to the Discord inbox, and there is none: it reached no one. */
  | "no_inbox"
  | "failed_sends"
  | "no_messages"
  | "quiet"
  | "working"
  | "connected";

/**
 * Whether AI replies go out (storage's aiReplyState decides): on; suspended by the platform team;
 * off without a persona; paused until the persona is approved; stopped at zero credits.
 */
export type AiReplyState = "on" | "suspended" | "no_persona" | "persona_not_approved" | "no_credits";

/**
 * The tenant's side of email: subdomains (each also a channel account), their routing rules as
 * validated JSON with a version, and forward addresses (verification tokens are hashes, never
 * shown). Configuration only: nothing here comes from a message.
 */
export type EmailSubdomainStatus = "provisioning" | "active" | "failed";

export type EmailSubdomain = {
  accountId: string;
  tenantId: string;
  name: string;
  domain: string;
  status: EmailSubdomainStatus;
  cfRuleId: string | null;
  statusError: string | null;
  routingJson: string;
  routingVersion: number;
  createdAt: number;
  updatedAt: number;
};

export type ForwardAddress = {
  id: string;
  tenantId: string;
  address: string;
  verifiedAt: number | null;
  tokenExpiresAt: number | null;
  createdAt: number;
};

/** A subdomain's state as /domains shows it. */
export type EmailSubdomainState = {
  accountId: string;
  domain: string;
  status: EmailSubdomainStatus;
  statusError: string | null;
};
