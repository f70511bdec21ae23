/**
 * The pipeline's side of the operator's platform health page: its own configuration (required
 * secrets and bindings, by name only, never a value), whether the Discord bot's token works, the
 * safety queue's backlog and dead letters, each cron's last run, and inbound traffic per channel.
 */
import { getDiscordBotUser } from "@concierge/channels";
import type { PipelineHealth, RpcResult, WorkerConfigReport } from "@concierge/core";
import { inboundTrafficLastHour, listCronRuns, safetyBacklog } from "@concierge/storage";
import { PIPELINE_CRONS } from "../crons.ts";
import type { PipelineEnv } from "../env.ts";

/** Bindings the pipeline cannot work without (wrangler.jsonc). */
const REQUIRED_BINDINGS = ["DB", "CONVERSATIONS", "DEMO_QUOTA", "SAFETY", "EMAIL"] as const;

/**
 * Secrets (`wrangler secret put`, .dev.vars.example) and vars that must not be empty: each is used
 * on some path (sealing, sends, webhooks, Discord, email routing, payments), and an empty one
 * fails only when that path runs. FACEBOOK_APP_ID and DISCORD_CLIENT_ID ship empty in
 * wrangler.jsonc and are filled per deployment, so they are checked too.
 */
const REQUIRED_SETTINGS = [
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
] as const;

/** The names of what is missing or empty; the AI's needs depend on AI_PROVIDER. */
export function pipelineConfigReport(env: PipelineEnv): WorkerConfigReport {
  const record = env as unknown as Record<string, unknown>;
  const missing: string[] = [];
  for (const name of REQUIRED_BINDINGS) if (!record[name]) missing.push(name);
  for (const name of REQUIRED_SETTINGS) {
    const value = record[name];
    if (typeof value !== "string" || value.trim() === "") missing.push(name);
  }
  const provider = env.AI_PROVIDER || "offline";
  if (provider === "workers-ai" && !env.AI) missing.push("AI");
  if (provider === "openai" && !env.OPENAI_BASE_URL) missing.push("OPENAI_BASE_URL");
  if (!["workers-ai", "openai", "offline"].includes(provider)) missing.push("AI_PROVIDER");
  return { worker: "pipeline", missing };
}

/** Get Current User with the bot token: answers only when the token is valid. */
async function discordBot(env: PipelineEnv): Promise<PipelineHealth["discordBot"]> {
  if (!env.DISCORD_BOT_TOKEN) return { ok: false, detail: "DISCORD_BOT_TOKEN is not set" };
  const me = await getDiscordBotUser({ baseUrl: env.DISCORD_API_BASE_URL, botToken: env.DISCORD_BOT_TOKEN });
  return me.ok ? { ok: true, detail: `signed in as ${me.value.username}` } : { ok: false, detail: me.reason };
}

export async function platformHealth(
  env: PipelineEnv,
  now = Date.now(),
): Promise<RpcResult<{ health: PipelineHealth }>> {
  const [discord, safety, crons, traffic] = await Promise.all([
    discordBot(env),
    safetyBacklog(env.DB),
    listCronRuns(env.DB, PIPELINE_CRONS),
    inboundTrafficLastHour(env.DB, now),
  ]);
  return {
    ok: true,
    health: { workers: [pipelineConfigReport(env)], discordBot: discord, safety, crons, traffic, at: now },
  };
}
