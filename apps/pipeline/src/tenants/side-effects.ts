/**
 * Runs the side effects a deletion or a disconnect records (migrations/0023, storage
 * side-effects.ts): once right after they are recorded, then by the 15-minute cron with back-off
 * until each is done or gives up. A handler must be idempotent (an effect already done at the
 * provider counts as done): a lease that ran out mid-attempt means the next run tries again.
 */
import { type SideEffectKind, createLogger, errorFields } from "@concierge/core";
import {
  type SideEffectRow,
  claimSideEffect,
  completeSideEffect,
  failSideEffect,
  getPendingSideEffect,
  listDueSideEffects,
} from "@concierge/storage";
import type { PipelineEnv } from "../env.ts";
import { SIDE_EFFECT_HANDLERS, type SideEffectOutcome } from "./side-effect-handlers.ts";

const log = createLogger("pipeline.side_effects");

/** How long one attempt may hold an effect before another run may try it. */
const LEASE_MS = 5 * 60_000;
/** Effects tried per cron run: each is a call to a provider, so a bounded number per run. */
const PER_RUN = 50;

/** One attempt at an effect this run has claimed; never throws. */
async function attempt(
  env: PipelineEnv,
  e: SideEffectRow,
  now: number,
): Promise<"done" | "pending" | "failed"> {
  const handler = SIDE_EFFECT_HANDLERS[e.kind];
  let outcome: SideEffectOutcome;
  try {
    outcome = handler
      ? await handler(env, e.target, { tenantId: e.tenantId })
      : { ok: false, error: "no_handler", permanent: true };
  } catch (err) {
    log.warn("side_effect.threw", { kind: e.kind, ...errorFields(err) });
    outcome = { ok: false, error: "threw" };
  }
  const fields = { kind: e.kind, tenant_id: e.tenantId, attempts: e.attempts + 1 };
  if (outcome.ok) {
    await completeSideEffect(env.DB, e.id, Date.now());
    log.info("side_effect.done", fields);
    return "done";
  }
  const status = await failSideEffect(env.DB, e, outcome.error, now, outcome.permanent);
  if (status === "failed") log.error("side_effect.gave_up", { ...fields, error: outcome.error });
  else log.warn("side_effect.failed", { ...fields, error: outcome.error });
  return status;
}

/**
 * Tries an effect just recorded (its statement already ran, in the caller's batch), at once: the
 * usual case finishes here and the cron never sees it. A failure leaves it pending for the cron.
 */
export async function trySideEffectNow(
  env: PipelineEnv,
  kind: SideEffectKind,
  target: Record<string, string>,
): Promise<"done" | "pending" | "failed" | "absent"> {
  const e = await getPendingSideEffect(env.DB, kind, target);
  if (!e) return "absent";
  const now = Date.now();
  if (!(await claimSideEffect(env.DB, e, now + LEASE_MS))) return "pending";
  return attempt(env, e, now);
}

/** The cron's job: every due effect, each claimed first so two runs never try one at once. */
export async function runDueSideEffects(
  env: PipelineEnv,
  now = Date.now(),
): Promise<{ done: number; pending: number; failed: number }> {
  const counts = { done: 0, pending: 0, failed: 0 };
  for (const e of await listDueSideEffects(env.DB, now, PER_RUN)) {
    if (!(await claimSideEffect(env.DB, e, now + LEASE_MS))) continue;
    counts[await attempt(env, e, now)] += 1;
  }
  return counts;
}
