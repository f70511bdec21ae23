import { createLogger, errorFields } from "@concierge/core";
import {
  markMessages,
  pruneAutomaticMail,
  purgeEarlyStatuses,
  purgeExpiredMetadata,
} from "@concierge/storage";
import { INSTAGRAM_TOKEN_CRON } from "./channels/instagram/connect.ts";
import { expireApprovals, resolveStuckApprovals } from "./conversation/approvals.ts";
import { wakeStuckAlarms } from "./conversation/stuck-alarms.ts";
import type { PipelineEnv } from "./env.ts";
import { sendDueDigests } from "./tenants/digest.ts";
import { alertSilentAccounts, firstRunOfHour } from "./tenants/silent-accounts.ts";
import { resumeDeletions } from "./tenants/lifecycle.ts";
import { sendDueNoticeSummaries } from "./tenants/notify.ts";
import { refreshTenantOffsets } from "./tenants/offsets.ts";
import { requeueStalePendingSafety } from "./tenants/safety.ts";
import { runDueSideEffects } from "./tenants/side-effects.ts";

const log = createLogger("pipeline.cron");

/**
 * Every 15 minutes: held drafts that waited 24 h expire (their credit goes back), and safety jobs
 * are queued again for personas and archetypes pending longer than that (requeueStalePendingSafety);
 * gathered approval and handoff notices that are due go out as one summary per tenant; and the
 * summary digests whose period ended (a local midnight or Monday) go out, once per period; deletions
 * that were cut off are resumed, and effects at providers that failed are retried. Approvals a
 * decision left in `sending` are settled (resolveStuckApprovals), and conversations whose alarm
 * gave up are woken again after a rest (wakeStuckAlarms). Message metadata older than each
 * tenant's retention is purged in bounded chunks (purgeRetention).
 */
export const APPROVALS_CRON = "*/15 * * * *";

/**
 * How long a delivery status that beat its outbound row waits for it (storage messages.ts): the
 * race it covers (Meta's webhook before the write that follows the send) lasts seconds.
 */
export const EARLY_STATUS_KEEP_MS = 3600_000;
const EARLY_STATUS_CHUNKS = 20;

/**
 * Early statuses older than EARLY_STATUS_KEEP_MS go, chunk after chunk until a chunk comes back
 * short (at most EARLY_STATUS_CHUNKS of 1000 a run): a number that also sends from outside
 * Concierge reports statuses for each of those sends, and they must not pile up.
 */
export async function purgeStaleEarlyStatuses(env: PipelineEnv, scheduledTime: number): Promise<number> {
  let purged = 0;
  for (let i = 0; i < EARLY_STATUS_CHUNKS; i++) {
    const n = await purgeEarlyStatuses(env.DB, scheduledTime - EARLY_STATUS_KEEP_MS, 1000);
    purged += n;
    if (n < 1000) break;
  }
  if (purged > 0) log.info("early_statuses.purged", { rows: purged });
  return purged;
}

/** Chunks the retention purge deletes per run (each at most RETENTION_CHUNK_ROWS rows per table). */
const RETENTION_CHUNKS = 20;
const RETENTION_CHUNK_ROWS = 1000;

/**
 * Message metadata (message rows, Discord inbox items, decided approvals) older than each tenant's
 * own retention (tenants.retention_days, migrations/0030) goes, at most RETENTION_CHUNKS chunks per
 * run so one run stays short however much is due; the next run resumes from what is left.
 */
export async function purgeRetention(env: PipelineEnv, scheduledTime: number) {
  const n = Number(env.RETENTION_CHUNK_ROWS);
  const limit = Number.isInteger(n) && n > 0 ? n : RETENTION_CHUNK_ROWS;
  const r = await purgeExpiredMetadata(env.DB, scheduledTime, { limit, chunks: RETENTION_CHUNKS });
  if (r.messages || r.relays || r.approvals || r.days) log.info("retention.purged", r);
  return r;
}

