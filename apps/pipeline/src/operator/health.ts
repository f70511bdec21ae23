/**
 * The pipeline's side of the operator's platform health page: its own configuration (required
 * secrets and bindings, by name only, never a value), whether the Discord bot's token works, the
 * safety queue's backlog and dead letters, each cron's last run, and inbound traffic per channel.
 */
import { getDiscordBotUser } from "@concierge/channels";
import {
  type ConfigNames,
  configReport,
  createLogger,
  type PipelineHealth,
  type RpcResult,
  type WorkerConfigReport,
} from "@concierge/core";
import {
  inboundTrafficLastHour,
  listCronRuns,
  overdueSafetyCount,
  safetyBacklog,
  stuckAlarms,
  countSideEffects,
} from "@concierge/storage";
import { PIPELINE_CRONS } from "../crons.ts";
import type { PipelineEnv } from "../env.ts";
import { STALE_AFTER_MS } from "../tenants/safety.ts";

const log = createLogger("pipeline.operator");

/**
 * Every name of the pipeline's wrangler.jsonc and .dev.vars.example, by what its absence means
 * (test/operator.test.ts compares them, so a new binding or secret cannot go unreported).
 */
export const PIPELINE_CONFIG = {
  required: [
    // Bindings the pipeline cannot work without.
    "DB",
    "CONVERSATIONS",
    "DEMO_QUOTA",
    // Pacing (src/pacing): sends per number, AI calls in flight per tenant.
    "SEND_RATE_LIMIT",
    "AI_GATES",
    "SAFETY",
    "EMAIL",
    /*
     * Secrets (`wrangler secret put`, .dev.vars.example) and vars that must not be empty: each is
     * used on some path (sealing, sends, webhooks, Discord, email routing, payments), and an empty
     * one fails only when that path runs. FACEBOOK_APP_ID and DISCORD_CLIENT_ID ship empty in
     * wrangler.jsonc and are filled per deployment, so they are checked too.
     */
    "ENCRYPTION_KEY",
    "WHATSAPP_ACCESS_TOKEN",
    "META_APP_SECRET",
    "DISCORD_BOT_TOKEN",
    "DISCORD_CLIENT_SECRET",
    "CLOUDFLARE_API_TOKEN",
    "RAZORPAY_KEY_SECRET",
    "META_GRAPH_BASE_URL",
    "FACEBOOK_APP_ID",
    "DISCORD_API_BASE_URL",
    "DISCORD_CLIENT_ID",
    "NOTIFY_EMAIL_FROM",
    "EMAIL_DOMAIN",
    "CLOUDFLARE_API_BASE_URL",
    "CLOUDFLARE_ZONE_ID",
    "EMAIL_INBOUND_WORKER",
    "DASHBOARD_URL",
    "RAZORPAY_API_BASE_URL",
    "RAZORPAY_KEY_ID",
  ],
  optional: [],
  unchecked: [
    // The AI provider (unset is the offline one) and the binding only one provider needs:
    // pipelineConfigReport checks them together, as packages/ai's createAiProvider reads them.
    "AI_PROVIDER",
    "AI",
    // Local only (tests, npm start): empty in production, where mail goes out through EMAIL.
    "EMAIL_OUTBOX_URL",
    // The AI concurrency cap per tenant: empty means the default (10), 0 turns the cap off.
    "AI_CONCURRENCY_PER_TENANT",
  ],
} as const satisfies ConfigNames;

/** The names of what is missing or empty; the AI's needs depend on AI_PROVIDER. */
export function pipelineConfigReport(env: PipelineEnv): WorkerConfigReport {
  const report = configReport("pipeline", env, PIPELINE_CONFIG);
  const provider = env.AI_PROVIDER ?? "offline";
  if (provider === "workers-ai" && !env.AI) report.missing.push("AI");
  if (provider === "openai" && !env.OPENAI_BASE_URL) report.missing.push("OPENAI_BASE_URL");
  if (!["workers-ai", "openai", "offline"].includes(provider)) report.missing.push("AI_PROVIDER");
  return report;
}

/**
 * Get Current User with the bot token: answers only when the token is valid. The outcome goes
 * back as data (the panel words it); Discord's own error text stays in the log.
 */
async function discordBot(env: PipelineEnv): Promise<PipelineHealth["discordBot"]> {
  if (!env.DISCORD_BOT_TOKEN?.trim()) return { ok: false, detail: { kind: "token_not_set" } };
  const me = await getDiscordBotUser({ baseUrl: env.DISCORD_API_BASE_URL, botToken: env.DISCORD_BOT_TOKEN });
  if (me.ok) return { ok: true, detail: { kind: "signed_in", username: me.value.username } };
  log.warn("health.discord_bot_failed", { status: me.status, reason: me.reason });
  if (me.status === 0) return { ok: false, detail: { kind: "unreachable" } };
  if (me.status >= 200 && me.status < 300) return { ok: false, detail: { kind: "unexpected" } };
  return { ok: false, detail: { kind: "refused", status: me.status } };
}

export async function platformHealth(
  env: PipelineEnv,
  now = Date.now(),
): Promise<RpcResult<{ health: PipelineHealth }>> {
  const [discord, safety, overdue, stuck, crons, traffic, sideEffects] = await Promise.all([
    discordBot(env),
    safetyBacklog(env.DB),
    overdueSafetyCount(env.DB, now - STALE_AFTER_MS),
    stuckAlarms(env.DB),
    listCronRuns(
      env.DB,
      PIPELINE_CRONS.map((c) => c.cron),
    ),
    inboundTrafficLastHour(env.DB, now),
    countSideEffects(env.DB),
  ]);
  const intervals = new Map<string, number>(PIPELINE_CRONS.map((c) => [c.cron, c.intervalMs]));
  return {
    ok: true,
    health: {
      workers: [pipelineConfigReport(env)],
      discordBot: discord,
      safety: { ...safety, overdue },
      stuckAlarms: stuck,
      sideEffects,
      crons: crons.map((run) => ({ ...run, intervalMs: intervals.get(run.name)! })),
      traffic,
      at: now,
    },
  };
}
