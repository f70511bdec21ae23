import {
  createLogger,
  errorBody,
  errorFields,
  type NewTenant,
  NewTenantSchema,
  type RpcResult,
} from "@concierge/core";
import {
  createTenant as createTenantRows,
  deleteTenantRows,
  disableTenantAccounts,
  forgetTenantThreads,
  getTenant,
  grantTrialCredits,
  listTenantThreads,
  markTenantDeletingStatement,
} from "@concierge/storage";
import * as v from "valibot";
import { configCache } from "../config/config-cache.ts";
import type { PipelineEnv } from "../env.ts";
import { forgetTenantKeys } from "./keys.ts";
import { leaveTenantGuild } from "../channels/discord/install.ts";
import { removeTenantEmailRoutes } from "../channels/email/subdomains.ts";
import { conversationStub } from "./ownership.ts";

const log = createLogger("pipeline.tenants");

export async function createTenant(
  env: PipelineEnv,
  input: NewTenant,
): Promise<RpcResult<{ tenantId: string }>> {
  const parsed = v.safeParse(NewTenantSchema, input);
  if (!parsed.success) {
    const first = parsed.issues[0]!;
    const path = v.getDotPath(first);
    return errorBody("invalid_tenant", path ? `${path}: ${first.message}` : first.message);
  }
  const tenant = await createTenantRows(env.DB, env.ENCRYPTION_KEY, parsed.output);
  // PRODUCT.md §7: every new tenant can try the AI at once. Once per tenant (ledger reference
  // `trial`), so a retry of this call grants nothing more.
  const trial = await grantTrialCredits(env.DB, tenant.id, Date.now());
  log.info("tenant.created", {
    tenant_id: tenant.id,
    locale: tenant.locale,
    currency: tenant.currency,
    trial_credits: trial.applied ? trial.credits : 0,
  });
  return { ok: true, tenantId: tenant.id };
}

/** Conversations purged at once: bounded, so a large tenant does not open thousands of calls together. */
const PURGE_PAGE = 50;

/**
 * Removes everything of a tenant (ARCHITECTURE.md §5), the tenant's own deletion: the tenant is
 * marked as being deleted (tenants.deleting_at; from then on it answers no one), then
 * finishTenantDeletion runs. The operator's deletion marks it in the batch with its audit row and
 * runs the same steps; either resumes what the other left unfinished.
 */
export async function deleteTenant(
  env: PipelineEnv,
  tenantId: string,
): Promise<RpcResult<{ deleted: { rows: number; conversations: number } }>> {
  if (typeof tenantId !== "string" || !tenantId || !(await getTenant(env.DB, tenantId))) {
    return errorBody("not_found", "No such tenant.");
  }
  await markTenantDeletingStatement(env.DB, tenantId, Date.now()).run();
  return finishTenantDeletion(env, tenantId);
}

/**
 * The steps of a deletion of a tenant already marked as being deleted, in an order that is safe
 * to run again if it stops midway:
 * 0. this isolate forgets the tenant's cached settings, so its turns see the mark at once;
 * 1. its accounts are disabled, so ingest accepts nothing new while the deletion runs;
 * 2. every conversation named by the metadata (messages, approvals) is purged, page by page, and
 *    the metadata of a purged page is deleted with it, so a rerun resumes where this one stopped;
 * 3. every remaining row and the data key go in one D1 batch (crypto-shredding: anything sealed
 *    that is still somewhere can no longer be read); the in-memory key and config caches are
 *    dropped.
 * A conversation with no metadata yet (a message accepted moments before, its turn not run)
 * purges itself when its alarm finds the tenant gone.
 */
export async function finishTenantDeletion(
  env: PipelineEnv,
  tenantId: string,
): Promise<RpcResult<{ deleted: { rows: number; conversations: number } }>> {
  try {
    return await runTenantDeletion(env, tenantId);
  } catch (err) {
    // The tenant stays marked (it answers no one) with whatever is left of it; both callers show
    // the refusal, and deleting again resumes here.
    log.error("tenant.delete_incomplete", { ...errorFields(err), tenant_id: tenantId });
    return errorBody(
      "delete_incomplete",
      "The deletion stopped before it finished. Nothing is sent to customers meanwhile; delete again to finish it.",
    );
  }
}

async function runTenantDeletion(
  env: PipelineEnv,
  tenantId: string,
): Promise<{ ok: true; deleted: { rows: number; conversations: number } }> {
  const caches = configCache(env);
  caches.tenantSettings.delete(tenantId);
  const accounts = await disableTenantAccounts(env.DB, tenantId);
  const forgetAccounts = () => {
    for (const a of accounts) {
      caches.ingestTargets.delete(`${a.channel}:${a.externalId}`);
      caches.replyConfigs.delete(a.id);
    }
  };
  forgetAccounts();
  let rows = 0;
  let conversations = 0;
  for (;;) {
    const page = await listTenantThreads(env.DB, tenantId, PURGE_PAGE);
    if (page.length === 0) break;
    await Promise.all(page.map((t) => conversationStub(env, t.key).purge()));
    rows += await forgetTenantThreads(env.DB, tenantId, page);
    conversations += page.length;
  }
  // The bot leaves the tenant's Discord server before its install row goes (best effort).
  await leaveTenantGuild(env, tenantId);
  await removeTenantEmailRoutes(env, tenantId);
  const removed = await deleteTenantRows(env.DB, tenantId);
  rows += removed.rows;
  forgetTenantKeys(tenantId);
  forgetAccounts();
  caches.tenantSettings.delete(tenantId);
  log.info("tenant.deleted", { tenant_id: tenantId, rows, conversations });
  return { ok: true, deleted: { rows, conversations } };
}
