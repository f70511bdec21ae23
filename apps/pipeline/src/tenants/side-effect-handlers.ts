/**
 * What each side effect does at its provider (tenants/side-effects.ts runs them). Each handler is
 * idempotent and reads only the ids in its target: by the time the cron retries, the tenant's
 * rows and data key may be gone.
 */
import type { SideEffectKind } from "@concierge/core";
import { guildServesAnotherTenant } from "@concierge/storage";
import { leaveGuildById } from "../channels/discord/install.ts";
import { deleteRoutingRule } from "../channels/email/cloudflare-api.ts";
import { unsubscribePage } from "../channels/instagram/connect.ts";
import { releaseWhatsAppNumber } from "../channels/whatsapp/release.ts";
import type { PipelineEnv } from "../env.ts";

/** What a handler answers: done, or why not and whether trying again can help. */
export type SideEffectOutcome = { ok: true } | { ok: false; error: string; permanent?: boolean };
export type SideEffectHandler = (
  env: PipelineEnv,
  target: Record<string, string>,
  /** The tenant the effect was recorded for (its rows may be gone by now). */
  recordedFor: { tenantId: string | null },
) => Promise<SideEffectOutcome>;

/** A target without the id a handler needs can never succeed: give up at once. */
const missing = (id: string): SideEffectOutcome => ({ ok: false, error: `no_${id}`, permanent: true });

/** Every kind has its handler: a new kind does not compile until it has one. */
export const SIDE_EFFECT_HANDLERS: Record<SideEffectKind, SideEffectHandler> = {
  // The bot leaves the tenant's server (10004 Unknown Guild: already left, done). Not when another
  // business (not itself being deleted) has installed the bot in that server since: the bot is
  // there for them now.
  discord_leave: async (env, t, { tenantId }) => {
    if (!t.guild_id) return missing("guild_id");
    if (await guildServesAnotherTenant(env.DB, t.guild_id, tenantId)) return { ok: true };
    return leaveGuildById(env, t.guild_id);
  },
  // The subdomain's Worker rule goes (a rule already gone, 404, counts as deleted).
  email_routes_remove: async (env, t) => {
    if (!t.rule_id) return missing("rule_id");
    const r = await deleteRoutingRule(env, t.rule_id);
    return r.ok ? { ok: true } : { ok: false, error: r.status ? `http_${r.status}` : "unreachable" };
  },
  // The page's webhooks stop reaching the app (needs the account's page token while it can still
  // be read; never another account's that connected the page since).
  instagram_unsubscribe: async (env, t) => {
    if (!t.page_id) return missing("page_id");
    if (!t.account_id) return missing("account_id");
    return unsubscribePage(env, t.page_id, t.account_id);
  },
  // The number leaves Cloud API and our app its WABA (channels/whatsapp/release.ts).
  whatsapp_release: releaseWhatsAppNumber,
};
