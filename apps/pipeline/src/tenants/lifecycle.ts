import {
  conversationKey,
  createLogger,
  errorBody,
  errorFields,
  instagramUnsubscribeEffect,
  type NewTenant,
  NewTenantSchema,
  type RpcResult,
  type SideEffectKind,
} from "@concierge/core";
import {
  createTenant as createTenantRows,
  type DataDeletionStatus,
  type DataDeletionTargets,
  deleteAccountRows,
  deleteTenantRows,
  deleteTenantRowsChunk,
  deleteThreadRows,
  destroyTenantKeys,
  deleteUserWithSessions,
  disableAccountStatement,
  disableTenantAccounts,
  finishDataDeletion,
  getChannelAccount,
  getDataDeletion,
  getPendingSideEffect,
  getTenant,
  grantTrialCredits,
  listDeletingTenants,
  listWhatsAppReleaseTargets,
  listPendingDataDeletions,
  markDataDeletionStarted,
  markTenantDeletingStatement,
  recordSideEffectStatement,
  sideEffectKey,
  sideEffectsRecordedSince,
  tenantProviderIds,
  tenantThreadRows,
  whatsappReleaseTarget,
} from "@concierge/storage";
import * as v from "valibot";
import { forgetEmailRoute } from "../channels/email/ingest.ts";
import { whatsappReleaseStatements } from "../channels/whatsapp/release.ts";
import { configCache } from "../config/config-cache.ts";
import type { PipelineEnv } from "../env.ts";
import { forgetTenantKeys } from "./keys.ts";
import { conversationStub } from "./ownership.ts";
import { trySideEffectNow } from "./side-effects.ts";

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
/** Conversations a chunk purges at most; rows of the others wait for the next chunk. */
const THREADS_PER_CHUNK = 200;
/** Rows per chunk (per table) unless DELETION_CHUNK_ROWS says otherwise (tests make it small). */
const CHUNK_ROWS = 1000;
/** Chunks a deletion runs in the request that starts it; the cron finishes a larger one. */
const FIRST_PASS_CHUNKS = 30;

function purgesPerRun(env: PipelineEnv): number {
  const n = Number(env.DELETION_PURGES_PER_RUN);
  return Number.isInteger(n) && n > 0 ? n : PURGES_PER_RUN;
}

function chunkRows(env: PipelineEnv): number {
  const n = Number(env.DELETION_CHUNK_ROWS);
  return Number.isInteger(n) && n > 0 ? n : CHUNK_ROWS;
}

/**
 * Conversation objects one run may purge: each is a call out of the invocation, and an invocation
 * may make at most 10,000 (Workers Paid; developers.cloudflare.com/workers/platform/limits/), D1
 * statements included. A tenant whose customers each wrote once names a new object per message,
 * so without this a run of 60 chunks could make 12,000.
 */
const PURGES_PER_RUN = 3000;

/** How much one run may still do: chunks of rows (each bounded by chunkRows), object purges. */
type Budget = { chunks: number; purges: number };

/**
 * Removes everything of a tenant (ARCHITECTURE.md §5), the tenant's own deletion: the tenant is
 * marked as being deleted (tenants.deleting_at; from then on it answers no one), then
 * finishTenantDeletion runs. The operator's deletion marks it in the batch with its audit row and
 * runs the same steps; either resumes what the other left unfinished.
 */
export async function deleteTenant(
  env: PipelineEnv,
  tenantId: string,
): Promise<RpcResult<{ deleted: DeletionOutcome }>> {
  if (typeof tenantId !== "string" || !tenantId || !(await getTenant(env.DB, tenantId))) {
    return errorBody("not_found", "No such tenant.");
  }
  await markTenantDeletingStatement(env.DB, tenantId, Date.now()).run();
  return finishTenantDeletion(env, tenantId);
}

/** An effect at a provider that a deletion records before its rows go (migrations/0023). */
type Effect = { kind: SideEffectKind; target: Record<string, string> };

