import { WorkerEntrypoint } from "cloudflare:workers";
import type { OperatorApi } from "@concierge/core";
import type { PipelineEnv } from "../env.ts";
import { rotateKey } from "../tenants/keys.ts";

/**
 * The operator API, for the platform team's `/manage` panel only (its own service binding, behind
 * Cloudflare Access). No tenant-facing Worker binds it.
 */
export class OperatorEntrypoint extends WorkerEntrypoint<PipelineEnv> implements OperatorApi {
  rotateTenantKey(tenantId: string) {
    return rotateKey(this.env, tenantId);
  }
}
