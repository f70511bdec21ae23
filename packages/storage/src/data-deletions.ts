/**
 * Meta's data deletion callback (`data_deletions`): the confirmation code, the outcome, and the
 * request's targets as internal ids (migrations/0027), nothing that identifies the person. What a
 * request deletes is what belongs to the Facebook user: the Instagram accounts they connected
 * (with their conversations) and their Facebook sign-in. Never the business it belongs to, its
 * other channels or its credits (issue 17 item 6).
 */
import type { SideEffectKind, SideEffectStatus } from "@concierge/core";
import { sideEffectKey } from "./side-effects.ts";

export type DataDeletionStatus = "pending" | "completed" | "nothing_found" | "failed";

/**
 * What one request deletes, by id: each Instagram account the person connected (with the Facebook
 * Page its webhooks come from, which the unsubscribe names) and each Facebook Login user row.
 */
export type DataDeletionTargets = {
  accounts: { tenantId: string; accountId: string; pageId: string }[];
  users: { tenantId: string; userId: string }[];
};

/**
 * What belongs to a Facebook user, by the app-scoped id Meta sends: the accounts they connected
 * (channel_tokens by Facebook user) and their Facebook Login user rows (users by provider and
 * subject). Each side is an index lookup.
 */
export async function facebookUserTargets(
  db: D1Database,
  facebookUserId: string,
): Promise<DataDeletionTargets> {
  const [accounts, users] = await db.batch<Record<string, string>>([
    db
      .prepare(
        `SELECT tenant_id AS tenantId, account_id AS accountId, page_id AS pageId
           FROM channel_tokens WHERE facebook_user_id = ? ORDER BY account_id`,
      )
      .bind(facebookUserId),
    db
      .prepare(
        "SELECT tenant_id AS tenantId, id AS userId FROM users WHERE provider = 'facebook' AND subject = ?",
      )
      .bind(facebookUserId),
  ]);
  return {
    accounts: (accounts?.results ?? []) as DataDeletionTargets["accounts"],
    users: (users?.results ?? []) as DataDeletionTargets["users"],
  };
}

/** Records a request under its confirmation code, with its targets (pending, or nothing_found). */
export async function insertDataDeletion(
  db: D1Database,
  d: {
    code: string;
    status: "pending" | "nothing_found";
    requestedAt: number;
    targets?: DataDeletionTargets;
  },
): Promise<void> {
  await db
    .prepare("INSERT INTO data_deletions (code, status, requested_at, targets) VALUES (?, ?, ?, ?)")
    .bind(d.code, d.status, d.requestedAt, d.targets ? JSON.stringify(d.targets) : null)
    .run();
}

/** A run starts on a pending request: from now on its status reads "in progress". */
export async function markDataDeletionStarted(db: D1Database, code: string, now: number): Promise<void> {
  await db
    .prepare(
      "UPDATE data_deletions SET started_at = COALESCE(started_at, ?) WHERE code = ? AND status = 'pending'",
    )
    .bind(now, code)
    .run();
}

/** The outcome of a pending request, once its deletion has run (a finished one stays as it is). */
export async function finishDataDeletion(
  db: D1Database,
  code: string,
  status: "completed" | "failed",
  completedAt = Date.now(),
): Promise<void> {
  await db
    .prepare("UPDATE data_deletions SET status = ?, completed_at = ? WHERE code = ? AND status = 'pending'")
    .bind(status, completedAt, code)
    .run();
}

export type DataDeletionRow = {
  status: DataDeletionStatus;
  requestedAt: number;
  startedAt: number | null;
  completedAt: number | null;
  targets: DataDeletionTargets | null;
};

type RawDeletion = Omit<DataDeletionRow, "targets"> & { targets: string | null };

/** A request by its confirmation code, targets parsed; null when there is no such code. */
export async function getDataDeletion(db: D1Database, code: string): Promise<DataDeletionRow | null> {
  const r = await db
    .prepare(
      `SELECT status, requested_at AS requestedAt, started_at AS startedAt, completed_at AS completedAt, targets
         FROM data_deletions WHERE code = ?`,
    )
    .bind(code)
    .first<RawDeletion>();
  return r ? { ...r, targets: r.targets ? (JSON.parse(r.targets) as DataDeletionTargets) : null } : null;
}

/**
 * Pending requests made before `before` (a request made moments ago is still running in the
 * callback's waitUntil), oldest first: the cron resumes them.
 */
export async function listPendingDataDeletions(
  db: D1Database,
  before: number,
  limit: number,
): Promise<string[]> {
  const { results } = await db
    .prepare(
      `SELECT code FROM data_deletions WHERE status = 'pending' AND requested_at <= ?
        ORDER BY requested_at LIMIT ?`,
    )
    .bind(before, limit)
    .all<{ code: string }>();
  return results.map((r) => r.code);
}

/**
 * The state of a request's effects at providers (the Instagram unsubscribes of its pages), for
 * its status page: one lookup by the effects' unique keys.
 */
export async function dataDeletionEffects(
  db: D1Database,
  effects: { kind: SideEffectKind; target: Record<string, string> }[],
): Promise<{ kind: SideEffectKind; status: SideEffectStatus }[]> {
  if (effects.length === 0) return [];
  const keys = effects.map((e) => sideEffectKey(e.kind, e.target));
  const { results } = await db
    .prepare(`SELECT kind, status FROM side_effects WHERE dedupe_key IN (${keys.map(() => "?").join(", ")})`)
    .bind(...keys)
    .all<{ kind: SideEffectKind; status: SideEffectStatus }>();
  return results;
}

/**
 * Which of these effects were recorded (or recorded again) at or after `since`: a deletion that
 * resumes records only the others, so an effect its first run already did is not done twice.
 * Returns their keys (sideEffectKey).
 */
export async function sideEffectsRecordedSince(
  db: D1Database,
  effects: { kind: SideEffectKind; target: Record<string, string> }[],
  since: number,
): Promise<Set<string>> {
  if (effects.length === 0) return new Set();
  const keys = effects.map((e) => sideEffectKey(e.kind, e.target));
  const { results } = await db
    .prepare(
      `SELECT dedupe_key AS key FROM side_effects
        WHERE dedupe_key IN (${keys.map(() => "?").join(", ")}) AND created_at >= ?`,
    )
    .bind(...keys, since)
    .all<{ key: string }>();
  return new Set(results.map((r) => r.key));
}
