/**
 * The operator's tenant actions: suspend, reactivate, grant credits, set the subdomain quota,
 * rotate the data key, delete. Each change and its one audit row are one D1 batch; the audit row
 * is conditional on the change (`afterChange`), so an action that changes nothing (already
 * suspended, a repeated grant) records nothing.
 */
import {
  type Operator,
  type OperatorDeleteTenant,
  type OperatorGrant,
  type RpcResult,
  type SubdomainQuota,
  type SuspendTenant,
  type TenantRef,
  createLogger,
  errorBody,
} from "@concierge/core";
import {
  auditStatement,
  getOperatorTenant,
  getWrappedTenantKey,
  grantStatements,
  keyRotationAuditStatement,
  markTenantDeletingStatement,
  newTenantDataKey,
  reactivateTenantStatement,
  rotateTenantKeyStatement,
  setEmailSubdomainQuotaStatement,
  suspendTenantStatement,
  tenantDeleteAuditStatement,
} from "@concierge/storage";
import { configCache } from "../config/config-cache.ts";
import type { PipelineEnv } from "../env.ts";
import { forgetTenantKeys } from "../tenants/keys.ts";
import { finishTenantDeletion } from "../tenants/lifecycle.ts";

const log = createLogger("pipeline.operator");

const notFound = () => errorBody("not_found", "No such tenant.");

/**
 * Suspends the tenant: no replies of any kind from the next turn on (each isolate sees it within
 * the config cache's TTL); inbound is still accepted and its metadata logged.
 */
export async function suspendTenant(
  env: PipelineEnv,
  operator: Operator,
  input: SuspendTenant,
): Promise<RpcResult<{ changed: boolean }>> {
  const now = Date.now();
  if (!(await getOperatorTenant(env.DB, input.tenantId))) return notFound();
  const [update] = await env.DB.batch([
    suspendTenantStatement(env.DB, input.tenantId, input.reason, now),
    auditStatement(
      env.DB,
      {
        at: now,
        operatorEmail: operator.email,
        action: "tenant.suspend",
        tenantId: input.tenantId,
        target: null,
        summary: { status: "suspended", reason: input.reason },
      },
      { afterChange: true },
    ),
  ]);
  const changed = (update?.meta.changes ?? 0) > 0;
  // This isolate answers no one from now on; others within the config TTL.
  configCache(env).tenantSettings.delete(input.tenantId);
  log.info("operator.tenant_suspended", { tenant_id: input.tenantId, changed });
  return { ok: true, changed };
}

export async function reactivateTenant(
  env: PipelineEnv,
  operator: Operator,
  input: TenantRef,
): Promise<RpcResult<{ changed: boolean }>> {
  const now = Date.now();
  if (!(await getOperatorTenant(env.DB, input.tenantId))) return notFound();
  const [update] = await env.DB.batch([
    reactivateTenantStatement(env.DB, input.tenantId),
    auditStatement(
      env.DB,
      {
        at: now,
        operatorEmail: operator.email,
        action: "tenant.reactivate",
        tenantId: input.tenantId,
        target: null,
        summary: { status: "active" },
      },
      { afterChange: true },
    ),
  ]);
  const changed = (update?.meta.changes ?? 0) > 0;
  configCache(env).tenantSettings.delete(input.tenantId);
  log.info("operator.tenant_reactivated", { tenant_id: input.tenantId, changed });
  return { ok: true, changed };
}

/**
 * Grants credits, once per `requestId` (ledger reference `grant:<requestId>`): a double submit or
 * a retry applies nothing and writes no second audit row. A grant that expires is spent before
 * credits that never do, and lapses at its expiry.
 */
export async function grantCredits(
  env: PipelineEnv,
  operator: Operator,
  input: OperatorGrant,
): Promise<RpcResult<{ applied: boolean }>> {
  const now = Date.now();
  if (input.expiresAt !== null && input.expiresAt <= now) {
    return errorBody("invalid_expiry", "The expiry must be in the future.");
  }
  if (!(await getOperatorTenant(env.DB, input.tenantId))) return notFound();
  const reference = `grant:${input.requestId}`;
  const [lot, ledger] = grantStatements(env.DB, {
    tenantId: input.tenantId,
    amount: input.credits,
    source: "grant",
    reference,
    expiresAt: input.expiresAt,
    now,
  });
  const results = await env.DB.batch([
    lot,
    ledger,
    auditStatement(
      env.DB,
      {
        at: now,
        operatorEmail: operator.email,
        action: "tenant.grant_credits",
        tenantId: input.tenantId,
        target: reference,
        summary: { credits: input.credits, expiresAt: input.expiresAt, reason: input.reason },
      },
      { afterChange: true },
    ),
  ]);
  const applied = (results[1]?.meta.changes ?? 0) > 0;
  log.info("operator.credits_granted", { tenant_id: input.tenantId, credits: input.credits, applied });
  return { ok: true, applied };
}

