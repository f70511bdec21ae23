import { env } from "cloudflare:workers";
import { countingDb, type Recorded } from "./fixtures.ts";

/**
 * The tables SQLite would scan in full (`SCAN <table>` in EXPLAIN QUERY PLAN) for every statement
 * `run` prepares, with the values it bound: empty when each statement is bounded by an index
 * (ARCHITECTURE.md §4).
 */
export async function scansOf(run: (db: D1Database) => Promise<unknown>): Promise<string[]> {
  const c = countingDb();
  await run(c.db);
  if (c.recorded.length === 0) throw new Error("no statement was prepared");
  return scans(c.recorded);
}

/** The tables scanned in full by these recorded statements (see `scansOf`). */
export async function scans(recorded: Recorded[]): Promise<string[]> {
  const tables = new Set<string>();
  for (const r of recorded) {
    const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${r.sql}`)
      .bind(...r.binds)
      .all<{ detail: string }>();
    for (const { detail } of results) {
      const m = /^SCAN (\w+)/.exec(detail);
      // `acc` is no table: a tenant's account ids, a recursive CTE seeking one index entry per
      // account (message-accounts.ts); its seeks are plan lines of their own.
      if (m && m[1] !== "CONSTANT" && m[1] !== "acc") tables.add(m[1]!);
    }
  }
  return [...tables].sort();
}
