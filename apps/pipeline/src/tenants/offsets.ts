import { createLogger } from "@concierge/core";
import { type OffsetChange, listTenantOffsets, saveTenantOffsets, zoneOffset } from "@concierge/storage";
import type { PipelineEnv } from "../env.ts";

const log = createLogger("pipeline.tenants");

/** Pages of 200 tenants, at most this many a run: the rest are seen next hour. */
const MAX_PAGES = 50;

/**
 * Hourly (issue 19 item 6): each tenant's UTC offset as its zone has it now, so the insights'
 * per-day counts (migration 0036) follow a daylight-saving change within the hour, and a tenant
 * whose zone was not known yet (NULL) gets one and has its days counted again in it. Walks the
 * tenants by id, one row each; writes only what changed, one batch a page.
 */
export async function refreshTenantOffsets(env: PipelineEnv, now: number): Promise<number> {
  let after = "";
  let changed = 0;
  for (let page = 0; page < MAX_PAGES; page++) {
    const { tenants, next } = await listTenantOffsets(env.DB, after, 200);
    const changes: OffsetChange[] = [];
    for (const t of tenants) {
      const offset = zoneOffset(t.timeZone, now);
      if (offset !== t.offset) changes.push({ ...t, offset, recount: t.offset === null });
    }
    await saveTenantOffsets(env.DB, changes);
    changed += changes.length;
    if (next === null) break;
    after = next;
  }
  if (changed > 0) log.info("tenants.offsets_refreshed", { changed });
  return changed;
}
