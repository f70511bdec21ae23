import { type Channel, newId } from "@concierge/core";
import { env } from "cloudflare:workers";
import { type ChannelAccount, createChannelAccount } from "../src/accounts.ts";
import { type MessageMeta, recordMessages, type StatusChange } from "../src/messages.ts";
import { createTenant, type TenantRow } from "../src/tenants.ts";

/** A fresh ENCRYPTION_KEY for this test file (base64 of 32 random bytes). */
export const MASTER_KEY = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));

export const db = (): D1Database => env.DB;

/** A new tenant with its data key, through the real createTenant. */
export function newTenant(name = "Test tenant"): Promise<TenantRow & { currency: "INR" | "USD" }> {
  return createTenant(env.DB, MASTER_KEY, { name });
}

/** A new channel account of the tenant with a unique external id. */
export function newAccount(
  tenantId: string,
  channel: Channel = "whatsapp",
  externalId = newId("ext"),
): Promise<ChannelAccount> {
  return createChannelAccount(env.DB, { tenantId, channel, externalId, displayName: `${channel} test` });
}

/** One number from a statement (e.g. a COUNT): what the tests check behind the functions' backs. */
export async function scalar(sql: string, ...binds: unknown[]): Promise<number> {
  const row = await env.DB.prepare(sql)
    .bind(...binds)
    .first<Record<string, number>>();
  return Number(Object.values(row ?? {})[0] ?? 0);
}

/** Every row of a table matching a condition, for asserting exact stored values. */
export async function rows<T = Record<string, unknown>>(sql: string, ...binds: unknown[]): Promise<T[]> {
  const { results } = await env.DB.prepare(sql)
    .bind(...binds)
    .all<T>();
  return results;
}

/** A statement as a storage function prepared it, with what it bound. */
/** Meta's report that one of the account's WhatsApp replies could not be delivered (131026). */
export function undeliverable(
  tenantId: string,
  accountId: string,
  providerMessageId: string,
  at: number,
): StatusChange {
  return {
    tenantId,
    accountId,
    channel: "whatsapp",
    providerMessageId,
    status: "failed",
    at,
    errorCode: 131026,
    errorTitle: null,
  };
}

export type Recorded = { sql: string; binds: unknown[] };

/**
 * The database with every statement prepared through it recorded (SQL and bound values), to
 * count round trips and to explain each statement's query plan.
 */
export function countingDb(): { db: D1Database; statements: string[]; recorded: Recorded[] } {
  const recorded: Recorded[] = [];
  const real = env.DB;
  const proxy = new Proxy(real, {
    get(target, prop) {
      if (prop === "prepare") {
        return (sql: string) => {
          const entry: Recorded = { sql, binds: [] };
          recorded.push(entry);
          const stmt = target.prepare(sql);
          const bind = stmt.bind.bind(stmt);
          stmt.bind = (...values: unknown[]) => {
            entry.binds = values;
            return bind(...values);
          };
          return stmt;
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return {
    db: proxy,
    get statements() {
      return recorded.map((r) => r.sql);
    },
    recorded,
  };
}

/**
 * A tenant row as the schema before migration 0019 had it (no time zone, no wizard columns), for
 * the tests that stop the migrations early to check what a later one does to older rows. The
 * current createTenant writes columns such a database does not have yet.
 */
export async function tenantBefore0019(mdb: D1Database, name: string): Promise<{ id: string }> {
  const id = `t_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  await mdb
    .prepare("INSERT INTO tenants (id, name, locale, currency, created_at) VALUES (?, ?, 'en-IN', 'INR', ?)")
    .bind(id, name, Date.now())
    .run();
  return { id };
}

/** The database with the rows each batch wrote (D1's own `meta.rows_written`) added up. */
export function metered(db: D1Database): { db: D1Database; written: () => number } {
  let written = 0;
  const proxy = new Proxy(db, {
    get(target, prop) {
      if (prop === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          const results = await target.batch(statements);
          for (const r of results) written += r.meta.rows_written;
          return results;
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { db: proxy, written: () => written };
}

/** A customer's WhatsApp message's metadata row, at `m.at` (default now), with these fields changed. */
export function messageRow(tenantId: string, accountId: string, m: Partial<MessageMeta> = {}): MessageMeta {
  return {
    tenantId,
    accountId,
    channel: "whatsapp",
    direction: "inbound",
    providerMessageId: newId("pm"),
    conversationId: "conv_1",
    senderId: "919800000001",
    recipientId: "15550001111",
    action: null,
    ruleId: null,
    at: Date.now(),
    ...m,
  };
}

/**
 * What a canned turn records, one call each as the turn does (the customer's message, then the
 * rule's reply with the wait it ended): the D1 rows written, as D1 counts them.
 */
export async function rowsWrittenByCannedTurn(
  db: D1Database,
  tenantId: string,
  accountId: string,
  m: Partial<MessageMeta> = {},
): Promise<number> {
  const meter = metered(db);
  await recordMessages(meter.db, [messageRow(tenantId, accountId, { senderId: "919800000002", ...m })]);
  await recordMessages(meter.db, [
    messageRow(tenantId, accountId, {
      ...m,
      direction: "outbound",
      senderId: "15550001111",
      recipientId: "919800000002",
      action: "canned_reply",
      ruleId: "hours",
      replyWaitMs: 2_000,
    }),
  ]);
  return meter.written();
}
