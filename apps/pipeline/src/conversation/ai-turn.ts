import { type ChatMessage, createAiProvider } from "@concierge/ai";
import { createLogger, errorFields } from "@concierge/core";
import {
  INJECTION_SCAN,
  type Persona,
  buildEnvelope,
  extractHandoff,
  readVerdict,
  renderPersona,
} from "@concierge/prompt";
import { assessRisk } from "@concierge/rules";
import { creditBalance } from "@concierge/storage";
import type { PipelineEnv } from "../env.ts";
import { notifyTenant, tenantSettings } from "../tenants/notify.ts";
import { takeAiSlot } from "../pacing/ai-gate.ts";
import { paceAhead } from "../pacing/send-pace.ts";
import { chargeAttempt } from "./exactly-once.ts";
import { customerContent } from "./turn-content.ts";
import type { Turn } from "./types.ts";

const log = createLogger("pipeline.ai");

export type AiPlan = { rulePrompt: string | null; holding: boolean; approval: "auto" | "always" };

export type AiOutcome =
  /**
   * A reply; `creditRef` is the debit to restore if it is never sent. `hold` lists why it must
   * wait for a person's approval (the rule says always, or the risk check flagged it).
   */
  | {
      kind: "reply";
      text: string;
      handoff: boolean;
      creditRef: string;
      hold: string[] | null;
      /** Credits left right after this reply's debit (for the low-balance warning). */
      balance: number;
    }
  /** No reply for this turn, for the reason in `action` (credit already restored if taken). */
  | { kind: "none"; action: string }
  /**
   * Worth trying again later (the model failed or timed out; the credit is back), or after
   * `slotWait` when the tenant's AI slots were all taken: nothing was tried or debited, so the
   * retry is no new attempt and finds this attempt's debit (if an earlier run of it died after
   * taking one) under the same reference instead of taking a second credit.
   */
  | { kind: "retry"; slotWait?: true };

/**
 * The tenant hears once when a debit brings the balance down to their threshold (debits are
 * serialized, so exactly one lands on it). Best effort: a failed warning never fails a reply.
 */
export async function warnOnLowBalance(
  env: PipelineEnv,
  tenantId: string,
  /** The balance the debit left, when the debit said (an AI turn's does): no query then. */
  after?: number,
): Promise<void> {
  try {
    const settings = await tenantSettings(env, tenantId);
    if (!settings) return;
    const balance = after ?? (await creditBalance(env.DB, tenantId));
    if (balance !== settings.lowBalanceThreshold) return;
    log.warn("credits.low_balance", { tenant_id: tenantId, balance });
    await notifyTenant(env, tenantId, { kind: "low_balance", balance });
  } catch (err) {
    log.warn("credits.low_balance_check_failed", errorFields(err));
  }
}

/** The action recorded for a turn whose customer text the injection scan flagged. */
export const INJECTION_FLAGGED = "injection_flagged";

/** What the model made of one request, before any credit bookkeeping. */
export type ModelAnswer =
  /** `hold` lists why a person must approve it first (the rule says always, or the risk check). */
  | { kind: "reply"; text: string; handoff: boolean; hold: string[] | null }
  /** The injection scan flagged the customer's text: no reply. */
  | { kind: "flagged" }
  /** Nothing left once the handoff sentinel is stripped. */
  | { kind: "empty" }
  /** The scan or the generation call failed (worth trying again later). */
  | { kind: "failed"; error: unknown };

/**
 * Exactly what the reply model is sent: the system prompt (the envelope, with the business's own
 * span marked) and the messages after it (the history, then the customer's text), byte for byte.
 */
export type ModelRequest = { system: string; editable: [number, number]; messages: ChatMessage[] };

/**
 * The AI call itself, shared by a conversation's turn, the dashboard's preview and the public
 * demo so that each shows exactly what a customer would get: the envelope (persona and rule
 * prompt), the injection scan alongside generation, the handoff sentinel and the approval
 * decision. It answers with the request it sent, so a "View prompt" panel shows what the model
 * received rather than a rebuilt copy.
 */
