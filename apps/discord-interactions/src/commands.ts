/** Slash commands: /status, /domains, /rules (with its account autocomplete), rendered as embeds. */
import { RULES_ACCOUNT_OPTION } from "@concierge/channels/discord-commands";
import { type Translate, formatNumber, msg } from "@concierge/i18n";
import {
  type APIApplicationCommandOptionChoice,
  type APIEmbed,
  InteractionResponseType,
  type RESTPatchAPIWebhookWithTokenMessageJSONBody,
} from "discord-api-types/v10";
import { type DiscordRules, type DiscordStatus, type StatusChannel, subdomainFailure } from "@concierge/core";
import { respond } from "./responses.ts";
import type { Interaction } from "./schema.ts";

type Ctx = { env: Env; tenantId: string; locale: string; t: Translate };
type Body = RESTPatchAPIWebhookWithTokenMessageJSONBody;
type CommandInteraction = Extract<Interaction, { data: { name: string } }>;

const BLURPLE = 0x5865f2;
const DESCRIPTION_MAX = 4096;

const CHANNEL: Record<StatusChannel["channel"], string> = {
  whatsapp: msg("channel-whatsapp"),
  instagram: msg("channel-instagram"),
  email: msg("channel-email"),
  discord: msg("channel-discord"),
};
const LEVEL = {
  ok: { icon: "🟢", label: msg("discord-status-health-ok") },
  warn: { icon: "🟡", label: msg("discord-status-health-warn") },
  danger: { icon: "🔴", label: msg("discord-status-health-danger") },
} as const;
const REASON: Record<StatusChannel["reason"], string> = {
  disabled: msg("overview-health-disabled"),
  last_send_failed: msg("overview-health-last-send-failed"),
  no_inbox: msg("overview-health-no-inbox"),
  failed_sends: msg("overview-health-failed-sends"),
  no_messages: msg("overview-health-no-messages"),
  quiet: msg("overview-health-quiet"),
  working: msg("overview-health-working"),
  connected: msg("overview-health-connected"),
  token_dead: msg("discord-status-token-dead"),
};
const AI: Record<DiscordStatus["ai"], string> = {
  on: msg("discord-status-ai-on"),
  no_persona: msg("discord-status-ai-no-persona"),
  persona_not_approved: msg("discord-status-ai-persona-not-approved"),
  no_credits: msg("discord-status-ai-no-credits"),
  suspended: msg("discord-status-ai-suspended"),
};
const PERSONA = {
  approved: msg("discord-status-persona-approved"),
  pending: msg("discord-status-persona-pending"),
  needs_review: msg("discord-status-persona-needs-review"),
  rejected: msg("discord-status-persona-rejected"),
  none: msg("discord-status-persona-none"),
} as const;
const RULE_RESPONSE: Record<DiscordRules["rules"][number]["response"], string> = {
  canned: msg("discord-rules-canned"),
  ai: msg("discord-rules-ai"),
  handoff: msg("discord-rules-handoff"),
};
const DOMAIN = {
  active: msg("discord-domain-active"),
  provisioning: msg("discord-domain-provisioning"),
  failed: msg("discord-domain-failed"),
} as const;

