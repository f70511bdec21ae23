import { sha256Hex } from "@concierge/crypto";
import {
  type APIActionRowComponent,
  type APIButtonComponent,
  type APIEmbed,
  type APIEmbedField,
  DiscordButton,
  DiscordComponent,
  type DiscordTarget,
  type SendResult,
  createDiscordMessage,
  editDiscordMessage,
  getDiscordMessage,
} from "@concierge/channels";
import { createLogger } from "@concierge/core";
import { type Translate, msg, translator } from "@concierge/i18n";
import type { RiskReason } from "@concierge/rules";
import {
  type DiscordRelay,
  type RelayKind,
  createRelay,
  getDiscordInstall,
  getRelay,
  getRelayByApproval,
  getTenantSettings,
  setRelayMessageId,
  transitionRelay,
} from "@concierge/storage";
import type { Thread } from "@concierge/core";
import type { PipelineEnv } from "../../env.ts";

const log = createLogger("pipeline.relay");

/** One item for the tenant's Discord inbox. The text fields go to Discord only, never to storage. */
export type RelayRequest = {
  kind: RelayKind;
  thread: Thread;
  providerMessageId: string | null;
  approvalId: string | null;
  customerName: string | null;
  subject: string | null;
  preview: string;
  /** Reason codes (handoff, approval_always, too_long, …) or `rule:<label>`, comma-separated. */
  reason: string;
  draft?: string;
  /** A message the injection scan flagged: relayed in every mode, titled as such. */
  flagged?: true;
};

export type RelayResult =
  | { ok: true; relayed: boolean; channelId?: string }
  | { ok: false; retryable: boolean };

// Discord's embed limits (Embed Limits): counted in characters, the total across the embed.
export const EMBED_LIMITS = {
  title: 256,
  description: 4096,
  fieldName: 256,
  fieldValue: 1024,
  footer: 2048,
  author: 256,
  total: 6000,
} as const;

/** Brand colours, so an operator tells the channel at a glance. */
const COLOURS: Record<string, number> = { whatsapp: 0x25d366, instagram: 0xe1306c, email: 0x4f6bed };
const STATUS_COLOUR = 0x99aab5;

/** Cuts to at most `max` characters (code points), ending with … when something was cut. */
export function truncate(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join("")}…`;
}

const length = (s: string | undefined) => (s ? [...s].length : 0);

function embedSize(e: APIEmbed): number {
  return (
    length(e.title) +
    length(e.description) +
    length(e.footer?.text) +
    length(e.author?.name) +
    (e.fields ?? []).reduce((n, f) => n + length(f.name) + length(f.value), 0)
  );
}

/**
 * A deterministic id per item: a retry (or a second delivery of the same event) finds the same
 * row, and the id doubles as Discord's `nonce` (at most 25 characters).
 */
export async function relayId(
  req: Pick<RelayRequest, "kind" | "thread" | "approvalId" | "providerMessageId">,
) {
  const basis = [
    req.thread.tenantId,
    req.kind,
    req.thread.key,
    req.approvalId ?? req.providerMessageId ?? "",
  ].join("|");
  return `rl${(await sha256Hex(basis)).slice(0, 22)}`;
}

function channelName(t: Translate, channel: string): string {
  return channel === "whatsapp" || channel === "instagram" || channel === "email"
    ? t(`relay-channel-${channel}`)
    : channel;
}

/** Why an item is in the inbox: the pipeline's codes, each worded in the tenant's language. */
type RelayReason =
  | RiskReason
  | "all"
  | "handoff"
  | "approval_always"
  | "email"
  | "relay"
  /** A turn gave up after a day of failures (conversation/alarm.ts): a person must answer. */
  | "given_up"
  /** The injection scan flagged the message: no AI reply went, a person decides (inbox.ts). */
  | "injection_flagged";

// A Record, so a reason the risk check gains is a type error here until it has its words.
const REASONS: Record<RelayReason, string> = {
  all: msg("relay-reason-all"),
  handoff: msg("relay-reason-handoff"),
  approval_always: msg("relay-reason-approval_always"),
  too_short: msg("relay-reason-too_short"),
  too_long: msg("relay-reason-too_long"),
  money: msg("relay-reason-money"),
  commitment: msg("relay-reason-commitment"),
  off_topic: msg("relay-reason-off_topic"),
  email: msg("relay-reason-email"),
  relay: msg("relay-reason-relay"),
  given_up: msg("relay-reason-given_up"),
  injection_flagged: msg("relay-reason-injection_flagged"),
};

/**
 * One reason's words: a code, or `rule:<label>` (the tenant's own label). A code this version
 * does not know (an item queued by a newer one) gets general words, never the code itself.
 */
export function reasonText(t: Translate, reason: string): string {
  if (Object.hasOwn(REASONS, reason)) return t(REASONS[reason as RelayReason]);
  if (reason.startsWith("rule:")) return t("relay-reason-rule", { rule: reason.slice(5) });
  return t("relay-reason-other");
}

/** Discord markdown's special characters escaped, so the text shows as typed. */
export function escapeMarkdown(s: string): string {
  return s.replace(/[\\*_~`|>[\]()#<-]/g, (c) => `\\${c}`);
}

