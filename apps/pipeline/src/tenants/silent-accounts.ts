import { createLogger, errorFields } from "@concierge/core";
import { claimSilenceAlert, listSilentAccounts, releaseSilenceAlert } from "@concierge/storage";
import type { PipelineEnv } from "../env.ts";
import { notifyTenant } from "./notify.ts";

const log = createLogger("pipeline.health");

/** Accounts read per statement: each page walks the primary key from the cursor. */
const PAGE = 200;
/** A stop for a runaway loop (a million accounts), never reached in practice; logged if it is. */
const MAX_PAGES = 5000;

/**
 * Hourly (from the 15-minute cron): an account that got customer messages every day and then none
 * for its tenant's hours has probably lost its webhook (a revoked token, a changed subscription),
 * so the tenant is told, once per silence: the claim in D1 makes a second run, or one running
 * alongside, find nothing to tell. An alert that could not be delivered is given back and tried
 * again next hour. Ids, names and counts only; no message is read.
 */
export async function alertSilentAccounts(env: PipelineEnv, now: number): Promise<number> {
  let alerted = 0;
  let after = "";
  // At most once per silence: a crash between the claim and the notice loses that alert rather
  // than risk sending it twice.
  for (let page = 0; page < MAX_PAGES; page++) {
    const { accounts, next } = await listSilentAccounts(env.DB, now, after, PAGE);
    for (const a of accounts) {
      const fields = { tenant_id: a.tenantId, account_id: a.id, hours: a.hours };
      if (!(await claimSilenceAlert(env.DB, a.id, a.lastInboundAt, now))) continue;
      let delivered = false;
      try {
        delivered = await notifyTenant(env, a.tenantId, {
          kind: "silent_account",
          channel: a.channel,
          account: a.name,
          hours: Math.floor((now - a.lastInboundAt) / 3_600_000),
        });
      } catch (err) {
        log.warn("health.silent_alert_failed", { ...fields, ...errorFields(err) });
      }
      if (!delivered) {
        await releaseSilenceAlert(env.DB, a.id, now, a.alertedAt);
        continue;
      }
      log.info("health.silent_account", fields);
      alerted += 1;
    }
    if (next === null) return alerted;
    after = next;
  }
  log.error("health.silent_check_cut_short", { pages: MAX_PAGES, after });
  return alerted;
}

/** Whether this 15-minute run is the hour's first: the quiet-channel check runs hourly. */
export function firstRunOfHour(scheduledTime: number): boolean {
  return new Date(scheduledTime).getUTCMinutes() < 15;
}