/**
 * The deletion's effects at providers, recorded in one batch BEFORE any row or the data key goes,
 * with the ids each needs (so the cron can retry them after the rows are gone), then tried at once
 * while the tenant's page tokens can still be read. A resumed deletion records only the effects its
 * earlier runs did not (recorded since the mark), so none is done twice.
 */
async function recordTenantEffects(env: PipelineEnv, tenantId: string): Promise<void> {
  const [ids, numbers] = await Promise.all([
    tenantProviderIds(env.DB, tenantId),
    listWhatsAppReleaseTargets(env.DB, tenantId),
  ]);
  const effects: Effect[] = [
    ...ids.guildIds.map((guildId) => ({ kind: "discord_leave" as const, target: { guild_id: guildId } })),
    ...ids.emailRules.map((r) => ({ kind: "email_routes_remove" as const, target: { rule_id: r.ruleId } })),
    ...ids.pages.map((p) => instagramUnsubscribeEffect(p.pageId, p.accountId)),
  ];
  const releases = numbers.map((n) => ({
    number: n,
    effect: { kind: "whatsapp_release" as const, target: whatsappReleaseTarget(n.phoneNumberId, n.wabaId) },
  }));
  for (const r of ids.emailRules) forgetEmailRoute(r.domain);
  // A resumed deletion records only what its earlier runs did not (recorded since the mark):
  // one they recorded is pending for the cron or done, and is never done twice.
  const all = [...effects, ...releases.map((r) => r.effect)];
  const already =
    ids.deletingAt === null ? new Set<string>() : await sideEffectsRecordedSince(env.DB, all, ids.deletingAt);
  const isNew = (e: Effect) => !already.has(sideEffectKey(e.kind, e.target));
  const fresh = effects.filter(isNew);
  const freshReleases = releases.filter((r) => isNew(r.effect));
  if (fresh.length + freshReleases.length === 0) return;
  const now = Date.now();
  // The accounts were disabled just before (step 1), so the numbers count as released by us.
  await env.DB.batch([
    ...fresh.map((e) => recordSideEffectStatement(env.DB, { tenantId, ...e, now })),
    ...whatsappReleaseStatements(
      env.DB,
      freshReleases.map((r) => r.number),
      tenantId,
      now,
    ),
  ]);
  for (const e of [...fresh, ...freshReleases.map((r) => r.effect)])
    await trySideEffectNow(env, e.kind, e.target);
}

/** What a deletion run did; `complete` false: rows remain and the cron goes on (resumeDeletions). */
type DeletionOutcome = { rows: number; conversations: number; complete: boolean };

/**
 * The steps of a deletion of a tenant already marked as being deleted, in an order that is safe
 * to run again if it stops midway:
 * 0. this isolate forgets the tenant's cached settings, so its turns see the mark at once;
 * 1. its accounts are disabled, so ingest accepts nothing new while the deletion runs;
 * 2. its effects at providers (its WhatsApp numbers released at Meta, the bot leaving its Discord
 *    server, its Cloudflare email rules, its Instagram pages' webhooks) are recorded and tried (recordTenantEffects); one that fails
 *    stays pending for the cron (runDueSideEffects) and never holds up the deletion;
 * 3. its data keys are destroyed (crypto-shredding): everything sealed for it, the conversation
 *    text in its Durable Objects included, is unreadable from here on, however long the rest takes;
 * 4. the rows naming its conversations (messages, approvals) go in bounded chunks: each chunk's
 *    conversations are purged, then exactly that chunk's rows are deleted, so a rerun resumes from
 *    the rows that remain;
 * 5. its other growing tables go in bounded chunks (deleteTenantRowsChunk);
 * 6. every remaining row goes in one D1 batch; the in-memory key and config caches are dropped.
 * A run does at most a budget of chunks (FIRST_PASS_CHUNKS in the request that starts it); the
 * 15-minute cron goes on with the rest (resumeDeletions), and the operator's tenant page and
 * health page show what remains. A conversation with no metadata yet (a message accepted moments
 * before, its turn not run) purges itself when its alarm finds the tenant gone.
 */
