import { type StatusResult, type StatusUpdate, createLogger } from "@concierge/core";
import { findIngestTarget, recordDeliveryStatus } from "@concierge/storage";
import { configCache } from "../config/config-cache.ts";
import type { PipelineEnv } from "../env.ts";

const log = createLogger("pipeline");

/**
 * Delivery statuses of our sends (sent, delivered, read, failed with the provider's error code),
 * recorded on the outbound metadata rows. Statuses arrive out of order and more than once, so a
 * row only moves forward; a status that beats its row (the webhook can arrive before the write
 * that follows the send) is kept and applied when the row is written; one for an account we do
 * not have is ignored and logged.
 */
export async function recordStatuses(
  env: PipelineEnv,
  statuses: StatusUpdate[],
): Promise<Extract<StatusResult, { ok: true }>["results"]> {
  const results = [];
  for (const s of statuses) {
    const target = await configCache(env).ingestTargets.get(`${s.channel}:${s.accountExternalId}`, () =>
      findIngestTarget(env.DB, s.channel, s.accountExternalId),
    );
    const outcome = target
      ? await recordDeliveryStatus(env.DB, {
          tenantId: target.tenantId,
          accountId: target.id,
          channel: s.channel,
          providerMessageId: s.providerMessageId,
          status: s.status,
          at: s.at,
          errorCode: s.errorCode ?? null,
          errorTitle: s.errorTitle ?? null,
        })
      : "unknown";
    // A kept status is not logged: sends from outside Concierge on the number report one each.
    if (outcome === "unknown") {
      log.info("status.unknown_account", {
        channel: s.channel,
        account_id: target?.id ?? null,
        provider_message_id: s.providerMessageId,
        status: s.status,
      });
    } else if (s.status === "failed" && outcome === "updated") {
      log.warn("status.failed", {
        account_id: target?.id ?? null,
        provider_message_id: s.providerMessageId,
        error_code: s.errorCode ?? null,
      });
    }
    results.push({ providerMessageId: s.providerMessageId, outcome });
  }
  return results;
}
