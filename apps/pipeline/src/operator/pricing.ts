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
  errorBody,
} from "@concierge/core";
import {
  auditStatement,
  getCreditPack,
  getSubdomainPlan,
  getTrialSettings,
  insertCreditPackStatement,
  setSubdomainPlanPriceStatement,
  setTrialSettingsStatement,
  updateCreditPackStatement,
} from "@concierge/storage";
import type { PipelineEnv } from "../env.ts";

const log = createLogger("pipeline.operator");

/**
 * Adds a pack (`mode` "new") or reprices one or turns it on or off ("edit"), held to what the
 * operator meant by the save itself: "new" never overwrites a pack with this id (`pack_exists`),
 * "edit" changes only an existing pack in its own currency (`not_found`, `currency_fixed`), and
 * an edit that changes nothing records nothing. The summary keeps what it was.
 */
export async function saveCreditPack(
  env: PipelineEnv,
  operator: Operator,
  input: CreditPackInput,
): Promise<RpcResult<{ id: string }>> {
  const { mode, ...pack } = input;
  const now = Date.now();
  // Only for the summary and the error's wording: the statements decide in SQL what changes.
  const before = await getCreditPack(env.DB, pack.id);
  const save =
    mode === "new"
      ? insertCreditPackStatement(env.DB, pack, now)
      : updateCreditPackStatement(env.DB, pack, now);
  const [saved] = await env.DB.batch([
    save,
    auditStatement(
      env.DB,
      {
        at: now,
        operatorEmail: operator.email,
        action: "pricing.save_pack",
        tenantId: null,
        target: pack.id,
        summary: {
          created: mode === "new",
          currency: pack.currency,
          credits: pack.credits,
          amount: pack.amount,
          active: pack.active,
          sort: pack.sort,
          previousCredits: mode === "new" ? null : (before?.credits ?? null),
          previousAmount: mode === "new" ? null : (before?.amount ?? null),
          previousActive: mode === "new" ? null : (before?.active ?? null),
        },
      },
      { afterChange: true },
    ),
  ]);
  const changed = (saved?.meta.changes ?? 0) > 0;
  if (!changed) {
    if (mode === "new") return errorBody("pack_exists", "A pack with this id exists already.");
    const stored = await getCreditPack(env.DB, pack.id);
    if (!stored) return errorBody("not_found", "No such pack.");
    if (stored.currency !== pack.currency) {
      return errorBody("currency_fixed", "A pack keeps its currency; add a new pack for another currency.");
    }
  }
  log.info("operator.pack_saved", { pack_id: pack.id, mode, changed });
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

/**
 * The trial every tenant created from now on gets; tenants created before keep theirs. The trial
 * it is already changes nothing and records nothing.
 */
export async function setTrialSettings(
  env: PipelineEnv,
  operator: Operator,
  input: TrialSettingsInput,
): Promise<RpcResult<{ credits: number; days: number }>> {
  const now = Date.now();
  const before = await getTrialSettings(env.DB);
  await env.DB.batch([
    setTrialSettingsStatement(env.DB, input, now),
    auditStatement(
      env.DB,
      {
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
      },
      { afterChange: true },
    ),
  ]);
  return { ok: true, credits: input.credits, days: input.days };
}