export async function setSubdomainQuota(
  env: PipelineEnv,
  operator: Operator,
  input: SubdomainQuota,
): Promise<RpcResult<{ quota: number }>> {
  const now = Date.now();
  const tenant = await getOperatorTenant(env.DB, input.tenantId);
  if (!tenant) return notFound();
  // The quota it has already changes no row and records nothing.
  await env.DB.batch([
    setEmailSubdomainQuotaStatement(env.DB, input.tenantId, input.quota),
    auditStatement(
      env.DB,
      {
        at: now,
        operatorEmail: operator.email,
        action: "tenant.set_quota",
        tenantId: input.tenantId,
        target: null,
        summary: { quota: input.quota, previous: tenant.emailSubdomainQuota },
      },
      { afterChange: true },
    ),
  ]);
  return { ok: true, quota: input.quota };
}

/**
 * Rotates the tenant's data key: new text is sealed with the new version, text sealed before
 * stays readable with the old one until it expires. The audit row reads the version the insert
 * took inside the batch, so two rotations at once each record their own.
 */
export async function rotateTenantKey(
  env: PipelineEnv,
  operator: Operator,
  input: TenantRef,
): Promise<RpcResult<{ version: number }>> {
  const now = Date.now();
  if (!(await getWrappedTenantKey(env.DB, input.tenantId))) return notFound();
  const wrapped = await newTenantDataKey(env.ENCRYPTION_KEY, input.tenantId);
  const [insert] = await env.DB.batch([
    rotateTenantKeyStatement(env.DB, input.tenantId, wrapped, now),
    keyRotationAuditStatement(env.DB, { at: now, operatorEmail: operator.email, tenantId: input.tenantId }),
  ]);
  const version = (insert?.results[0] as { version: number } | undefined)?.version;
  if (version === undefined) return notFound();
  forgetTenantKeys(input.tenantId);
  log.info("tenant.key_rotated", { tenant_id: input.tenantId, version });
  return { ok: true, version };
}

/**
 * Deletes the tenant completely, exactly as its own deletion does, once the operator typed its
 * exact name. The deletion is many steps (conversation objects purged page by page, then one
 * batch of rows), so it cannot be one batch with its audit row. Instead the tenant is first
 * marked as being deleted in one batch with the audit row (written once per tenant, so exactly
 * one however often it is attempted): from then on the tenant answers no one. If a step then
 * fails, the tenant stays marked and the operator deletes it again, which resumes where the last
 * attempt stopped and records nothing more. The audit row names the tenant by id only and
 * outlives every other row of it.
 */
export async function deleteTenant(
  env: PipelineEnv,
  operator: Operator,
  input: OperatorDeleteTenant,
): Promise<RpcResult<{ deleted: { rows: number; conversations: number; complete: boolean } }>> {
  const tenant = await getOperatorTenant(env.DB, input.tenantId);
  if (!tenant) return notFound();
  if (input.confirmName !== tenant.name) {
    return errorBody("confirm_mismatch", "Type the tenant's exact name to delete it.");
  }
  const now = Date.now();
  const [mark] = await env.DB.batch([
    markTenantDeletingStatement(env.DB, input.tenantId, now),
    tenantDeleteAuditStatement(env.DB, { at: now, operatorEmail: operator.email, tenantId: input.tenantId }),
  ]);
  const resumed = (mark?.meta.changes ?? 0) === 0;
  // A step that fails leaves the tenant marked and comes back as `delete_incomplete` (logged by
  // finishTenantDeletion); the operator deletes again to resume.
  const result = await finishTenantDeletion(env, input.tenantId);
  log.info("operator.tenant_delete", { tenant_id: input.tenantId, resumed, ok: result.ok });
  return result;
}
