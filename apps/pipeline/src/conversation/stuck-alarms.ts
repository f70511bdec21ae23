import { createLogger, errorFields } from "@concierge/core";
import { clearStuckAlarm, listStuckAlarmsDue } from "@concierge/storage";
import type { PipelineEnv } from "../env.ts";
import { conversationStub } from "../tenants/ownership.ts";
import { STUCK_ALARM_REST_MS } from "./alarm.ts";

const log = createLogger("pipeline.conversation");

/**
 * Cron: conversation objects whose alarm gave up (alarm.ts) and have rested STUCK_ALARM_REST_MS
 * are woken for one more bounded round, so what they hold is not left waiting for the customer's
 * next word. Each round that fails again refreshes the alert's time, so an object is woken at
 * most every few hours; one that answers clears its alert itself. An alert whose object has
 * nothing to retry (it recovered, or was purged) is cleared here.
 */
export async function wakeStuckAlarms(env: PipelineEnv, now: number): Promise<number> {
  let woken = 0;
  let failures = 0;
  for (const row of await listStuckAlarmsDue(env.DB, now - STUCK_ALARM_REST_MS)) {
    try {
      const { rearmed } = await conversationStub(env, row.threadKey).retryStuckAlarm();
      if (rearmed) woken += 1;
      else await clearStuckAlarm(env.DB, row.tenantId, row.threadKey);
    } catch (err) {
      failures += 1;
      log.error("alarm.wake_failed", { tenant_id: row.tenantId, ...errorFields(err) });
    }
  }
  if (woken > 0) log.warn("alarm.stuck_woken", { count: woken });
  if (failures > 0) throw new Error(`${failures} stuck conversations could not be woken`);
  return woken;
}
