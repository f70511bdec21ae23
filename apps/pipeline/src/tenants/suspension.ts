import { type RpcError, errorBody } from "@concierge/core";
import type { PipelineEnv } from "../env.ts";
import { tenantSettings } from "./notify.ts";

/**
 * Whether the platform team has suspended the tenant: then nothing answers its customers (no
 * rule, AI, holding or email auto-reply, no approved draft, no person's reply), while inbound is
 * still accepted and its metadata logged, so nothing is lost. Read through the tenant-settings
 * cache like the rest of a turn's config: an isolate that read the tenant just before a
 * suspension may still answer for up to CONFIG_CACHE_MS (default 10 s); the isolate that handled
 * the operator's request forgets its copy at once. Reactivation reaches turns the same way.
 */
export async function tenantSuspended(env: PipelineEnv, tenantId: string): Promise<boolean> {
  const settings = await tenantSettings(env, tenantId);
  // A tenant whose deletion began and has not finished (it stopped midway and waits for the next
  // attempt) answers no one either: it is on its way out.
  return settings?.status === "suspended" || (settings?.deletingAt ?? null) !== null;
}

/** The refusal of a person's reply or an approved draft while the tenant is suspended. */
export function suspendedError(): RpcError {
  return errorBody(
    "tenant_suspended",
    "This account is suspended by the platform team: no messages can be sent to customers.",
  );
}