export async function finishTenantDeletion(
  env: PipelineEnv,
  tenantId: string,
): Promise<RpcResult<{ deleted: DeletionOutcome }>> {
  try {
    return {
      ok: true,
      deleted: await runTenantDeletion(env, tenantId, {
        chunks: FIRST_PASS_CHUNKS,
        purges: purgesPerRun(env),
      }),
    };
  } catch (err) {
    // The tenant stays marked (it answers no one) with whatever is left of it; both callers show
    // the refusal, and deleting again (or the cron) resumes here.
    log.error("tenant.delete_incomplete", { ...errorFields(err), tenant_id: tenantId });
    return errorBody(
      "delete_incomplete",
      "The deletion stopped before it finished. Nothing is sent to customers meanwhile; delete again to finish it.",
    );
  }
}

/**
 * Purges the tenant's (or one account's) conversations chunk by chunk and deletes the rows that
 * named them (tenantThreadRows, deleteThreadRows), within the budget; true when none is left.
 * `purged` holds the conversations this run purged already (a customer's rows span chunks): the
 * accounts are off, so nothing new reaches a purged conversation meanwhile.
 */
async function purgeThreads(
  env: PipelineEnv,
  tenantId: string,
  accountId: string | undefined,
  budget: Budget,
  counts: { rows: number; conversations: number },
  purged = new Set<string>(),
): Promise<boolean> {
  for (;;) {
    if (budget.chunks <= 0 || budget.purges <= 0) return false;
    const chunk = await tenantThreadRows(env.DB, tenantId, chunkRows(env), accountId);
    if (chunk.messages.length + chunk.approvals.length === 0) return true;
    budget.chunks -= 1;
    // The conversations this chunk names, at most THREADS_PER_CHUNK; rows of others stay for the
    // next chunk (bounded work per chunk however many customers one chunk spans).
    const taken = new Set<string>();
    const take = (key: string) => {
      if (taken.has(key)) return true;
      if (taken.size >= Math.min(THREADS_PER_CHUNK, budget.purges)) return false;
      taken.add(key);
      return true;
    };
    const messages = chunk.messages.filter((m) => take(conversationKey(tenantId, m.accountId, m.customerId)));
    const approvalIds = chunk.approvals.filter((a) => take(a.key)).map((a) => a.id);
    const fresh = [...taken].filter((k) => !purged.has(k));
    for (let i = 0; i < fresh.length; i += PURGE_PAGE) {
      await Promise.all(fresh.slice(i, i + PURGE_PAGE).map((key) => conversationStub(env, key).purge()));
    }
    for (const k of fresh) purged.add(k);
    budget.purges -= fresh.length;
    counts.conversations += fresh.length;
    counts.rows += await deleteThreadRows(env.DB, tenantId, messages, approvalIds);
  }
}

/** The tenant's other growing tables, chunk by chunk within the budget; true when none is left. */
async function deleteGrowingRows(
  env: PipelineEnv,
  tenantId: string,
  budget: Budget,
  counts: { rows: number },
): Promise<boolean> {
  for (;;) {
    if (budget.chunks <= 0) return false;
    budget.chunks -= 1;
    const n = await deleteTenantRowsChunk(env.DB, tenantId, chunkRows(env));
    counts.rows += n;
    if (n === 0) return true;
  }
}

async function runTenantDeletion(
  env: PipelineEnv,
  tenantId: string,
  budget: Budget,
): Promise<DeletionOutcome> {
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
  // Tried while the page tokens can still be opened: the key goes next.
  await recordTenantEffects(env, tenantId);
  // Its dashboard sessions go with the keys: nobody browses a tenant that can no longer be read.
  const shredded = await destroyTenantKeys(env.DB, tenantId);
  forgetTenantKeys(tenantId);
  if (shredded.keys > 0) log.info("tenant.keys_destroyed", { tenant_id: tenantId, ...shredded });
  const counts = { rows: shredded.keys + shredded.sessions, conversations: 0 };
  if (
    !(await purgeThreads(env, tenantId, undefined, budget, counts)) ||
    !(await deleteGrowingRows(env, tenantId, budget, counts))
  ) {
    log.info("tenant.delete_paused", { tenant_id: tenantId, ...counts });
    return { complete: false, ...counts };
  }
  const removed = await deleteTenantRows(env.DB, tenantId);
  counts.rows += removed.rows;
  forgetTenantKeys(tenantId);
  forgetAccounts();
  caches.tenantSettings.delete(tenantId);
  log.info("tenant.deleted", { tenant_id: tenantId, ...counts });
  return { complete: true, ...counts };
}

