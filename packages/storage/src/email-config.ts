/**
 * The tenant's side of email: subdomains (each also a channel account), their routing rules as
 * validated JSON with a version, and forward addresses with their verification tokens (hashes
 * only). Configuration only: nothing here comes from a message.
 */
import type { EmailSubdomain, EmailSubdomainStatus, ForwardAddress } from "@concierge/core";

export type { EmailSubdomain, EmailSubdomainStatus, ForwardAddress };

const SUBDOMAIN_COLUMNS = `account_id AS accountId, tenant_id AS tenantId, name, domain, status,
  cf_rule_id AS cfRuleId, status_error AS statusError, routing_json AS routingJson,
  routing_version AS routingVersion, created_at AS createdAt, updated_at AS updatedAt`;

export async function listEmailSubdomains(db: D1Database, tenantId: string): Promise<EmailSubdomain[]> {
  const { results } = await db
    .prepare(
      `SELECT ${SUBDOMAIN_COLUMNS} FROM email_subdomains WHERE tenant_id = ? ORDER BY created_at, name`,
    )
    .bind(tenantId)
    .all<EmailSubdomain>();
  return results;
}

/** One of the tenant's subdomains by its account id; another tenant's is null, as a missing one. */
export async function getEmailSubdomain(
  db: D1Database,
  tenantId: string,
  accountId: string,
): Promise<EmailSubdomain | null> {
  return db
    .prepare(`SELECT ${SUBDOMAIN_COLUMNS} FROM email_subdomains WHERE account_id = ? AND tenant_id = ?`)
    .bind(accountId, tenantId)
    .first<EmailSubdomain>();
}

export type InsertSubdomainResult =
  | { ok: true; subdomain: EmailSubdomain }
  | { ok: false; code: "name_taken" | "quota_reached" | "no_tenant" };

/**
 * Creates the channel account and the subdomain row in one transaction. The quota is checked
 * inside the INSERT itself, so two tabs creating at once cannot both slip under it; the UNIQUE
 * name/domain/external id make "taken" true under races too.
 */
export async function insertEmailSubdomain(
  db: D1Database,
  input: { accountId: string; tenantId: string; name: string; domain: string },
  now = Date.now(),
): Promise<InsertSubdomainResult> {
  const { accountId, tenantId, name, domain } = input;
  let results: D1Result[];
  try {
    results = await db.batch([
      db
        .prepare(
          `INSERT INTO channel_accounts (id, tenant_id, channel, external_id, display_name, created_at)
           SELECT ?1, ?2, 'email', ?3, ?3, ?4
            WHERE (SELECT COUNT(*) FROM email_subdomains WHERE tenant_id = ?2)
                < (SELECT email_subdomain_quota FROM tenants WHERE id = ?2)`,
        )
        .bind(accountId, tenantId, domain, now),
      db
        .prepare(
          `INSERT INTO email_subdomains (account_id, tenant_id, name, domain, status, created_at, updated_at)
           SELECT ?1, ?2, ?3, ?4, 'provisioning', ?5, ?5
            WHERE EXISTS (SELECT 1 FROM channel_accounts WHERE id = ?1)`,
        )
        .bind(accountId, tenantId, name, domain, now),
    ]);
  } catch (err) {
    if (String(err).includes("UNIQUE constraint failed")) return { ok: false, code: "name_taken" };
    throw err;
  }
  if ((results[1]?.meta.changes ?? 0) === 0) {
    const tenant = await db.prepare("SELECT 1 AS one FROM tenants WHERE id = ?").bind(tenantId).first();
    return { ok: false, code: tenant ? "quota_reached" : "no_tenant" };
  }
  const subdomain = await getEmailSubdomain(db, tenantId, accountId);
  return { ok: true, subdomain: subdomain! };
}

/** Whether a subdomain name is in use by anyone (names are global). */
export async function emailSubdomainNameTaken(db: D1Database, name: string): Promise<boolean> {
  const row = await db.prepare("SELECT 1 AS one FROM email_subdomains WHERE name = ?").bind(name).first();
  return row !== null;
}

export async function setEmailSubdomainState(
  db: D1Database,
  accountId: string,
  state: { status: EmailSubdomainStatus; cfRuleId?: string | null; statusError: string | null },
  now = Date.now(),
): Promise<void> {
  await db
    .prepare(
      `UPDATE email_subdomains SET status = ?, cf_rule_id = COALESCE(?, cf_rule_id), status_error = ?,
         updated_at = ? WHERE account_id = ?`,
    )
    .bind(state.status, state.cfRuleId ?? null, state.statusError, now, accountId)
    .run();
}

/**
 * Writes validated routing JSON only if nobody saved since `expectedVersion` was read; false means
 * the edit is stale (or the subdomain is not the tenant's).
 */
