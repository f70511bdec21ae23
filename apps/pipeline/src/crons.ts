import { INSTAGRAM_TOKEN_CRON } from "./channels/instagram/connect.ts";

/** Every 15 minutes: held drafts that waited 24 h expire (their credit goes back). */
export const APPROVALS_CRON = "*/15 * * * *";

/**
 * The pipeline's crons, exactly wrangler.jsonc's `triggers.crons` (a test compares them): the
 * scheduled handler records each run under its expression, the health page lists them all.
 */
export const PIPELINE_CRONS = [APPROVALS_CRON, INSTAGRAM_TOKEN_CRON] as const;
