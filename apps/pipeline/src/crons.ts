import { INSTAGRAM_TOKEN_CRON } from "./channels/instagram/connect.ts";

/**
 * Every 15 minutes: held drafts that waited 24 h expire (their credit goes back), and safety jobs
 * are queued again for personas and archetypes pending longer than that (requeueStalePendingSafety).
 */
export const APPROVALS_CRON = "*/15 * * * *";

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
