/**
 * The operator API: what the platform team's `/manage` panel may ask of the pipeline. It is bound
 * by nothing yet; the operator panel binds it alone.
 */
import type { RpcResult } from "./rpc.ts";

/** The pipeline's `OperatorEntrypoint`. */
export interface OperatorApi {
  /**
   * Rotates the tenant's data key: new text is sealed with the new version, text sealed before
   * stays readable with the old one until it expires.
   */
  rotateTenantKey(tenantId: string): Promise<RpcResult<{ version: number }>>;
}
