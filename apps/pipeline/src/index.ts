import { env } from "cloudflare:workers";
import { type SafetyJob, createLogger, errorFields, errorResponse } from "@concierge/core";
import {
  installD1Meter,
  installDurableObjectMeter,
  meterEnabled,
  meteredDurableObject,
  meteredHandler,
} from "@concierge/core/meter";
import { deleteExpiredEmailAliases, recordCronRun, statementProbe } from "@concierge/storage";
import { purgeOldWebhookEvents } from "./billing/events.ts";
import { INSTAGRAM_TOKEN_CRON, refreshInstagramTokens } from "./channels/instagram/connect.ts";
import { runQuarterHourJobs } from "./crons.ts";
import type { PipelineEnv } from "./env.ts";
import { handleSafetyBatch } from "./tenants/safety.ts";

const log = createLogger("pipeline.cron");

import { ConversationDO as Conversation } from "./conversation/object.ts";
import { DemoQuotaDO as DemoQuota } from "./demo/quota.ts";
import { AiGateDO as AiGate } from "./pacing/ai-gate.ts";

// The cost benchmark's meter (@concierge/core/meter), only when the bench's stack turns it on;
// otherwise the classes and the handler below are exported as they are.
const metering = meterEnabled(env);
if (metering) {
  const e = env as unknown as PipelineEnv;
  installD1Meter(e.DB, statementProbe(e.DB));
  installDurableObjectMeter(e.CONVERSATIONS);
}
export const ConversationDO = metering ? meteredDurableObject(Conversation) : Conversation;
export const DemoQuotaDO = metering ? meteredDurableObject(DemoQuota) : DemoQuota;
export const AiGateDO = metering ? meteredDurableObject(AiGate) : AiGate;
// One named entrypoint per caller; each Worker's service binding names only its own.
export { BillingEntrypoint } from "./entrypoints/billing.ts";
export { DemoEntrypoint } from "./entrypoints/demo.ts";
export { DiscordEntrypoint } from "./entrypoints/discord.ts";
export { EmailIngestEntrypoint } from "./entrypoints/email-ingest.ts";
export { MetaIngestEntrypoint } from "./entrypoints/meta-ingest.ts";
export { OperatorEntrypoint } from "./entrypoints/operator.ts";
export { TenantEntrypoint } from "./entrypoints/tenant.ts";

// The pipeline has no public routes (workers_dev is off); its work arrives over RPC.
const handler = {
  async fetch(): Promise<Response> {
    return errorResponse(404, "not_found", "The pipeline is reached through its service binding only.");
  },
  queue: (batch, env) => handleSafetyBatch(batch, env),
  // Dispatched by schedule (wrangler.jsonc triggers.crons): daily token refresh, expired
  // reverse aliases (lookups check the expiry themselves; this only keeps addresses from lingering)
  // and Razorpay event ids past their retention, else every 15 min (runQuarterHourJobs: held drafts
  // that expired, safety jobs queued again, gathered notices and summary digests that are due). Each run is recorded under its
  // cron expression for the operator's health page; a failed run is recorded as such and rethrown.
  async scheduled(controller, env) {
    let ok = false;
    try {
      if (controller.cron === INSTAGRAM_TOKEN_CRON) {
        await refreshInstagramTokens(env);
        const aliases = await deleteExpiredEmailAliases(env.DB, controller.scheduledTime);
        if (aliases) log.info("email.aliases_expired", { count: aliases });
        await purgeOldWebhookEvents(env, controller.scheduledTime);
      } else {
        await runQuarterHourJobs(env, controller.scheduledTime);
      }
      ok = true;
    } catch (err) {
      log.error("cron.failed", { ...errorFields(err), cron: controller.cron });
      throw err;
    } finally {
      await recordCronRun(env.DB, controller.cron, controller.scheduledTime, ok).catch((err: unknown) =>
        log.error("cron.record_failed", { ...errorFields(err), cron: controller.cron }),
      );
    }
  },
} satisfies ExportedHandler<PipelineEnv, SafetyJob>;

export default metering ? meteredHandler(handler) : handler;