// ---- Meta's data deletion request (issue 17 items 6 and 13) ----

/**
 * Step 1 for one Instagram account a Facebook user connected: turned off, with its page's
 * unsubscribe recorded in one batch, and the unsubscribe tried while the page token can still be
 * read. A resumed run finds the effect recorded (since the request) and leaves it to the cron's
 * back-off, so it is never done twice. Null when the account is gone already.
 */
async function turnOffInstagramAccount(
  env: PipelineEnv,
  requestedAt: number,
  a: DataDeletionTargets["accounts"][number],
): Promise<{ effect: InstagramUnsubscribe; forget: () => void } | null> {
  const account = await getChannelAccount(env.DB, a.accountId);
  if (account?.tenantId !== a.tenantId) return null; // deleted by an earlier run (or disconnected meanwhile)
  const effect: InstagramUnsubscribe = instagramUnsubscribeEffect(a.pageId, a.accountId);
  const caches = configCache(env);
  const forget = () => {
    caches.ingestTargets.delete(`instagram:${account.externalId}`);
    caches.replyConfigs.delete(a.accountId);
  };
  const recorded = await sideEffectsRecordedSince(env.DB, [effect], requestedAt);
  if (recorded.size === 0) {
    await env.DB.batch([
      disableAccountStatement(env.DB, a.tenantId, a.accountId),
      recordSideEffectStatement(env.DB, { tenantId: a.tenantId, ...effect, now: Date.now() }),
    ]);
    forget();
    await trySideEffectNow(env, effect.kind, effect.target);
  } else {
    forget();
  }
  return { effect, forget };
}

type InstagramUnsubscribe = { kind: "instagram_unsubscribe"; target: Record<string, string> };

/**
 * Step 2 for one turned-off account: its conversations purged page by page, then its rows
 * (metadata, approvals, relays, reply config, sealed tokens, the account). Graph's unsubscribe
 * needs the page token, so the last rows (the sealed token with them) stay, turned off and with
 * no conversation left, until Meta confirmed or the effect gave up. False when the page budget ran
 * out or Meta has not confirmed yet; each step is safe to run again.
 */
async function finishInstagramAccount(
  env: PipelineEnv,
  a: DataDeletionTargets["accounts"][number],
  off: { effect: InstagramUnsubscribe; forget: () => void },
  budget: Budget,
  counts: { rows: number; conversations: number },
): Promise<boolean> {
  if (!(await purgeThreads(env, a.tenantId, a.accountId, budget, counts))) return false;
  if (await getPendingSideEffect(env.DB, off.effect.kind, off.effect.target)) return false;
  counts.rows += await deleteAccountRows(env.DB, a.tenantId, a.accountId);
  off.forget();
  return true;
}

/**
 * Runs (or resumes) a data deletion request by its confirmation code: what it deletes is named
 * by id in the request row, recorded when Meta called. At most FIRST_PASS_CHUNKS chunks of rows
 * go per call; the 15-minute cron resumes what is left. Never throws: a failure leaves
 * the request pending (its status page says in progress) for the cron.
 */
export function runDataDeletion(
  env: PipelineEnv,
  code: string,
): Promise<RpcResult<{ status: DataDeletionStatus }>> {
  return continueDataDeletion(env, code, { chunks: FIRST_PASS_CHUNKS, purges: purgesPerRun(env) });
}

