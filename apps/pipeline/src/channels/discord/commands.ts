/**
 * What the Discord slash commands show, read for the interactions Worker: ids, names, counts and
 * states, never message text. The Worker renders them in the tenant's locale.
 */
import {
  type DiscordGuild,
  type DiscordRules,
  type DiscordStatus,
  errorBody,
  type RpcError,
  type RuleLine,
  type StatusChannel,
} from "@concierge/core";
import {
  accountHealth,
  aiReplyState,
  creditBalance,
  getDiscordInstallByGuild,
  getPersona,
  getReplyConfig,
  getTenantSettings,
  listAccountActivity,
  listPendingApprovals,
} from "@concierge/storage";
import type { RuleResponse } from "@concierge/rules";
import {
  type CustomerAccount,
  type EmailSubdomainState,
  listCustomerAccounts,
  listEmailSubdomainStates,
  listInstagramTokenStates,
} from "@concierge/storage/discord-summaries";
import type { PipelineEnv } from "../../env.ts";

/** The tenant a guild belongs to, with what the Worker needs to check permissions and speak. */
export async function discordGuild(
  env: PipelineEnv,
  guildId: string,
): Promise<({ ok: true } & DiscordGuild) | RpcError> {
  if (typeof guildId !== "string" || !/^\d{1,20}$/.test(guildId)) {
    return errorBody("not_installed", "This server is not connected.");
  }
  const install = await getDiscordInstallByGuild(env.DB, guildId);
  if (!install) return errorBody("not_installed", "This server is not connected.");
  const settings = await getTenantSettings(env.DB, install.tenantId);
  if (!settings) return errorBody("not_installed", "This server is not connected.");
  return { ok: true, tenantId: install.tenantId, staffRoleId: install.staffRoleId, locale: settings.locale };
}

/** /status: the dashboard overview's numbers, plus Instagram tokens the daily check found dead. */
export async function discordStatus(
  env: PipelineEnv,
  tenantId: string,
): Promise<({ ok: true } & DiscordStatus) | RpcError> {
  const now = Date.now();
  const [settings, balance, pending, persona, accounts, tokens] = await Promise.all([
    getTenantSettings(env.DB, tenantId),
    creditBalance(env.DB, tenantId, now),
    listPendingApprovals(env.DB, tenantId, now),
    getPersona(env.DB, tenantId),
    listAccountActivity(env.DB, tenantId, now),
    listInstagramTokenStates(env.DB, tenantId),
  ]);
  if (!settings) return errorBody("not_found", "No such tenant.");
  const dead = new Set(tokens.filter((t) => t.status === "dead").map((t) => t.accountId));
  const channels = accounts.map((a): StatusChannel => {
    const name = a.displayName ?? a.externalId;
    if (a.status === "active" && dead.has(a.id)) {
      return { channel: a.channel, name, level: "danger", reason: "token_dead" };
    }
    const h = accountHealth(a, now);
    return { channel: a.channel, name, level: h.level, reason: h.reason };
  });
  const status = persona?.status ?? null;
  // The same answer as the dashboard's overview (storage decides for both).
  const ai = aiReplyState({ suspended: settings.status === "suspended", persona: status, balance });
  return {
    ok: true,
    balance,
    lowBalanceThreshold: settings.lowBalanceThreshold,
    persona: status,
    ai,
    pendingApprovals: pending.length,
    channels,
  };
}

/** /domains: the tenant's email subdomains and whether mail arrives on them. */
export async function discordDomains(
  env: PipelineEnv,
  tenantId: string,
): Promise<{ ok: true; domains: EmailSubdomainState[] } | RpcError> {
  return { ok: true, domains: await listEmailSubdomainStates(env.DB, tenantId) };
}

/** The accounts /rules can show, for its autocomplete. */
export async function discordAccounts(
  env: PipelineEnv,
  tenantId: string,
): Promise<{ ok: true; accounts: CustomerAccount[] } | RpcError> {
  return { ok: true, accounts: await listCustomerAccounts(env.DB, tenantId) };
}

/**
 * /rules: one account's reply rules in the order they are tried. `accountRef` is the account id
 * (what the autocomplete offers) or its external id, as a person might type it.
 */
export async function discordRules(
  env: PipelineEnv,
  tenantId: string,
  accountRef: string,
): Promise<({ ok: true } & DiscordRules) | RpcError> {
  const ref = typeof accountRef === "string" ? accountRef.trim() : "";
  const account = (await listCustomerAccounts(env.DB, tenantId)).find(
    (a) => a.id === ref || a.externalId.toLowerCase() === ref.toLowerCase(),
  );
  if (!account) return errorBody("not_found", "No such channel account.");
  const stored = await getReplyConfig(env.DB, account.id);
  if (!stored) return { ok: true, account, configured: false, enabled: false, rules: [] };
  const c = stored.config;
  const rules: RuleLine[] = c.rules.map((r) => ({
    id: r.id,
    label: r.label,
    matcher:
      r.matcher.kind === "static_text"
        ? { kind: "keywords", keywords: r.matcher.keywords }
        : { kind: "intent" },
    response: responseLine(r.response.kind),
    approval: r.approval,
  }));
  rules.push({
    id: c.default_rule.id,
    label: c.default_rule.label,
    matcher: { kind: "default" },
    response: responseLine(c.default_rule.response.kind),
    approval: c.default_rule.approval,
  });
  return { ok: true, account, configured: true, enabled: c.enabled, rules };
}

/** How `/rules` names a rule's response. */
function responseLine(kind: RuleResponse["kind"]): RuleLine["response"] {
  return kind === "prompt" ? "ai" : kind;
}
