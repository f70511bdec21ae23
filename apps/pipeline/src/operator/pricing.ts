/**
 * The operator's prices: credit packs, the email-subdomain plan and the trial. A change applies
 * to new orders only: an order keeps its own copy of credits and amount, and a subscription its
 * own amount. Each change and its audit row are one D1 batch.
 */
import {
  type CreditPackInput,
  type Operator,
  type RpcResult,
  type SubdomainPlanPrice,
  type TrialSettingsInput,
  createLogger,
} from "@concierge/core";
import {
  auditStatement,
  getCreditPack,
  getSubdomainPlan,
  getTrialSettings,
  saveCreditPackStatement,
  setSubdomainPlanPriceStatement,
  setTrialSettingsStatement,
} from "@concierge/storage";
import type { PipelineEnv } from "../env.ts";

const log = createLogger("pipeline.operator");

/** Creates or reprices a pack (or turns it off); the summary keeps what it was. */
export async function saveCreditPack(
  env: PipelineEnv,
  operator: Operator,
  pack: CreditPackInput,
): Promise<RpcResult<{ id: string }>> {
  const now = Date.now();
  const before = await getCreditPack(env.DB, pack.id);
  await env.DB.batch([
    saveCreditPackStatement(env.DB, pack, now),
    auditStatement(env.DB, {
      at: now,
      operatorEmail: operator.email,
      action: "pricing.save_pack",
      tenantId: null,
      target: pack.id,
      summary: {
        created: before === null,
        currency: pack.currency,
        credits: pack.credits,
        amount: pack.amount,
        active: pack.active,
        sort: pack.sort,
        previousCredits: before?.credits ?? null,
        previousAmount: before?.amount ?? null,
        previousActive: before?.active ?? null,
      },
    }),
  ]);
  log.info("operator.pack_saved", { pack_id: pack.id, created: before === null });
  return { ok: true, id: pack.id };
}

/**
 * A new monthly price per extra subdomain. The same price changes nothing (the Razorpay plan at
 * that price stays), so it records nothing either.
 */
export async function setSubdomainPlanPrice(
  env: PipelineEnv,
  operator: Operator,
  input: SubdomainPlanPrice,
): Promise<RpcResult<{ currency: string }>> {
  const now = Date.now();
  const before = await getSubdomainPlan(env.DB, input.currency);
  await env.DB.batch([
    setSubdomainPlanPriceStatement(env.DB, input.currency, input.amount, now),
    auditStatement(
      env.DB,
      {
        at: now,
        operatorEmail: operator.email,
        action: "pricing.subdomain_plan",
        tenantId: null,
        target: input.currency,
        summary: { currency: input.currency, amount: input.amount, previousAmount: before?.amount ?? null },
      },
      { afterChange: true },
    ),
  ]);
  return { ok: true, currency: input.currency };
}

/** The trial every tenant created from now on gets; tenants created before keep theirs. */
export async function setTrialSettings(
  env: PipelineEnv,
  operator: Operator,
  input: TrialSettingsInput,
): Promise<RpcResult<{ credits: number; days: number }>> {
  const now = Date.now();
  const before = await getTrialSettings(env.DB);
  await env.DB.batch([
    setTrialSettingsStatement(env.DB, input, now),
    auditStatement(env.DB, {
      at: now,
      operatorEmail: operator.email,
      action: "pricing.trial",
      tenantId: null,
      target: null,
      summary: {
        credits: input.credits,
        days: input.days,
        previousCredits: before.credits,
        previousDays: before.days,
      },
    }),
  ]);
  return { ok: true, credits: input.credits, days: input.days };
}
