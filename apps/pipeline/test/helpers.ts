// What the pipeline's Worker tests share: the demo tenant's fresh accounts, customer messages,
// an approved persona, an exact balance, and waiting for replies at the fake Graph API.
import { createScheduledController, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import type { Persona } from "@concierge/prompt";
import { createChannelAccount, saveReplyConfig } from "@concierge/storage";
import { sentTo } from "@concierge/testing/sandbox-client";
import { DEMO } from "@concierge/testing/seed";
import {
  approvePersona as approveTenantPersona,
  inboundText,
  setBalance as setTenantBalance,
} from "@concierge/testing/tenant-fixtures";
import { vi } from "vitest";
import { APPROVALS_CRON } from "../src/crons.ts";
import type { BufferedRow } from "../src/conversation/store.ts";
import worker from "../src/index.ts";

// One handle per named entrypoint, as each caller's service binding sees the pipeline.
export const ingestApi = exports.MetaIngestEntrypoint;
export const tenantApi = exports.TenantEntrypoint;
export const discordApi = exports.DiscordEntrypoint;
export const operatorApi = exports.OperatorEntrypoint;
export const demoApi = exports.DemoEntrypoint;
export const tenantId = DEMO.tenantId;

export { inboundText };

let phone = 0;
/** A new WhatsApp number of the demo tenant, with no reply config yet. */
export function newBareAccount() {
  phone += 1;
  const externalId = `91${String(Date.now() % 1e9).padStart(9, "0")}${phone}`;
  return createChannelAccount(env.DB, { tenantId, channel: "whatsapp", externalId });
}

/** A new WhatsApp number of the demo tenant with this reply config; `send` ingests as a customer. */
export async function newAccount(config: unknown) {
  const account = await newBareAccount();
  const externalId = account.externalId;
  await saveReplyConfig(env.DB, tenantId, account.id, config);
  return {
    ...account,
    send: (customerId: string, text: string) => ingestApi.ingest([inboundText(externalId, customerId, text)]),
    conversation: (customerId: string) =>
      env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(`${tenantId}/${account.id}/${customerId}`)),
  };
}

export function approvePersona(persona: Persona): Promise<void> {
  return approveTenantPersona(env.DB, tenantId, persona);
}

/** Spends whatever the demo tenant has left, then grants exactly `amount`. */
export function setBalance(amount: number): Promise<void> {
  return setTenantBalance(env.DB, tenantId, amount);
}

/** The replies a customer has had, once there are at least `n`. */
export async function repliesTo(customerId: string, n = 1) {
  await vi.waitUntil(async () => (await sentTo(env.SANDBOX_URL, customerId)).length >= n, { timeout: 8000 });
  return sentTo(env.SANDBOX_URL, customerId);
}

/** Fresh page and user tokens for a page at the fake Graph API, as Facebook Login would give. */
export async function pageTokens(pageId: string): Promise<{ userToken: string; pageToken: string }> {
  const r = await fetch(`${env.SANDBOX_URL}/__sandbox/pages/tokens`, {
    method: "POST",
    body: JSON.stringify({ pageId }),
  });
  return (await r.json()) as { userToken: string; pageToken: string };
}

let page = 0;
/**
 * A new page with an Instagram account at the fake Graph API, connected to `tenant` through the
 * RPC. `prefix` keeps one test file's page ids apart from another's.
 */
export async function connectedInstagramPage(
  tenant: string,
  prefix: string,
  facebookUserId = "10000000000000001",
) {
  page += 1;
  const tail = `${String(Date.now()).slice(-8)}${page}${Math.floor(Math.random() * 1000)}`;
  const p = {
    id: `${prefix}${tail}`,
    instagram: { id: `178${prefix}${tail}`, username: `page${prefix}.${tail}` },
  };
  await fetch(`${env.SANDBOX_URL}/__sandbox/pages`, { method: "POST", body: JSON.stringify(p) });
  const tokens = await pageTokens(p.id);
  const result = await tenantApi.connectInstagram(tenant, {
    pageId: p.id,
    instagramId: p.instagram.id,
    username: p.instagram.username,
    pageToken: tokens.pageToken,
    userToken: tokens.userToken,
    facebookUserId,
  });
  if (!result.ok) throw new Error(`connect failed: ${result.error.code}`);
  return {
    pageId: p.id,
    accountId: result.accountId,
    instagramId: p.instagram.id,
    pageToken: tokens.pageToken,
  };
}

