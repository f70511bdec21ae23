import {
  type BillingDetails,
  BillingDetailsSchema,
  createLogger,
  errorBody,
  type RpcResult,
} from "@concierge/core";
import { getTenantPreferences, saveBillingDetails as saveBillingDetailsRow } from "@concierge/storage";
import * as v from "valibot";
import type { PipelineEnv } from "../env.ts";

const log = createLogger("pipeline.billing");

/** Legal name, address and GSTIN (optional), printed on every receipt; entered once in settings. */
export async function saveBillingDetails(
  env: PipelineEnv,
  tenantId: string,
  input: unknown,
): Promise<RpcResult<{ details: BillingDetails }>> {
  const parsed = v.safeParse(BillingDetailsSchema, input);
  if (!parsed.success) {
    const first = parsed.issues[0];
    const path = v.getDotPath(first);
    return errorBody("invalid_details", path ? `${path}: ${first.message}` : first.message);
  }
  if (typeof tenantId !== "string" || !(await getTenantPreferences(env.DB, tenantId))) {
    return errorBody("not_found", "No such tenant.");
  }
  await saveBillingDetailsRow(env.DB, tenantId, parsed.output);
  log.info("billing.details_saved", { tenant_id: tenantId, gstin: parsed.output.gstin !== null });
  return { ok: true, details: parsed.output };
}
