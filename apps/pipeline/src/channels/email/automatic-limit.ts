/**
 * The operator's daily cap on each tenant's automatic mail (auto-replies + forwards, issue 17),
 * saved with its audit row in one batch. The same value again changes nothing and records nothing.
 */
import type { EmailAutomaticLimit, Operator, RpcResult } from "@concierge/core";
import { auditStatement, saveEmailAutomaticLimitStatement } from "@concierge/storage";
import type { PipelineEnv } from "../../env.ts";

export async function saveEmailAutomaticLimit(
  env: PipelineEnv,
  operator: Operator,
  input: EmailAutomaticLimit,
): Promise<RpcResult<EmailAutomaticLimit>> {
  const now = Date.now();
  await env.DB.batch([
    saveEmailAutomaticLimitStatement(env.DB, input.dailyLimit, operator.email, now),
    auditStatement(
      env.DB,
      {
        at: now,
        operatorEmail: operator.email,
        action: "email.automatic_limit",
        tenantId: null,
        target: null,
        summary: { dailyLimit: input.dailyLimit },
      },
      { afterChange: true },
    ),
  ]);
  return { ok: true, dailyLimit: input.dailyLimit };
}
