import { type ChatMessage, createAiProvider } from "@concierge/ai";
import { createLogger, errorFields } from "@concierge/core";
import { INJECTION_SCAN, buildEnvelope, extractHandoff, readVerdict, renderPersona } from "@concierge/prompt";
import { assessRisk } from "@concierge/rules";
import { creditBalance, debitCredit, getPersona, restoreCredit } from "@concierge/storage";
import type { PipelineEnv } from "./env.ts";
import { notifyTenant, tenantSettings } from "./notify.ts";
import type { Turn } from "./turn.ts";

const log = createLogger("pipeline.ai");

export type AiPlan = { rulePrompt: string | null; holding: boolean; approval: "auto" | "always" };

export type AiOutcome =
  /**
   * A reply; `creditRef` is the debit to restore if it is never sent. `hold` lists why it must
   * wait for a person's approval (the rule says always, or the risk check flagged it).
   */
  | { kind: "reply"; text: string; handoff: boolean; creditRef: string; hold: string[] | null }
  /** No reply for this turn, for the reason in `action` (credit already restored if taken). */
  | { kind: "none"; action: string }
  /** Worth trying again later (the model failed or timed out); the credit is back. */
  | { kind: "retry" };

/**
 * The tenant hears once when a debit brings the balance down to their threshold (debits are
 * serialized, so exactly one lands on it). Best effort: a failed warning never fails a reply.
 */
export async function warnOnLowBalance(env: PipelineEnv, tenantId: string): Promise<void> {
  try {
    const settings = await tenantSettings(env, tenantId);
    if (!settings) return;
    const balance = await creditBalance(env.DB, tenantId);
    if (balance !== settings.lowBalanceThreshold) return;
    log.warn("credits.low_balance", { tenant_id: tenantId, balance });
    await notifyTenant(env, tenantId, { kind: "low_balance", balance });
  } catch (err) {
    log.warn("credits.low_balance_check_failed", errorFields(err));
  }
}

/** The debit reference of one attempt at one turn: unique per tenant, stable across a retry. */
export function creditReference(turn: Turn, attempt: number): string {
  return `ai:${turn.thread.key}:${turn.id}:${attempt}`;
}

/**
 * One AI reply: persona safety gate → credit debit → injection scan alongside generation →
 * handoff sentinel. Every path that took a credit and produces no reply gives it back.
 */
export async function generateAiReply(
  env: PipelineEnv,
  turn: Turn,
  history: ChatMessage[],
  plan: AiPlan,
  attempt: number,
): Promise<AiOutcome> {
  const tenantId = turn.thread.tenantId;
  const fields = { tenant_id: tenantId, account_id: turn.thread.accountId, turn_id: turn.id };
  const persona = await getPersona(env.DB, tenantId);
  if (persona?.status !== "approved") {
    // Canned replies still go; AI replies wait for the exact current persona to be approved.
    log.info("ai.persona_not_approved", { ...fields, status: persona?.status ?? "none" });
    return { kind: "none", action: "ai_paused_persona" };
  }
  const ref = creditReference(turn, attempt);
  if (!(await debitCredit(env.DB, tenantId, ref)).ok) {
    // Out of credits: silent to the customer, by design.
    log.info("ai.no_credits", fields);
    return { kind: "none", action: "no_credits" };
  }
  try {
    const customerText = turn.messages.map((m) => m.text).join("\n");
    const envelope = buildEnvelope({
      persona: renderPersona(persona.persona),
      ...(plan.rulePrompt ? { rulePrompt: plan.rulePrompt } : {}),
      holding: plan.holding,
    });
    const ai = createAiProvider(env);
    // The scan runs alongside generation, so it adds no latency; its verdict decides afterwards.
    const [scan, generation] = await Promise.allSettled([
      ai.classify({
        system: INJECTION_SCAN,
        messages: [{ role: "user", content: customerText }],
        maxTokens: 5,
      }),
      ai.generate({
        system: envelope.system,
        messages: [...history, { role: "user", content: customerText }],
      }),
    ]);
    if (scan.status === "rejected" || generation.status === "rejected") {
      const err = scan.status === "rejected" ? scan.reason : (generation as PromiseRejectedResult).reason;
      log.warn("ai.call_failed", { ...fields, ...errorFields(err) });
      await restoreCredit(env.DB, tenantId, ref);
      return { kind: "retry" };
    }
    if (!readVerdict(scan.value.text).safe) {
      await restoreCredit(env.DB, tenantId, ref);
      log.warn("ai.injection_flagged", fields);
      return { kind: "none", action: "injection_flagged" };
    }
    const { handoff, text } = extractHandoff(generation.value.text);
    if (!text.trim()) {
      await restoreCredit(env.DB, tenantId, ref);
      return { kind: "none", action: "ai_empty" };
    }
    const offTopics = persona.persona.kind === "builder" ? persona.persona.offTopics : [];
    const risk = assessRisk({ draft: text, offTopics });
    const hold =
      plan.approval === "always" ? ["approval_always", ...risk.reasons] : risk.hold ? risk.reasons : null;
    return { kind: "reply", text, handoff: handoff && !plan.holding, creditRef: ref, hold };
  } catch (err) {
    // Anything that fails after the debit gives the credit back before the turn is retried.
    await restoreCredit(env.DB, tenantId, ref);
    throw err;
  }
}
