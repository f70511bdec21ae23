/**
 * The public demo's settings (PRODUCT.md §5), saved with their audit row in one batch. Settings
 * equal to the stored ones change nothing and record nothing.
 */
import type { DemoSettings, Operator, RpcResult } from "@concierge/core";
import { auditStatement, saveDemoSettingsStatement } from "@concierge/storage";
import type { PipelineEnv } from "../env.ts";

export async function saveDemoSettings(
  env: PipelineEnv,
  operator: Operator,
  settings: DemoSettings,
): Promise<RpcResult<{ settings: DemoSettings }>> {
  const now = Date.now();
  await env.DB.batch([
    saveDemoSettingsStatement(env.DB, settings, operator.email, now),
    auditStatement(
      env.DB,
      {
        at: now,
        operatorEmail: operator.email,
        action: "demo.save",
        tenantId: null,
        target: null,
        summary: { ...settings },
      },
      { afterChange: true },
    ),
  ]);
  return { ok: true, settings };
}
