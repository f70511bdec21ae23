import { AppError, type Channel, newId } from "@concierge/core";
import {
  DEFAULT_WAIT_SECONDS,
  type ReplyConfig,
  ReplyConfigSchema,
  parseReplyConfig,
} from "@concierge/rules";
import * as v from "valibot";

export type ChannelAccount = {
  id: string;
  tenantId: string;
  channel: Channel;
  externalId: string;
  displayName: string | null;
  status: "active" | "disabled";
};

/** What ingest needs to accept a message: the owner and the reply buffer window. */
export type IngestTarget = ChannelAccount & { waitSeconds: number };

const ACCOUNT_COLUMNS =
  "id, tenant_id AS tenantId, channel, external_id AS externalId, display_name AS displayName, status";

/** Resolves the owner of an external id (phone_number_id, page id, subdomain); the ingest hot path. */
export async function findIngestTarget(
  db: D1Database,
  channel: Channel,
  externalId: string,
): Promise<IngestTarget | null> {
  return db
    .prepare(
      `SELECT a.id, a.tenant_id AS tenantId, a.channel, a.external_id AS externalId,
              a.display_name AS displayName, a.status, COALESCE(r.wait_seconds, t.default_wait_seconds, ?) AS waitSeconds
         FROM channel_accounts a
         JOIN tenants t ON t.id = a.tenant_id
         LEFT JOIN reply_configs r ON r.account_id = a.id
        WHERE a.channel = ? AND a.external_id = ?`,
    )
    .bind(DEFAULT_WAIT_SECONDS, channel, externalId)
    .first<IngestTarget>();
}

export async function getChannelAccount(db: D1Database, id: string): Promise<ChannelAccount | null> {
  return db.prepare(`SELECT ${ACCOUNT_COLUMNS} FROM channel_accounts WHERE id = ?`).bind(id).first();
}

/**
 * A phone number as its digits only ("+91 98765 43210" -> "919876543210"), as
 * `channel_accounts.phone_digits` keeps it for the operator's search; null when anything but
 * spaces, +, -, ( and ) separates the digits (the same rule migrations/0018_operator.sql used to
 * fill rows connected before the column existed).
 */
export function phoneDigits(display: string): string | null {
  const digits = display.replace(/[ +\-()]/g, "");
  return /^\d+$/.test(digits) ? digits : null;
}

/**
 * Connects an external account to a tenant. The UNIQUE (channel, external_id) constraint is what
 * makes "one owner, ever" true under races; the error names the conflict plainly. A WhatsApp
 * number passes `phoneDigits` (of its display number): its external id is Meta's
 * phone_number_id, which is not the number an operator searches for.
 */
export async function createChannelAccount(
  db: D1Database,
  input: {
    tenantId: string;
    channel: Channel;
    externalId: string;
    displayName?: string;
    phoneDigits?: string | null;
    id?: string;
  },
): Promise<ChannelAccount> {
  const id = input.id ?? newId("acc");
  try {
    await db
      .prepare(
        "INSERT INTO channel_accounts (id, tenant_id, channel, external_id, display_name, phone_digits, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
      )
      .bind(
        id,
        input.tenantId,
        input.channel,
        input.externalId,
        input.displayName ?? null,
        input.phoneDigits ?? null,
        Date.now(),
      )
      .run();
  } catch (err) {
    if (String(err).includes("UNIQUE constraint failed")) {
      throw new AppError(409, "account_taken", `This ${input.channel} account is already connected.`);
    }
    throw err;
  }
  return {
    id,
    tenantId: input.tenantId,
    channel: input.channel,
    externalId: input.externalId,
    displayName: input.displayName ?? null,
    status: "active",
  };
}

/** Vectors of an account's `prompt` matchers, keyed by rule id, with the description embedded. */
export type RuleEmbeddings = {
  model: string | null;
  rules: Record<string, { description: string; vector: number[] }>;
};
/** `version`: 1 on the first save, bumped by each save; the rules editor's forms carry it. */
export type StoredReplyConfig = { config: ReplyConfig; embeddings: RuleEmbeddings; version: number };

const NO_EMBEDDINGS: RuleEmbeddings = { model: null, rules: {} };

/**
 * Validates and stores an account's reply config; invalid input changes nothing. `expected`: the
 * version the editor was shown at (0: nothing saved yet), checked inside the statement, so of two
 * saves from the same page exactly one lands and the other fails `stale` (409); null: no check.
 */
export async function saveReplyConfig(
  db: D1Database,
  tenantId: string,
  accountId: string,
  input: unknown,
  embeddings: RuleEmbeddings = NO_EMBEDDINGS,
  expected: number | null = null,
): Promise<ReplyConfig> {
  const parsed = parseReplyConfig(input);
  if (!parsed.ok) {
    const first = parsed.issues[0]!;
    throw new AppError(
      400,
      "invalid_reply_config",
      first.path ? `${first.path}: ${first.message}` : first.message,
    );
  }
  const res = await db
    .prepare(
      `INSERT INTO reply_configs (account_id, tenant_id, config_json, wait_seconds, embeddings_json, updated_at)
       SELECT id, tenant_id, ?1, ?2, ?3, ?4 FROM channel_accounts WHERE id = ?5 AND tenant_id = ?6
          -- A first save (no row yet) only from a page that saw none (version 0), or unchecked.
          AND (?7 IS NULL OR ?7 = 0 OR EXISTS (SELECT 1 FROM reply_configs WHERE account_id = ?5))
       ON CONFLICT (account_id) DO UPDATE SET config_json = excluded.config_json,
         wait_seconds = excluded.wait_seconds, embeddings_json = excluded.embeddings_json,
         updated_at = excluded.updated_at, version = reply_configs.version + 1
        WHERE ?7 IS NULL OR reply_configs.version = ?7`,
    )
    .bind(
      JSON.stringify(parsed.value),
      parsed.value.wait_seconds,
      JSON.stringify(embeddings),
      Date.now(),
      accountId,
      tenantId,
      expected,
    )
    .run();
  if (res.meta.changes === 0) {
    // A stale version, or not this tenant's account (read only on this path).
    const owned = await db
      .prepare("SELECT 1 FROM channel_accounts WHERE id = ? AND tenant_id = ?")
      .bind(accountId, tenantId)
      .first();
    if (owned)
      throw new AppError(409, "stale", "The reply rules were saved elsewhere since this page was shown.");
    throw new AppError(404, "not_found", "No such channel account.");
  }
  return parsed.value;
}

export async function getReplyConfig(db: D1Database, accountId: string): Promise<StoredReplyConfig | null> {
  const row = await db
    .prepare("SELECT config_json, embeddings_json, version FROM reply_configs WHERE account_id = ?")
    .bind(accountId)
    .first<{ config_json: string; embeddings_json: string; version: number }>();
  if (!row) return null;
  // Validated on save; parsing again applies defaults added since the row was written.
  return {
    config: v.parse(ReplyConfigSchema, JSON.parse(row.config_json)),
    embeddings: JSON.parse(row.embeddings_json) as RuleEmbeddings,
    version: row.version,
  };
}