export async function saveEmailRoutingJson(
  db: D1Database,
  tenantId: string,
  accountId: string,
  json: string,
  expectedVersion: number,
  now = Date.now(),
): Promise<number | null> {
  const row = await db
    .prepare(
      `UPDATE email_subdomains SET routing_json = ?, routing_version = routing_version + 1, updated_at = ?
        WHERE account_id = ? AND tenant_id = ? AND routing_version = ?
        RETURNING routing_version AS version`,
    )
    .bind(json, now, accountId, tenantId, expectedVersion)
    .first<{ version: number }>();
  return row?.version ?? null;
}

const ADDRESS_COLUMNS = `id, tenant_id AS tenantId, address, verified_at AS verifiedAt,
  token_expires_at AS tokenExpiresAt, created_at AS createdAt`;

export async function listForwardAddresses(db: D1Database, tenantId: string): Promise<ForwardAddress[]> {
  const { results } = await db
    .prepare(
      `SELECT ${ADDRESS_COLUMNS} FROM email_forward_addresses WHERE tenant_id = ? ORDER BY created_at, address`,
    )
    .bind(tenantId)
    .all<ForwardAddress>();
  return results;
}

export async function getForwardAddress(
  db: D1Database,
  tenantId: string,
  id: string,
): Promise<ForwardAddress | null> {
  return db
    .prepare(`SELECT ${ADDRESS_COLUMNS} FROM email_forward_addresses WHERE id = ? AND tenant_id = ?`)
    .bind(id, tenantId)
    .first<ForwardAddress>();
}

/**
 * Adds an unverified address with its token hash; the per-tenant limit is checked in the INSERT
 * so concurrent adds cannot pass it.
 */
export async function insertForwardAddress(
  db: D1Database,
  input: {
    id: string;
    tenantId: string;
    address: string;
    tokenHash: string;
    expiresAt: number;
    limit: number;
  },
  now = Date.now(),
): Promise<{ ok: true } | { ok: false; code: "address_exists" | "limit_reached" }> {
  try {
    const res = await db
      .prepare(
        `INSERT INTO email_forward_addresses (id, tenant_id, address, token_hash, token_expires_at, created_at)
         SELECT ?1, ?2, ?3, ?4, ?5, ?6
          WHERE (SELECT COUNT(*) FROM email_forward_addresses WHERE tenant_id = ?2) < ?7`,
      )
      .bind(input.id, input.tenantId, input.address, input.tokenHash, input.expiresAt, now, input.limit)
      .run();
    if (res.meta.changes === 0) return { ok: false, code: "limit_reached" };
  } catch (err) {
    if (String(err).includes("UNIQUE constraint failed")) return { ok: false, code: "address_exists" };
    throw err;
  }
  return { ok: true };
}

/** A new token for an address still waiting for its link; a verified one keeps no token. */
export async function renewForwardToken(
  db: D1Database,
  tenantId: string,
  id: string,
  tokenHash: string,
  expiresAt: number,
): Promise<boolean> {
  const res = await db
    .prepare(
      `UPDATE email_forward_addresses SET token_hash = ?, token_expires_at = ?
        WHERE id = ? AND tenant_id = ? AND verified_at IS NULL`,
    )
    .bind(tokenHash, expiresAt, id, tenantId)
    .run();
  return res.meta.changes > 0;
}

/**
 * Deletes the address and, in the same batch, stops notifications going to it: a notify_email
 * that is this address is cleared (it was allowed only while verified; added again it would not
 * be). The caller forgets its cached tenant settings.
 */
export async function deleteForwardAddressRow(
  db: D1Database,
  tenantId: string,
  id: string,
): Promise<boolean> {
  const [, deleted] = await db.batch([
    db
      .prepare(
        `UPDATE tenants SET notify_email = NULL
          WHERE id = ?1 AND lower(notify_email) = lower((SELECT address FROM email_forward_addresses
                                                          WHERE id = ?2 AND tenant_id = ?1))`,
      )
      .bind(tenantId, id),
    db.prepare("DELETE FROM email_forward_addresses WHERE id = ? AND tenant_id = ?").bind(id, tenantId),
  ]);
  return (deleted?.meta.changes ?? 0) > 0;
}

export type VerifyOutcome =
  | { status: "verified"; tenantId: string; address: string }
  | { status: "expired" }
  | { status: "invalid" };

/**
 * Consumes a verification token: one statement marks the address verified and forgets the hash,
 * so a second use of the same link finds nothing. An expired token is refused and kept expired.
 */
export async function consumeForwardToken(
  db: D1Database,
  tokenHash: string,
  now = Date.now(),
): Promise<VerifyOutcome> {
  const row = await db
    .prepare(
      `UPDATE email_forward_addresses SET verified_at = ?1, token_hash = NULL, token_expires_at = NULL
        WHERE token_hash = ?2 AND token_expires_at > ?1
        RETURNING tenant_id AS tenantId, address`,
    )
    .bind(now, tokenHash)
    .first<{ tenantId: string; address: string }>();
  if (row) return { status: "verified", ...row };
  const stale = await db
    .prepare("SELECT 1 AS one FROM email_forward_addresses WHERE token_hash = ?")
    .bind(tokenHash)
    .first();
  return stale ? { status: "expired" } : { status: "invalid" };
}