/** The embed and its buttons, in the tenant's language, within Discord's limits. */
export function relayMessage(
  t: Translate,
  id: string,
  req: RelayRequest,
): { embeds: APIEmbed[]; components: APIActionRowComponent<APIButtonComponent>[] } {
  const reasons = req.reason
    .split(",")
    .map((r) => r.trim())
    .filter(Boolean)
    .map((r) => reasonText(t, r))
    .join("\n");
  const fields: APIEmbedField[] = [
    {
      name: t("relay-field-customer"),
      value: truncate(
        req.customerName ? `${req.customerName} (${req.thread.customerId})` : req.thread.customerId,
        EMBED_LIMITS.fieldValue,
      ),
      inline: true,
    },
  ];
  if (req.subject)
    fields.push({ name: t("relay-field-subject"), value: truncate(req.subject, EMBED_LIMITS.fieldValue) });
  if (reasons)
    fields.push({ name: t("relay-field-reason"), value: truncate(reasons, EMBED_LIMITS.fieldValue) });
  const withDraft = req.kind === "approval" && req.draft !== undefined && req.approvalId !== null;
  if (withDraft)
    fields.push({ name: t("relay-field-draft"), value: truncate(req.draft || "…", EMBED_LIMITS.fieldValue) });
  const embed: APIEmbed = {
    author: { name: truncate(channelName(t, req.thread.channel), EMBED_LIMITS.author) },
    title: truncate(t(req.flagged ? "relay-title-flagged" : `relay-title-${req.kind}`), EMBED_LIMITS.title),
    color: COLOURS[req.thread.channel] ?? STATUS_COLOUR,
    fields,
    timestamp: new Date().toISOString(),
  };
  // The preview takes what the other parts leave of the 6000 in all, up to 4096.
  const room = Math.min(EMBED_LIMITS.description, EMBED_LIMITS.total - embedSize(embed));
  // A flagged message is an attacker's text: shown inert (no masked links, no formatting).
  const preview = req.flagged ? escapeMarkdown(req.preview.trim()) : req.preview.trim();
  embed.description = truncate(preview || t("relay-empty-preview"), room);
  const buttons: APIButtonComponent[] = [
    {
      type: DiscordComponent.Button,
      style: DiscordButton.Primary,
      label: t("relay-button-reply"),
      custom_id: `relay:reply:${id}`,
    },
  ];
  if (withDraft) {
    buttons.push({
      type: DiscordComponent.Button,
      style: DiscordButton.Success,
      label: t("relay-button-approve"),
      custom_id: `relay:approve:${id}`,
    });
  }
  buttons.push({
    type: DiscordComponent.Button,
    style: DiscordButton.Danger,
    label: t("relay-button-drop"),
    custom_id: `relay:drop:${id}`,
  });
  const rows: APIActionRowComponent<APIButtonComponent>[] = [
    { type: DiscordComponent.ActionRow, components: buttons },
  ];
  // Who answers this customer, on a row of its own (Discord allows five buttons a row). Not on a
  // held draft: deciding the draft is that item's question.
  if (req.kind === "message" || req.kind === "handoff") {
    rows.push({ type: DiscordComponent.ActionRow, components: controlButtons(t, id) });
  }
  return { embeds: [embed], components: rows };
}

// Discord's Secondary (grey) style; channels' `DiscordButton` names only the others.
const SECONDARY = 2 as Extract<APIButtonComponent, { custom_id: string }>["style"];

/** Take over, Hand back, Pause 1 h: `relay:<kind>:<id>`, the kinds of `RelayActionSchema`. */
function controlButtons(t: Translate, id: string): APIButtonComponent[] {
  return (
    [
      ["take_over", "relay-button-take-over"],
      ["hand_back", "relay-button-hand-back"],
      ["pause", "relay-button-pause"],
    ] as const
  ).map(([kind, label]) => ({
    type: DiscordComponent.Button,
    style: SECONDARY,
    label: t(label),
    custom_id: `relay:${kind}:${id}`,
  }));
}

export function discordTarget(env: PipelineEnv): DiscordTarget {
  return { baseUrl: env.DISCORD_API_BASE_URL, botToken: env.DISCORD_BOT_TOKEN };
}

/**
 * Posts an item to the tenant's Discord inbox, once. The row is created before the post (its id is
 * deterministic) and the message id recorded after. Every attempt sends the same `nonce` with
 * `enforce_nonce`, so a retry after a post whose answer was lost (a timeout, a 5xx after Discord
 * acted) gets the first message back instead of a second one. `relayed: false`: nothing to do
 * (no install or inbox channel, or the tenant's relay mode does not call for this kind).
 */