export async function askModel(
  env: PipelineEnv,
  persona: Persona,
  plan: AiPlan,
  history: ChatMessage[],
  customerText: string,
): Promise<ModelAnswer & { sent: ModelRequest }> {
  const envelope = buildEnvelope({
    persona: renderPersona(persona),
    ...(plan.rulePrompt ? { rulePrompt: plan.rulePrompt } : {}),
    holding: plan.holding,
  });
  const sent: ModelRequest = {
    system: envelope.system,
    editable: envelope.editable,
    messages: [...history, { role: "user", content: customerText }],
  };
  const ai = createAiProvider(env);
  // The scan runs alongside generation, so it adds no latency; its verdict decides afterwards.
  const [scan, generation] = await Promise.allSettled([
    ai.classify({
      system: INJECTION_SCAN,
      messages: [{ role: "user", content: customerText }],
      maxTokens: 5,
    }),
    ai.generate({ system: sent.system, messages: sent.messages }),
  ]);
  if (scan.status === "rejected" || generation.status === "rejected") {
    const error = scan.status === "rejected" ? scan.reason : (generation as PromiseRejectedResult).reason;
    return { kind: "failed", error, sent };
  }
  if (!readVerdict(scan.value.text).safe) return { kind: "flagged", sent };
  const { handoff, text } = extractHandoff(generation.value.text);
  if (!text.trim()) return { kind: "empty", sent };
  const offTopics = persona.kind === "builder" ? persona.offTopics : [];
  const risk = assessRisk({ draft: text, offTopics });
  const hold =
    plan.approval === "always" ? ["approval_always", ...risk.reasons] : risk.hold ? risk.reasons : null;
  return { kind: "reply", text, handoff: handoff && !plan.holding, hold, sent };
}

/**
 * One AI reply: credit debit with the persona safety gate in the same statement → injection scan
 * alongside generation → handoff sentinel. Every path that took a credit and produces no reply
 * gives it back (exactly-once.ts, rule 6).
 */
export async function generateAiReply(
  env: PipelineEnv,
  turn: Turn,
  history: () => Promise<ChatMessage[]>,
  plan: AiPlan,
  attempt: number,
  /** Called once the credit is taken, as generation starts: a reply is now likely. */
  onGenerating?: () => void,
): Promise<AiOutcome> {
  const tenantId = turn.thread.tenantId;
  const fields = { tenant_id: tenantId, account_id: turn.thread.accountId, turn_id: turn.id };
  // The history is opened while the debit's round trip is on its way, not after it.
  const past = history();
  // Opened once; an error surfaces where it is awaited (inside the charged work, which refunds).
  past.catch(() => {});
  // One of the tenant's AI slots (pacing/ai-gate.ts), before the debit: at the cap the turn
  // waits for the alarm's retry with nothing taken.
  const slot = await takeAiSlot(env, turn.thread, `${turn.thread.key}/${turn.id}`);
  if (!slot) return { kind: "retry", slotWait: true };
  const charged = await chargeAttempt<AiOutcome>(env, turn, attempt, async (creditRef, charge) => {
    onGenerating?.();
    // The reply's place in the number's send pace (send-pace.ts), taken once a credit is (a
    // turn that will send nothing spends none): its round trip runs alongside the model call,
    // not between the model's answer and the send.
    paceAhead(env, turn.thread);
    const customerText = customerContent(turn.messages);
    const answer = await askModel(env, charge.persona, plan, await past, customerText);
    if (answer.kind === "failed") {
      log.warn("ai.call_failed", { ...fields, ...errorFields(answer.error) });
      return { refund: true, value: { kind: "retry" } };
    }
    if (answer.kind === "flagged") {
      log.warn("ai.injection_flagged", fields);
      return { refund: true, value: { kind: "none", action: INJECTION_FLAGGED } };
    }
    if (answer.kind === "empty") return { refund: true, value: { kind: "none", action: "ai_empty" } };
    return {
      refund: false,
      value: {
        kind: "reply",
        text: answer.text,
        handoff: answer.handoff,
        creditRef,
        hold: answer.hold,
        balance: charge.balance,
      },
    };
  }).finally(() => slot.release());
  if (charged.kind === "persona_not_approved") {
    // Canned replies still go; AI replies wait for the exact current persona to be approved.
    log.info("ai.persona_not_approved", { ...fields, status: charged.status });
    return { kind: "none", action: "ai_paused_persona" };
  }
  if (charged.kind === "no_credits") {
    // Out of credits: silent to the customer, by design.
    log.info("ai.no_credits", fields);
    return { kind: "none", action: "no_credits" };
  }
  return charged.value;
}