/**
 * Runs every job in order, each on its own: one that throws is logged and the next still runs.
 * Afterwards one error naming the jobs that failed is thrown, so the cron run is recorded as failed.
 */
export async function runJobs(jobs: readonly (readonly [string, () => Promise<unknown>])[]): Promise<void> {
  const failed: string[] = [];
  for (const [name, job] of jobs) {
    try {
      await job();
    } catch (err) {
      failed.push(name);
      log.error("cron.job_failed", { job: name, ...errorFields(err) });
    }
  }
  if (failed.length > 0) throw new Error(`cron jobs failed: ${failed.join(", ")}`);
}

/**
 * The 15-minute jobs, in order, at the run's scheduled time. The notices and the digest come after
 * the expiry, so "approvals waiting" does not count drafts that have just expired. One job's
 * failure does not hold up the others (runJobs).
 */
export async function runQuarterHourJobs(env: PipelineEnv, scheduledTime: number): Promise<void> {
  await runJobs([
    // First, being one cheap statement: the highest message id now, for the health page's inbound
    // traffic (migration 0039), marked even when a later job runs out of time. At the time it
    // runs, not the time it was due, so that every id under the mark is older than its time.
    ["message_marks", () => markMessages(env.DB, Date.now())],
    ["expire_approvals", () => expireApprovals(env)],
    // A stuck approval sent back to `pending` past its expiry expires at the next run.
    ["resolve_stuck_approvals", () => resolveStuckApprovals(env, scheduledTime)],
    ["wake_stuck_alarms", () => wakeStuckAlarms(env, scheduledTime)],
    ["requeue_safety", () => requeueStalePendingSafety(env, scheduledTime)],
    ["notice_summaries", () => sendDueNoticeSummaries(env, scheduledTime)],
    ["digests", () => sendDueDigests(env, scheduledTime)],
    // Effects at Meta, Discord and Cloudflare that failed: retried with back-off until done.
    ["side_effects", () => runDueSideEffects(env, scheduledTime)],
    // Deletions cut off midway (a tenant's, a data deletion request) go on, in bounded steps;
    // after the effects, so a request that waited for Meta's unsubscribe finishes in this run.
    ["resume_deletions", () => resumeDeletions(env, scheduledTime)],
    // The automatic-mail cap's per-mail claims and past days (ids and counts only).
    ["prune_automatic_mail", () => pruneAutomaticMail(env.DB, scheduledTime)],
    ["retention", () => purgeRetention(env, scheduledTime)],
    // Delivery statuses kept for a row that never came (sends from outside Concierge).
    ["early_statuses", () => purgeStaleEarlyStatuses(env, scheduledTime)],

    // Hourly: accounts that went quiet after daily messages alert their tenant once.
    [
      "silent_accounts",
      () => (firstRunOfHour(scheduledTime) ? alertSilentAccounts(env, scheduledTime) : Promise.resolve(0)),
    ],
    // Hourly: each tenant's UTC offset, for the insights' local days across daylight saving.
    [
      "tenant_offsets",
      () => (firstRunOfHour(scheduledTime) ? refreshTenantOffsets(env, scheduledTime) : Promise.resolve(0)),
    ],
  ]);
}

/**
 * The pipeline's crons, exactly wrangler.jsonc's `triggers.crons` (a test compares them), each
 * with how often it runs (a test checks that against the expression): the scheduled handler
 * records each run under its expression, and the health page calls a cron late only once it has
 * missed runs by its own measure, not a fixed one that a daily cron would always exceed.
 */
export const PIPELINE_CRONS = [
  { cron: APPROVALS_CRON, intervalMs: 15 * 60_000 },
  { cron: INSTAGRAM_TOKEN_CRON, intervalMs: 24 * 3600_000 },
] as const satisfies readonly { cron: string; intervalMs: number }[];