/** Every row a conversation object holds (its SQL tables and key-value entries): 0 once purged. */
export function objectRowCount(stub: DurableObjectStub): Promise<number> {
  return runInDurableObject(stub, async (_o, state) => {
    let n = (await state.storage.list()).size;
    for (const { name } of state.storage.sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
      .toArray()) {
      if (!name.startsWith("sqlite_") && !name.startsWith("_cf_")) {
        n += state.storage.sql.exec(`SELECT * FROM "${name}"`).toArray().length;
      }
    }
    return n;
  });
}

/**
 * Moves one of the times a conversation object keeps in its turn's row (store.ts `TurnState`),
 * rather than waiting for it to pass. Inside `runInDurableObject`; fails unless the row is there
 * (a turn has run), so a test can never move nothing and pass.
 */
export function setTurnField(
  state: DurableObjectState,
  field: "last_activity_at" | "last_inbound_at",
  at: number,
): void {
  const cursor = state.storage.sql.exec(
    `UPDATE state SET v = json_set(v, '$.${field}', ?) WHERE k = 'turn'`,
    at,
  );
  cursor.toArray();
  if (cursor.rowsWritten !== 1) throw new Error(`no turn row to set ${field} in`);
}

/**
 * Runs a conversation object's alarm (`instance`, from runInDurableObject) with its D1 binding
 * seen through `onPrepare`, which hears each statement the alarm prepares, before it is prepared.
 */
export async function alarmWatchingD1(instance: unknown, onPrepare: (query: string) => void): Promise<void> {
  const host = (instance as { host: { env: typeof env } }).host;
  const real = host.env;
  const db = new Proxy(real.DB, {
    get(target, key) {
      if (key === "prepare") {
        return (query: string) => {
          onPrepare(query);
          return target.prepare(query);
        };
      }
      const v = Reflect.get(target, key);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  Object.defineProperty(host, "env", { value: { ...real, DB: db }, configurable: true });
  try {
    await (instance as { alarm(): Promise<void> }).alarm();
  } finally {
    Object.defineProperty(host, "env", { value: real, configurable: true });
  }
}

/**
 * Moves a state key the object already holds (a test's way to age it); throws when there is no
 * such key, so that a test cannot pass having changed nothing.
 */
export function setStateKey(state: DurableObjectState, key: string, value: string): void {
  const cursor = state.storage.sql.exec("UPDATE state SET v = ? WHERE k = ?", value, key);
  cursor.toArray();
  if (cursor.rowsWritten !== 1) throw new Error(`no state key ${key} to set`);
}

/** The quarter-hourly cron's run as the runtime starts it, at `at`. */
export function quarterHourCron(at: number) {
  return worker.scheduled(createScheduledController({ cron: APPROVALS_CRON, scheduledTime: at }), env);
}

/** One count from D1 (`SELECT COUNT(*) AS n …`). */
export async function countRows(sql: string, ...binds: unknown[]): Promise<number> {
  return (await env.DB.prepare(sql)
    .bind(...binds)
    .first<{ n: number }>())!.n;
}

/** A conversation object's buffered messages: `state` rows keyed `pending:<seq>[:<id>]` (store versions 7, 8). */
export const BUFFERED = "k >= 'pending:' AND k < 'pending;'";

/** A buffered message's row as the store writes it (store.ts `acceptMessage`), with its seq. */
export type BufferedMessage = BufferedRow & { seq: number };

/** The object's buffered messages, oldest first. Inside `runInDurableObject`. */
export function bufferedRows(state: DurableObjectState): BufferedMessage[] {
  return state.storage.sql
    .exec<{ k: string; v: string }>(`SELECT k, v FROM state WHERE ${BUFFERED} ORDER BY k`)
    .toArray()
    .map((r) => ({
      seq: Number(r.k.slice("pending:".length, "pending:".length + 15)),
      ...(JSON.parse(r.v) as BufferedRow),
    }));
}

/**
 * Sets `field` of the buffered messages (those `where` picks, of their fields as `json_extract`s)
 * to the SQL `value`, which reads the old one as `$old`. Answers the rows written; throws when it
 * wrote fewer than `atLeast`, so that a test cannot pass having changed nothing.
 */
export function setBufferedField(
  state: DurableObjectState,
  field: keyof BufferedRow,
  value: string,
  binds: SqlStorageValue[] = [],
  { where = "1", atLeast = 1 }: { where?: string; atLeast?: number } = {},
): number {
  const old = `json_extract(v, '$.${field}')`;
  const cursor = state.storage.sql.exec(
    `UPDATE state SET v = json_set(v, '$.${field}', ${value.replaceAll("$old", old)})
      WHERE ${BUFFERED} AND (${where.replaceAll("$old", old)})`,
    ...binds,
  );
  cursor.toArray();
  if (cursor.rowsWritten < atLeast) throw new Error(`no buffered message to set ${field} in`);
  return cursor.rowsWritten;
}
