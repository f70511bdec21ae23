import type { Channel } from "@concierge/core";

/** Why the last self-test did not complete; shown to the tenant as a translated reason. */
export type SelfTestError =
  | "signature_refused"
  | "not_received"
  | "webhook_error"
  | "timeout"
  | "unreachable";

export type ConnectedAccount = {
  id: string;
  channel: Channel;
  externalId: string;
  displayName: string | null;
  status: "active" | "disabled";
  createdAt: number;
  selfTestAt: number | null;
  selfTestOkAt: number | null;
  selfTestError: SelfTestError | null;
};

const COLUMNS = `id, channel, external_id AS externalId, display_name AS displayName, status,
  created_at AS createdAt, self_test_at AS selfTestAt, self_test_ok_at AS selfTestOkAt,
  self_test_error AS selfTestError`;

/** The tenant's connected accounts with their self-test state, oldest first. */
export async function listConnectedAccounts(db: D1Database, tenantId: string): Promise<ConnectedAccount[]> {
  const { results } = await db
    .prepare(`SELECT ${COLUMNS} FROM channel_accounts WHERE tenant_id = ? ORDER BY created_at, id`)
    .bind(tenantId)
    .all<ConnectedAccount>();
  return results;
}

export async function getConnectedAccount(
  db: D1Database,
  tenantId: string,
  accountId: string,
): Promise<ConnectedAccount | null> {
  return db
    .prepare(`SELECT ${COLUMNS} FROM channel_accounts WHERE id = ? AND tenant_id = ?`)
    .bind(accountId, tenantId)
    .first<ConnectedAccount>();
}

/** Deletes one of the tenant's accounts (its reply config goes with it); null when not theirs. */
export async function deleteChannelAccount(
  db: D1Database,
  tenantId: string,
  accountId: string,
): Promise<{ channel: Channel; externalId: string } | null> {
  return db
    .prepare(
      "DELETE FROM channel_accounts WHERE id = ? AND tenant_id = ? RETURNING channel, external_id AS externalId",
    )
    .bind(accountId, tenantId)
    .first<{ channel: Channel; externalId: string }>();
}

/** Starts a self-test attempt: earlier results are cleared, only `token` can complete it. */
export async function startSelfTest(
  db: D1Database,
  tenantId: string,
  accountId: string,
  token: string,
  at: number,
): Promise<boolean> {
  const res = await db
    .prepare(
      `UPDATE channel_accounts SET self_test_token = ?, self_test_at = ?, self_test_ok_at = NULL,
         self_test_error = NULL WHERE id = ? AND tenant_id = ?`,
    )
    .bind(token, at, accountId, tenantId)
    .run();
  return res.meta.changes > 0;
}

/** The test webhook arrived at the pipeline: the attempt with this token is green. */
export async function recordSelfTestArrival(
  db: D1Database,
  accountId: string,
  token: string,
  at: number,
): Promise<boolean> {
  const res = await db
    .prepare(
      "UPDATE channel_accounts SET self_test_ok_at = ?, self_test_error = NULL WHERE id = ? AND self_test_token = ?",
    )
    .bind(at, accountId, token)
    .run();
  return res.meta.changes > 0;
}

/** The attempt failed; kept only if it is still the current attempt and did not arrive. */
export async function recordSelfTestFailure(
  db: D1Database,
  accountId: string,
  token: string,
  error: SelfTestError,
): Promise<void> {
  await db
    .prepare(
      `UPDATE channel_accounts SET self_test_error = ?
        WHERE id = ? AND self_test_token = ? AND self_test_ok_at IS NULL`,
    )
    .bind(error, accountId, token)
    .run();
}

/** Records the WhatsApp Business Account a number was onboarded from (Embedded Signup). */
export async function setWhatsAppBusinessAccount(
  db: D1Database,
  accountId: string,
  wabaId: string,
): Promise<void> {
  await db.prepare("UPDATE channel_accounts SET waba_id = ? WHERE id = ?").bind(wabaId, accountId).run();
}

/** Renames one of the tenant's accounts (e.g. a reconnected Instagram account's @username). */
export async function setChannelAccountDisplayName(
  db: D1Database,
  tenantId: string,
  accountId: string,
  displayName: string,
): Promise<boolean> {
  const res = await db
    .prepare("UPDATE channel_accounts SET display_name = ? WHERE id = ? AND tenant_id = ?")
    .bind(displayName, accountId, tenantId)
    .run();
  return res.meta.changes > 0;
}