async function continueDataDeletion(
  env: PipelineEnv,
  code: string,
  budget: Budget,
): Promise<RpcResult<{ status: DataDeletionStatus }>> {
  if (typeof code !== "string" || !/^[A-Za-z0-9_-]{8,40}$/.test(code)) {
    return errorBody("invalid_code", "A confirmation code is required.");
  }
  try {
    const row = await getDataDeletion(env.DB, code);
    if (!row) return errorBody("not_found", "No such deletion request.");
    if (row.status !== "pending") return { ok: true, status: row.status };
    await markDataDeletionStarted(env.DB, code, Date.now());
    if (!row.targets) {
      // A request recorded before its targets were (migrations/0027): nothing says what it is.
      await finishDataDeletion(env.DB, code, "failed");
      log.error("data_deletion.no_targets", { code });
      return { ok: true, status: "failed" };
    }
    const counts = { rows: 0, conversations: 0 };
    // Every account stops answering and its unsubscribe starts, and the person's sign-in and
    // sessions go, before anything waits: one slow page at Meta holds up none of the rest.
    const off = [];
    for (const a of row.targets.accounts)
      off.push({ a, off: await turnOffInstagramAccount(env, row.requestedAt, a) });
    for (const u of row.targets.users)
      counts.rows += await deleteUserWithSessions(env.DB, u.tenantId, u.userId);
    let waiting = false;
    for (const { a, off: o } of off) {
      if (o && !(await finishInstagramAccount(env, a, o, budget, counts))) waiting = true;
    }
    if (waiting) {
      log.info("data_deletion.paused", { code, ...counts });
      return { ok: true, status: "pending" };
    }
    await finishDataDeletion(env.DB, code, "completed");
    log.info("data_deletion.completed", {
      code,
      accounts: row.targets.accounts.length,
      users: row.targets.users.length,
      ...counts,
    });
    return { ok: true, status: "completed" };
  } catch (err) {
    log.error("data_deletion.interrupted", { ...errorFields(err), code });
    return errorBody("delete_incomplete", "The deletion stopped before it finished; it resumes shortly.");
  }
}

/** A deletion younger than this may still be running in the request that started it. */
const RESUME_AFTER_MS = 5 * 60_000;
/** Chunks of rows the cron deletes per run, over every deletion it resumes (each chunk bounded). */
const RESUME_CHUNKS = 60;
/** Deletions of each kind the cron looks at per run. */
const RESUME_BATCH = 10;

/**
 * The cron's job: resumes tenant deletions that stopped midway (tenants.deleting_at set, rows
 * left) and data deletion requests still pending, in bounded steps (RESUME_CHUNKS chunks of rows
 * per run, shared). Each is on its own: one that fails is logged and the next runs;
 * afterwards one error names how many failed, so the run is recorded as failed.
 */
export async function resumeDeletions(
  env: PipelineEnv,
  now: number,
): Promise<{ tenants: number; requests: number; failed: number }> {
  const before = now - RESUME_AFTER_MS;
  const out = { tenants: 0, requests: 0, failed: 0 };
  const budget: Budget = { chunks: RESUME_CHUNKS, purges: purgesPerRun(env) };
  for (const tenantId of await listDeletingTenants(env.DB, before, RESUME_BATCH)) {
    if (budget.chunks <= 0 || budget.purges <= 0) break;
    try {
      if ((await runTenantDeletion(env, tenantId, budget)).complete) out.tenants += 1;
    } catch (err) {
      out.failed += 1;
      log.error("tenant.resume_failed", { ...errorFields(err), tenant_id: tenantId });
    }
  }
  for (const code of await listPendingDataDeletions(env.DB, before, RESUME_BATCH)) {
    if (budget.chunks <= 0 || budget.purges <= 0) break;
    const r = await continueDataDeletion(env, code, budget);
    if (!r.ok) out.failed += 1;
    else if (r.status !== "pending") out.requests += 1;
  }
  if (out.tenants || out.requests || out.failed) log.info("deletions.resumed", out);
  if (out.failed) throw new Error(`${out.failed} deletions could not be resumed`);
  return out;
}
