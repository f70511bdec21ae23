import { createLogger, type Decision, type DecisionResult, errorBody, errorFields } from "@concierge/core";
import {
  type ApprovalRow,
  getApproval,
  listExpiredApprovals,
  listStuckSendingApprovals,
  restoreCredit,
  transitionApproval,
} from "@concierge/storage";
import type { PipelineEnv } from "../env.ts";
import { closeApprovalRelay } from "../channels/discord/relay.ts";
import { conversationStub } from "../tenants/ownership.ts";
import { suspendedError, tenantSuspended } from "../tenants/suspension.ts";

const log = createLogger("pipeline.approvals");

const conversation = (env: PipelineEnv, a: ApprovalRow) => conversationStub(env, a.threadKey);

export async function readApprovalDraft(
  env: PipelineEnv,
  tenantId: string,
  id: string,
): Promise<string | null> {
  const a = await getApproval(env.DB, tenantId, id);
  if (a?.status !== "pending") return null;
  return conversation(env, a).readDraft(id);
}

/**
 * Approve (send the draft), edit (send the person's text) or reject (drop it, credit back).
 * The D1 transition from `pending` is the lock: a second click, or a click after expiry, finds
 * nothing to change and is told so.
 */
export async function decideApproval(
  env: PipelineEnv,
  tenantId: string,
  id: string,
  decision: Decision,
  actor: string,
): Promise<DecisionResult> {
  if (
    decision.action === "edit" &&
    (typeof decision.text !== "string" || !decision.text.trim() || decision.text.length > 4096)
  ) {
    return errorBody("invalid_text", "The edited reply must be 1 to 4096 characters.");
  }
  const a = await getApproval(env.DB, tenantId, id);
  if (!a) return errorBody("not_found", "No such approval.");
  if (decision.action === "reject") {
    if (!(await transitionApproval(env.DB, tenantId, id, "pending", "rejected", actor)).changed) {
      return errorBody(
        "already_decided",
        `This draft was already ${a.status === "pending" ? "handled" : a.status}.`,
      );
    }
    await restoreCredit(env.DB, tenantId, a.creditRef);
    await conversation(env, a).dropDraft(id);
    log.info("approval.rejected", { tenant_id: tenantId, approval_id: id });
    await closeApprovalRelay(env, tenantId, id, "rejected", actor);
    return { ok: true, status: "rejected" };
  }
  // Suspended: the draft is not sent and stays pending (it may still be rejected, or expire), so
  // a person can send it after reactivation.
  if (await tenantSuspended(env, tenantId)) return suspendedError();
  if (!(await transitionApproval(env.DB, tenantId, id, "pending", "sending", actor)).changed) {
    return errorBody(
      "already_decided",
      `This draft was already ${a.status === "pending" ? "handled" : a.status}.`,
    );
  }
  const result = await conversation(env, a).sendDraft(
    id,
    decision.action === "edit" ? decision.text.trim() : null,
    // The rule the draft answered for: its reply counts as that rule's in the insights.
    a.ruleId,
  );
  if (result.ok) {
    await transitionApproval(env.DB, tenantId, id, "sending", "sent", actor, { unexpiredOnly: false });
    log.info("approval.sent", { tenant_id: tenantId, approval_id: id, edited: decision.action === "edit" });
    await closeApprovalRelay(env, tenantId, id, decision.action === "edit" ? "edited" : "approved", actor);
    return { ok: true, status: "sent" };
  }
  if (result.retryable) {
    // The channel is down for now: the draft waits again, so the person can try once more. Its
    // own code (as for a person's reply), so the dashboard and Discord say "try again" rather
    // than "it cannot be delivered".
    await transitionApproval(env.DB, tenantId, id, "sending", "pending", null, { unexpiredOnly: false });
    return errorBody("send_retryable", "The message could not be sent just now. Try again in a moment.");
  }
  await transitionApproval(env.DB, tenantId, id, "sending", "failed", null, { unexpiredOnly: false });
  await restoreCredit(env.DB, tenantId, a.creditRef);
  await conversation(env, a).dropDraft(id);
  await closeApprovalRelay(env, tenantId, id, "failed", null);
  // The channel's window closed while the draft waited: the approver is told exactly that (the
  // dashboard and Discord word it for the channel), and the credit is back.
  if (result.outsideWindow) return errorBody("outside_window", result.reason);
  return errorBody("send_failed", `The message could not be delivered: ${result.reason}`);
}

