/**
 * A per-tenant cap on concurrent AI calls (README: Pacing). A rate limit counts starts, not calls
 * in flight, so the cap is a small semaphore: one Durable Object per tenant (AI_GATES) holding
 * leases. A turn takes a lease before its model call (before the credit is debited, so a turn
 * that must wait takes nothing) and gives it back after; a lease not given back (the caller
 * crashed, its object was reset) ends by itself after LEASE_MS, longer than any model call may
 * take, so a slot is never held forever.
 *
 * The leases live in the object's memory, not its storage: no row is written per AI call. If the
 * object is reset (a deploy, an eviction after it sat idle) its leases are forgotten, which can
 * only let a few more calls through for at most one model timeout, never block one. A lease is
 * named after its turn, so a turn retried after a crash finds its own lease again instead of
 * taking a second slot.
 *
 * When the cap is reached the turn is retried by the conversation's alarm after a short, jittered
 * backoff (aiSlotRetryMs): its messages stay pending, no credit was taken, nothing is lost.
 */
import { DurableObject } from "cloudflare:workers";
import { type Thread, createLogger, errorFields } from "@concierge/core";
import type { PipelineEnv } from "../env.ts";

const log = createLogger("pipeline.pacing");

/** The cap when AI_CONCURRENCY_PER_TENANT is unset or unreadable. */
export const DEFAULT_AI_CONCURRENCY = 10;

/**
 * How long a lease lasts unless given back: the scan and the generation run side by side, each
 * within the provider's timeout (20 s, packages/ai models.ts), plus room for the debit and the
 * bookkeeping around them.
 */
export const LEASE_MS = 30_000;

export type SlotVerdict = { ok: true } | { ok: false; retryAfterMs: number };

export class AiGateDO extends DurableObject<PipelineEnv> {
  /** Lease name → when it ends (ms since the epoch). */
  private readonly leases = new Map<string, number>();

  /** Takes a slot for `lease` if fewer than `cap` are held; the same lease again renews it. */
  acquire(lease: string, cap: number, ttlMs: number = LEASE_MS): SlotVerdict {
    const now = Date.now();
    for (const [name, endsAt] of this.leases) if (endsAt <= now) this.leases.delete(name);
    if (this.leases.has(lease) || this.leases.size < cap) {
      this.leases.set(lease, now + ttlMs);
      return { ok: true };
    }
    const soonest = Math.min(...this.leases.values());
    return { ok: false, retryAfterMs: Math.max(soonest - now, 0) };
  }

  /** Gives the slot back; a lease that already ended (or never was) is no error. */
  release(lease: string): void {
    this.leases.delete(lease);
  }

  /** How many leases are held now (the operator's view, and tests). */
  held(): number {
    const now = Date.now();
    let n = 0;
    for (const endsAt of this.leases.values()) if (endsAt > now) n += 1;
    return n;
  }
}

/** The tenant's cap: AI_CONCURRENCY_PER_TENANT, a whole number; 0 turns the cap off. */
export function aiConcurrencyCap(env: Pick<PipelineEnv, "AI_CONCURRENCY_PER_TENANT">): number {
  const n = Number(env.AI_CONCURRENCY_PER_TENANT);
  return env.AI_CONCURRENCY_PER_TENANT !== "" && Number.isInteger(n) && n >= 0 ? n : DEFAULT_AI_CONCURRENCY;
}

export function aiGate(env: Pick<PipelineEnv, "AI_GATES">, tenantId: string) {
  return env.AI_GATES.get(env.AI_GATES.idFromName(tenantId));
}

/**
 * How long a turn that found no free slot waits before the alarm tries again: short and jittered,
 * since slots free as soon as a model answers (a second or two), growing with the turn's attempts
 * (250–500 ms, 0.5–1 s, … at most 15–30 s) so a tenant kept at its cap is not asked in lockstep.
 */
export function aiSlotRetryMs(attempt: number, random: () => number = Math.random): number {
  const step = Math.min(500 * 2 ** attempt, 30_000);
  return Math.round(step / 2 + (random() * step) / 2);
}

/** A slot taken: give it back once the model call is over. */
export type AiSlot = { release(): void };

const NO_CAP: AiSlot = { release() {} };

/**
 * Takes one of the thread's tenant's AI slots for `lease` (the turn), or answers null when all are
 * taken. `release` gives it back without delaying the reply (the RPC is not awaited); a release
 * that fails is left to the lease's end.
 */
export async function takeAiSlot(
  env: Pick<PipelineEnv, "AI_GATES" | "AI_CONCURRENCY_PER_TENANT">,
  thread: Thread,
  lease: string,
): Promise<AiSlot | null> {
  return gateSlot(env, thread.tenantId, lease);
}

async function gateSlot(
  env: Pick<PipelineEnv, "AI_GATES" | "AI_CONCURRENCY_PER_TENANT">,
  tenantId: string,
  lease: string,
): Promise<AiSlot | null> {
  const cap = aiConcurrencyCap(env);
  if (cap === 0) return NO_CAP;
  let gate: ReturnType<typeof aiGate>;
  let verdict: SlotVerdict;
  try {
    gate = aiGate(env, tenantId);
    verdict = await gate.acquire(lease, cap, LEASE_MS);
  } catch (err) {
    // A gate that cannot answer lets the call go, as the send pace does: the cap bounds a
    // tenant's share, it must never stop replies on its own.
    log.warn("ai.gate_unavailable", { ...errorFields(err), tenant_id: tenantId });
    return NO_CAP;
  }
  if (!verdict.ok) {
    log.info("ai.tenant_at_capacity", { tenant_id: tenantId, cap, retry_after_ms: verdict.retryAfterMs });
    return null;
  }
  return {
    release() {
      gate
        .release(lease)
        .catch((err: unknown) =>
          log.warn("ai.slot_release_failed", { ...errorFields(err), tenant_id: tenantId }),
        );
    },
  };
}
