/**
 * The Discord API: what `discord-interactions` may ask of the pipeline for the tenant whose guild
 * sent the interaction. Ids, names, counts and states; never message text.
 */
import * as v from "valibot";
import type { Channel } from "../inbound.ts";
import type { ControlState } from "./conversation.ts";
import type {
  AiReplyState,
  ApprovalRow,
  CustomerAccount,
  EmailSubdomainState,
  HealthLevel,
  HealthReason,
  RelayKind,
  RelayStatus,
  SafetyStatus,
} from "./records.ts";
import type { RpcError, RpcResult } from "./rpc.ts";

export type DiscordGuild = { tenantId: string; staffRoleId: string | null; locale: string };

export type StatusChannel = {
  channel: Channel;
  name: string;
  level: HealthLevel;
  reason: HealthReason | "token_dead";
};

export type DiscordStatus = {
  balance: number;
  lowBalanceThreshold: number;
  persona: SafetyStatus | null;
  /** AI replies go out only for an active tenant with an approved persona and credits left. */
  ai: AiReplyState;
  pendingApprovals: number;
  channels: StatusChannel[];
};

export type RuleLine = {
  id: string;
  label: string;
  /** Keywords, or "intent" for an embedding matcher; the default rule has none. */
  matcher: { kind: "keywords"; keywords: string[] } | { kind: "intent" } | { kind: "default" };
  response: "canned" | "ai" | "handoff";
  approval: "auto" | "always";
};

export type DiscordRules = {
  account: CustomerAccount;
  configured: boolean;
  enabled: boolean;
  /** In evaluation order; the default rule last. */
  rules: RuleLine[];
};

/**
 * A person's action on an inbox item: Reply (the modal's text), Approve or Drop, which close it;
 * or Take over, Hand back or Pause, which change who answers the customer and leave it open.
 */
export const RelayActionSchema = v.variant("kind", [
  v.object({
    kind: v.literal("reply"),
    // Discord's modal allows 4000; WhatsApp's limit for a text body is above that.
    text: v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(4000)),
  }),
  v.object({ kind: v.literal("approve") }),
  v.object({ kind: v.literal("drop") }),
  v.object({ kind: v.literal("take_over") }),
  v.object({ kind: v.literal("hand_back") }),
  // One button, one length: Discord pauses for `DISCORD_PAUSE_MINUTES`.
  v.object({ kind: v.literal("pause") }),
]);
export type RelayAction = v.InferOutput<typeof RelayActionSchema>;

/** The actions that change who answers the customer, and never close the item. */
export type RelayControlKind = "take_over" | "hand_back" | "pause";

/** How long the bot stays paused from Discord's Pause button (its label says "1 h"). */
export const DISCORD_PAUSE_MINUTES = 60;

/** The Discord member who acted. */
export const ActorSchema = v.object({
  id: v.pipe(v.string(), v.regex(/^\d{1,20}$/)),
  name: v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(100)),
});
export type Actor = v.InferOutput<typeof ActorSchema>;

export type RelayState = {
  status: RelayStatus;
  kind: RelayKind;
  channel: string;
  hasDraft: boolean;
  handledBy: string | null;
  handledAt: number | null;
};

/** Reply, Approve or Drop carried out: the item is closed. */
export type RelayHandled = {
  ok: true;
  status: Exclude<RelayStatus, "open">;
  handledBy: string;
  handledAt: number;
};

/** Take over, Hand back or Pause carried out: the thread's new state; the item is unchanged. */
export type RelayControlled = {
  ok: true;
  status: "control";
  state: ControlState;
  pausedUntil: number | null;
  by: string;
  at: number;
};

export type RelayActionResult =
  | RelayHandled
  | RelayControlled
  | (RpcError & { handledBy?: string | null; handledAt?: number | null });

/** The pipeline's `DiscordEntrypoint`, bound by discord-interactions. */
export interface DiscordApi {
  /** The tenant a guild belongs to, its staff role and locale. */
  discordGuild(guildId: string): Promise<RpcResult<DiscordGuild>>;
  /** /status: channels and their health, credits, AI and persona, pending approvals. */
  discordStatus(tenantId: string): Promise<RpcResult<DiscordStatus>>;
  /** /domains: the email subdomains and their state. */
  discordDomains(tenantId: string): Promise<RpcResult<{ domains: EmailSubdomainState[] }>>;
  /** /rules' autocomplete: the accounts customers write to. */
  discordAccounts(tenantId: string): Promise<RpcResult<{ accounts: CustomerAccount[] }>>;
  /** /rules: one account's reply rules, in the order they are tried. */
  discordRules(tenantId: string, accountRef: string): Promise<RpcResult<DiscordRules>>;
  /** Drafts waiting for a person; ids and reasons only. */
  listApprovals(tenantId: string): Promise<ApprovalRow[]>;
  /** Whether an inbox item is still open, and who handled it if not. */
  relayState(tenantId: string, relayId: string): Promise<RpcResult<RelayState>>;
  /**
   * A person's Reply, Approve or Drop on an inbox item, once; or Take over, Hand back or Pause on
   * its conversation, as often as they like.
   */
  relayAction(tenantId: string, relayId: string, action: unknown, actor: unknown): Promise<RelayActionResult>;
}
