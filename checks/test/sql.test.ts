import { describe, expect, it } from "vitest";
import { findSqlInSource, findSqlOutsideStores, formatSqlFinding, looksLikeSql } from "../src/sql.ts";
import { REPO_ROOT } from "../src/tree.ts";
import { writeTree } from "./fixture.ts";

// The same data access, written where it may be and where it may not.
const d1Query = `export async function sessionUser(db: D1Database, hash: string) {
  return db
    .prepare(
      \`SELECT s.user_id AS userId
         FROM sessions s WHERE s.token_hash = ?\`,
    )
    .bind(hash)
    .first();
}
`;
const doQuery = `export function forget(sql: SqlStorage, keys: string[]) {
  const q = \`DELETE FROM state WHERE k IN (\${keys.map(() => "?").join(", ")})\`;
  sql.exec(q, ...keys);
}
`;

describe("SQL only in storage and the conversation store", () => {
  it("holds in the repository", () => {
    const found = findSqlOutsideStores(REPO_ROOT);
    expect(found.map(formatSqlFinding), "SQL outside packages/storage and the conversation store").toEqual(
      [],
    );
  });

  it("finds D1 and Durable Object SQL in app code", () => {
    const root = writeTree({
      "apps/dashboard/src/sessions.ts": d1Query,
      "apps/pipeline/src/conversation/relay.ts": doQuery,
      "packages/channels/src/tokens.ts":
        'export const UPSERT = "INSERT INTO channel_tokens (id) VALUES (?)";\n',
    });
    expect(findSqlOutsideStores(root).map(formatSqlFinding)).toEqual([
      "apps/dashboard/src/sessions.ts:3 → .prepare(SELECT s.user_id AS userId FROM sessions s WHERE s.token_hash = ?)",
      "apps/pipeline/src/conversation/relay.ts:2 → DELETE FROM state WHERE k IN (…)",
      "apps/pipeline/src/conversation/relay.ts:3 → sql.exec(q)",
      "packages/channels/src/tokens.ts:1 → INSERT INTO channel_tokens (id) VALUES (?)",
    ]);
  });

  it("allows SQL in storage, the conversation store, migrations and tests", () => {
    const root = writeTree({
      "packages/storage/src/sessions.ts": d1Query,
      "apps/pipeline/src/conversation/store.ts": doQuery,
      "packages/storage/migrations/0001.ts": 'export const up = "CREATE TABLE t (id TEXT)";\n',
      "apps/dashboard/test/helpers.ts": d1Query,
      "apps/pipeline/src/conversation/store.test.ts": doQuery,
      "packages/testing/src/seed.ts": d1Query,
    });
    expect(findSqlOutsideStores(root)).toEqual([]);
  });

  it("ignores comments, prose, CSS, markup and other exec/prepare look-alikes", () => {
    const root = writeTree({
      "apps/dashboard/src/page.ts": `// SELECT id FROM tenants WHERE id = ? used to live here; see packages/storage.
/* DELETE FROM sessions WHERE expires_at <= ? */
export const css = "select,textarea{width:100%} input:focus-visible,select:focus-visible{outline:3px solid}";
export const label = "Delete from this list";
export const lead = "Select a plan from the options below, then update your settings.";
export const form = (id: string) => \`<select id="\${id}" name="plan"><option>Insert into the queue</option></select>\`;
export const kinds = new Set(["RESPONSE", "UPDATE", "MESSAGE_TAG"]);
export const first = /^(\\w+)/.exec("hello");
`,
      "packages/i18n/locales/en-US/rules.ftl":
        "rules-remove = Delete from the list\nrules-pick = Select one from these\n",
      "packages/i18n/src/messages.generated.ts":
        'export const messages = { "rules-remove": "Delete from the list", "rules-pick": "Select one from these" };\n',
      "apps/dashboard/README.md": "Sessions: `SELECT * FROM sessions` lives in packages/storage.\n",
    });
    expect(findSqlOutsideStores(root)).toEqual([]);
  });

  it("tells SQL from English", () => {
    for (const sql of [
      "SELECT 1 FROM seen WHERE provider_message_id = ?",
      "UPDATE relay_queue SET attempts = attempts + 1 WHERE id = ?",
      "INSERT OR IGNORE INTO seen (id) VALUES (?)",
      "CREATE TABLE IF NOT EXISTS outbox (turn_id TEXT PRIMARY KEY)",
      "select id, name from tenants where id = ?",
      "delete from sessions where token_hash = ?",
      "update tenants set name = ? where id = ?",
      "insert into users (id) values (?)",
    ])
      expect(looksLikeSql(sql), sql).toBe(true);
    for (const prose of [
      "Delete from this list",
      "Select a plan from the options below",
      "Update your settings to set a new name",
      "Insert into the template where you like",
      "select one from these",
    ])
      expect(looksLikeSql(prose), prose).toBe(false);
  });

  it("reports a call on the line of its method, with a non-literal argument as written", () => {
    const found = findSqlInSource("x.ts", "const r = env.DB\n  .prepare(QUERY)\n  .all();\n");
    expect(found.map(formatSqlFinding)).toEqual(["x.ts:2 → .prepare(QUERY)"]);
  });
});