/** Cron: drafts that waited past their expiry are dropped and their credit restored. */
export async function expireApprovals(env: PipelineEnv, now = Date.now()): Promise<number> {
  let expired = 0;
  for (const a of await listExpiredApprovals(env.DB, now)) {
    // One failure must not stop the sweep; restoring is idempotent, so a later run finishes it.
    try {
      const t = await transitionApproval(env.DB, a.tenantId, a.id, "pending", "expired", null, {
        unexpiredOnly: false,
        now,
      });
      if (!t.changed) continue;
      await restoreCredit(env.DB, a.tenantId, a.creditRef);
      await conversation(env, a).dropDraft(a.id);
      await closeApprovalRelay(env, a.tenantId, a.id, "expired", null);
      expired += 1;
    } catch (err) {
      log.error("approvals.expire_failed", { approval_id: a.id, ...errorFields(err) });
    }
  }
  if (expired) log.info("approvals.expired", { count: expired });
  return expired;
}

/**
 * How long a decision may hold an approval in `sending`: far longer than one send takes (the
 * provider call has its own timeout), so the sweep never settles one a decision is still sending.
 */
export const SENDING_LEASE_MS = 10 * 60_000;

/**
 * Cron: approvals a decision left in `sending` (it threw after taking the lock, or its worker was
 * cut off) are settled from what the conversation's outbox says, never by sending: sent (or
 * possibly sent) → `sent`, its credit kept; not sent with the draft still held → `pending` again,
 * so a person can decide it (or it expires, giving the credit back); not sent with no draft left
 * → `failed`, credit restored. Each move is conditional on `sending`, and restoring is once per
 * reference, so overlapping runs or a retry change nothing twice.
 */
export async function resolveStuckApprovals(env: PipelineEnv, now = Date.now()): Promise<number> {
  let settled = 0;
  let failures = 0;
  for (const a of await listStuckSendingApprovals(env.DB, now - SENDING_LEASE_MS)) {
    const fields = { tenant_id: a.tenantId, approval_id: a.id };
    try {
      const outcome = await conversation(env, a).draftOutcome(a.id);
      const opts = { unexpiredOnly: false, now };
      if (outcome.delivery === "sent") {
        if (!(await transitionApproval(env.DB, a.tenantId, a.id, "sending", "sent", null, opts)).changed)
          continue;
        // Decided for good: its text leaves the object (a decision that died after sending left
        // it there; held, it would also keep the thread from ever being forgotten).
        await conversation(env, a).dropDraft(a.id);
        await closeApprovalRelay(env, a.tenantId, a.id, "approved", a.decidedBy);
        log.warn("approval.stuck_resolved", { ...fields, outcome: "sent" });
      } else if (outcome.held) {
        if (!(await transitionApproval(env.DB, a.tenantId, a.id, "sending", "pending", null, opts)).changed)
          continue;
        log.warn("approval.stuck_resolved", { ...fields, outcome: "pending" });
      } else {
        if (!(await transitionApproval(env.DB, a.tenantId, a.id, "sending", "failed", null, opts)).changed)
          continue;
        await restoreCredit(env.DB, a.tenantId, a.creditRef);
        await closeApprovalRelay(env, a.tenantId, a.id, "failed", null);
        log.warn("approval.stuck_resolved", { ...fields, outcome: "failed" });
      }
      settled += 1;
    } catch (err) {
      // One approval's failure must not stop the sweep; it stays `sending` for the next run.
      failures += 1;
      log.error("approvals.stuck_resolve_failed", { ...fields, ...errorFields(err) });
    }
  }
  if (failures > 0) throw new Error(`${failures} approvals stuck in sending could not be settled`);
  return settled;
}