/** Markdown characters in names people chose would otherwise format the line. */
const plain = (s: string) => s.replace(/[\\*_~`|>[\]()#-]/g, (c) => `\\${c}`);
const clip = (s: string, max = DESCRIPTION_MAX) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

function statusEmbed(c: Ctx, s: DiscordStatus): APIEmbed {
  const { t, locale } = c;
  const balance =
    s.balance <= 0
      ? t("discord-status-balance-empty")
      : s.balance <= s.lowBalanceThreshold
        ? t("discord-status-balance-low", {
            balance: formatNumber(locale, s.balance),
            threshold: formatNumber(locale, s.lowBalanceThreshold),
          })
        : t("discord-status-balance-value", { balance: formatNumber(locale, s.balance) });
  const channels = s.channels.length
    ? s.channels
        .map((ch) => {
          const level = LEVEL[ch.level];
          const reason = t(REASON[ch.reason], { count: 1, n: formatNumber(locale, 1) });
          // A new channel is "Connected", waiting for its first message: as on the overview.
          const label = ch.reason === "no_messages" ? msg("discord-status-health-waiting") : level.label;
          return `${level.icon} **${t(CHANNEL[ch.channel])}** ${plain(ch.name)}: ${t(label)}. ${reason}`;
        })
        .join("\n")
    : t("discord-status-no-channels");
  return {
    title: t("discord-status-title"),
    color: BLURPLE,
    description: clip(channels),
    fields: [
      { name: t("discord-status-balance"), value: balance, inline: true },
      { name: t("discord-status-ai"), value: t(AI[s.ai]), inline: true },
      { name: t("discord-status-persona"), value: t(PERSONA[s.persona ?? "none"]), inline: true },
      { name: t("discord-status-approvals"), value: formatNumber(locale, s.pendingApprovals), inline: true },
    ],
  };
}

function rulesEmbed(c: Ctx, r: DiscordRules): APIEmbed {
  const { t } = c;
  const name = r.account.displayName ?? r.account.externalId;
  const title = t("discord-rules-title", { account: `${t(CHANNEL[r.account.channel])} ${name}` });
  if (!r.configured) return { title, color: BLURPLE, description: t("discord-rules-none") };
  const lines = r.rules.map((rule, i) => {
    const matcher =
      rule.matcher.kind === "keywords"
        ? t("discord-rules-keywords", { keywords: rule.matcher.keywords.map(plain).join(", ") })
        : rule.matcher.kind === "intent"
          ? t("discord-rules-intent")
          : t("discord-rules-default");
    const response = t(RULE_RESPONSE[rule.response]);
    // Only an AI reply waits for approval; a canned or hand-off rule's setting is not used.
    const held = rule.response === "ai" && rule.approval === "always" ? ` · ${t("discord-rules-held")}` : "";
    return `${i + 1}. **${plain(rule.label || rule.id)}** · ${matcher} → ${response}${held}`;
  });
  const off = r.enabled ? "" : `${t("discord-rules-off")}\n\n`;
  return { title: clip(title, 256), color: BLURPLE, description: clip(off + lines.join("\n")) };
}

function optionValue(i: CommandInteraction, name: string): string {
  const o = i.data.options.find((x) => x.name === name);
  return typeof o?.value === "string" ? o.value : "";
}

/** The finished answer to a command, to replace the deferred "thinking" message. */
export async function runCommand(c: Ctx, i: CommandInteraction): Promise<Body> {
  const { env, tenantId, t, locale } = c;
  switch (i.data.name) {
    case "status": {
      const s = await env.PIPELINE.discordStatus(tenantId);
      return s.ok ? { embeds: [statusEmbed(c, s)] } : { content: t("discord-error") };
    }
    case "domains": {
      const d = await env.PIPELINE.discordDomains(tenantId);
      if (!d.ok) return { content: t("discord-error") };
      const description = d.domains.length
        ? d.domains
            .map((x) => {
              // Why setup failed, from the stored step and Cloudflare's number: never its English words.
              const reason = t("email-setup-failed", subdomainFailure(x.statusError));
              const state = t(DOMAIN[x.status], { reason });
              return `${x.status === "active" ? "🟢" : x.status === "failed" ? "🔴" : "🟡"} \`${x.domain}\`: ${state}`;
            })
            .join("\n")
        : t("discord-domains-none");
      return {
        embeds: [{ title: t("discord-domains-title"), color: BLURPLE, description: clip(description) }],
      };
    }
    case "rules": {
      const r = await env.PIPELINE.discordRules(tenantId, optionValue(i, RULES_ACCOUNT_OPTION));
      if (!r.ok)
        return { content: t(r.error.code === "not_found" ? "discord-rules-not-found" : "discord-error") };
      return { embeds: [rulesEmbed({ ...c, locale }, r)] };
    }
    default:
      return { content: t("discord-unknown") };
  }
}

/** /rules' account option: the tenant's accounts whose name or id contains what was typed. */
export async function autocomplete(c: Ctx, i: CommandInteraction): Promise<Response> {
  const focused = i.data.options.find((o) => o.focused);
  const typed = typeof focused?.value === "string" ? focused.value.toLowerCase() : "";
  const r = await c.env.PIPELINE.discordAccounts(c.tenantId);
  const choices: APIApplicationCommandOptionChoice<string>[] = (r.ok ? r.accounts : [])
    .filter((a) => `${a.displayName ?? ""} ${a.externalId}`.toLowerCase().includes(typed))
    .slice(0, 25)
    .map((a) => ({
      name: clip(`${c.t(CHANNEL[a.channel])} · ${a.displayName ?? a.externalId}`, 100),
      value: a.id,
    }));
  return respond({ type: InteractionResponseType.ApplicationCommandAutocompleteResult, data: { choices } });
}