export async function relayItem(env: PipelineEnv, req: RelayRequest): Promise<RelayResult> {
  const { thread } = req;
  const fields = { tenant_id: thread.tenantId, account_id: thread.accountId, kind: req.kind };
  const install = await getDiscordInstall(env.DB, thread.tenantId);
  if (!install?.inboxChannelId) return { ok: true, relayed: false };
  if (req.kind === "message" && install.relayMode !== "all" && !req.flagged)
    return { ok: true, relayed: false };
  const id = await relayId(req);
  const existing = await getRelay(env.DB, thread.tenantId, id);
  if (existing?.discordMessageId) return { ok: true, relayed: true, channelId: existing.channelId };
  // A row from an earlier attempt keeps its channel: the nonce only guards within one channel.
  const channelId = existing?.channelId ?? install.inboxChannelId;
  if (!existing) {
    await createRelay(env.DB, {
      id,
      tenantId: thread.tenantId,
      accountId: thread.accountId,
      channel: thread.channel,
      customerId: thread.customerId,
      threadKey: thread.key,
      kind: req.kind,
      approvalId: req.approvalId,
      providerMessageId: req.providerMessageId,
      guildId: install.guildId,
      channelId,
    });
  }
  const settings = await getTenantSettings(env.DB, thread.tenantId);
  const t = translator(settings?.locale ?? "en-IN");
  const r: SendResult = await createDiscordMessage(discordTarget(env), channelId, {
    ...relayMessage(t, id, req),
    allowed_mentions: { parse: [] },
    nonce: id,
    enforce_nonce: true,
  });
  if (r.ok) {
    await setRelayMessageId(env.DB, thread.tenantId, id, r.providerMessageId);
    log.info("relay.posted", { ...fields, relay_id: id });
    return { ok: true, relayed: true, channelId };
  }
  // An unknown outcome is safe to repeat: the nonce returns the message if it was made.
  const retryable = r.retryable || r.unknown === true;
  log.warn("relay.failed", { ...fields, relay_id: id, status: r.status, code: r.code, retryable });
  return { ok: false, retryable };
}

type Outcome = "approved" | "edited" | "rejected" | "expired" | "failed";

/**
 * An approval decided outside Discord (the dashboard, the expiry sweep): the inbox item is closed
 * and its message edited to say so, without buttons. Best effort: a failure is logged, never
 * raised, and an item already handled from Discord (its own lock) is left alone.
 */
export async function closeApprovalRelay(
  env: PipelineEnv,
  tenantId: string,
  approvalId: string,
  outcome: Outcome,
  actor: string | null,
): Promise<void> {
  try {
    const relay = await getRelayByApproval(env.DB, tenantId, approvalId);
    if (!relay) return;
    const to = outcome === "approved" || outcome === "edited" ? "approved" : "dropped";
    // No person (an expiry, a failure): nobody's name, so Discord says "already handled" without
    // one instead of naming an English "system".
    const { changed } = await transitionRelay(env.DB, tenantId, relay.id, to, actor);
    if (!changed || !relay.discordMessageId) return;
    await editClosed(env, relay, outcome, actor);
  } catch (err) {
    log.warn("relay.close_failed", {
      tenant_id: tenantId,
      approval_id: approvalId,
      error: String(err).slice(0, 200),
    });
  }
}

async function editClosed(env: PipelineEnv, relay: DiscordRelay, outcome: Outcome, actor: string | null) {
  const settings = await getTenantSettings(env.DB, relay.tenantId);
  const t = translator(settings?.locale ?? "en-IN");
  const who = actor ? t("relay-actor-dashboard", { actor }) : "";
  const status = t(`relay-status-${outcome}`, { actor: who });
  // The preview lives only in Discord: the message is read back (Read Message History) and its
  // embed keeps everything, greyed, with the status added; the buttons go.
  const target = discordTarget(env);
  const current = await getDiscordMessage(target, relay.channelId, relay.discordMessageId!);
  const r = await editDiscordMessage(target, relay.channelId, relay.discordMessageId!, {
    embeds: [
      withStatus(
        current.ok ? current.value.embeds[0] : undefined,
        t(`relay-title-${relay.kind}`),
        t("relay-field-status"),
        status,
      ),
    ],
    components: [],
    allowed_mentions: { parse: [] },
  });
  if (!r.ok)
    log.warn("relay.edit_failed", { tenant_id: relay.tenantId, relay_id: relay.id, status: r.status });
  else log.info("relay.closed", { tenant_id: relay.tenantId, relay_id: relay.id, outcome });
}

/** The item's embed with a status field (replacing an earlier one), shortened to stay within limits. */
export function withStatus(
  embed: APIEmbed | undefined,
  title: string,
  label: string,
  status: string,
): APIEmbed {
  const base: APIEmbed = embed ? { ...embed } : { title: truncate(title, EMBED_LIMITS.title) };
  const field = { name: label, value: truncate(status, EMBED_LIMITS.fieldValue) };
  const fields = (base.fields ?? []).filter((f) => f.name !== label).slice(0, 24);
  const next: APIEmbed = { ...base, color: STATUS_COLOUR, fields: [...fields, field] };
  const over = embedSize(next) - EMBED_LIMITS.total;
  if (over > 0 && next.description)
    next.description = truncate(next.description, Math.max(1, length(next.description) - over));
  return next;
}
