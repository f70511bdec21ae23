import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type AuditEntry, appendAudit, auditStatement, listAudit } from "../src/audit-log.ts";
import { grantStatements } from "../src/credits.ts";
import { db, newTenant, rows, scalar } from "./fixtures.ts";

declare global {
  interface ImportMeta {
    glob<T>(pattern: string, options: { query: "?raw"; import: "default"; eager: true }): Record<string, T>;
  }
}

// Every source file of this package, as text (Vite inlines them when the test is bundled).
const SOURCES = import.meta.glob<string>("../src/**/*.ts", { query: "?raw", import: "default", eager: true });

/**
 * Statements in `source` that could change or remove audit rows: UPDATE, DELETE, REPLACE (and
 * INSERT OR REPLACE, which deletes the conflicting row), DROP and ALTER naming audit_log.
 */
function auditRewrites(source: string): string[] {
  const re =
    /\b(?:UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM|REPLACE\s+INTO|INSERT\s+OR\s+REPLACE\s+INTO|DROP\s+(?:TABLE|TRIGGER)(?:\s+IF\s+EXISTS)?|ALTER\s+TABLE)\s+["`[]?audit_log\w*/gi;
  return [...source.matchAll(re)].map((m) => m[0]);
}

const entry = (over: Partial<AuditEntry> = {}): AuditEntry => ({
  at: 1_800_000_000_000,
  operatorEmail: "ops@example.test",
  action: "tenant.suspend",
  tenantId: "t_audit",
  target: null,
  summary: { reason: "spam", changed: true },
  ...over,
});

describe("audit log", () => {
  it("no SQL in packages/storage/src updates, deletes, replaces or drops audit rows", () => {
    const files = Object.keys(SOURCES);
    // The glob really read the package (so an empty scan cannot pass).
    expect(files).toContain("../src/audit-log.ts");
    expect(files.length).toBeGreaterThan(20);
    const found = Object.entries(SOURCES).flatMap(([file, text]) =>
      auditRewrites(text).map((s) => `${file}: ${s}`),
    );
    expect(found).toEqual([]);
  });

  it("the scan finds each kind of rewrite (so the test above can fail)", () => {
    for (const sql of [
      "UPDATE audit_log SET summary = '{}'",
      'update "audit_log" set at = 1',
      "UPDATE OR IGNORE audit_log SET at = 1",
      "DELETE FROM audit_log WHERE tenant_id = ?",
      "delete   from\n audit_log",
      "REPLACE INTO audit_log (id) VALUES (1)",
      "INSERT OR REPLACE INTO audit_log (id) VALUES (1)",
      "DROP TABLE IF EXISTS audit_log",
      "DROP TRIGGER audit_log_no_delete",
      "ALTER TABLE audit_log RENAME TO x",
    ]) {
      expect(auditRewrites(`db.prepare(\`${sql}\`)`), sql).toHaveLength(1);
    }
    expect(auditRewrites("INSERT INTO audit_log (at) VALUES (1); SELECT * FROM audit_log")).toEqual([]);
  });

  it("the database itself refuses to update or delete an audit row", async () => {
    await appendAudit(db(), entry({ tenantId: "t_locked" }));
    const [row] = await rows<{ id: number; summary: string }>(
      "SELECT id, summary FROM audit_log WHERE tenant_id = 't_locked'",
    );
    await expect(
      env.DB.prepare("UPDATE audit_log SET summary = '{}' WHERE id = ?").bind(row!.id).run(),
    ).rejects.toThrow(/append-only/);
    await expect(env.DB.prepare("DELETE FROM audit_log WHERE id = ?").bind(row!.id).run()).rejects.toThrow(
      /append-only/,
    );
    await expect(env.DB.prepare("DELETE FROM audit_log").run()).rejects.toThrow(/append-only/);
    expect(await rows("SELECT summary FROM audit_log WHERE id = ?", row!.id)).toEqual([
      { summary: row!.summary },
    ]);
  });

  it("a change and its audit row commit together, or neither does", async () => {
    const failing = env.DB.prepare("INSERT INTO tenants (id) VALUES (NULL)"); // NOT NULL fails
    await expect(
      env.DB.batch([auditStatement(db(), entry({ tenantId: "t_rolled_back" })), failing]),
    ).rejects.toThrow();
    expect(await scalar("SELECT COUNT(*) FROM audit_log WHERE tenant_id = 't_rolled_back'")).toBe(0);
  });

  it("afterChange writes the row only when the statement before it in the batch changed a row", async () => {
    const t = (await newTenant()).id;
    const e = entry({ tenantId: t, action: "tenant.suspend" });
    const suspend = () =>
      env.DB.prepare("UPDATE tenants SET status = 'suspended' WHERE id = ? AND status = 'active'").bind(t);
    await env.DB.batch([suspend(), auditStatement(db(), e, { afterChange: true })]);
    await env.DB.batch([suspend(), auditStatement(db(), e, { afterChange: true })]);
    expect(await scalar("SELECT COUNT(*) FROM audit_log WHERE tenant_id = ?", t)).toBe(1);
    // A trigger's own writes do not count: a replayed grant (ledger insert ignored) audits nothing.
    const [lot, ledger] = grantStatements(db(), {
      tenantId: t,
      amount: 5,
      source: "grant",
      reference: "g1",
      now: 1,
    });
    const grant = entry({ tenantId: t, action: "tenant.grant_credits" });
    await env.DB.batch([lot, ledger, auditStatement(db(), grant, { afterChange: true })]);
    const [lot2, ledger2] = grantStatements(db(), {
      tenantId: t,
      amount: 5,
      source: "grant",
      reference: "g1",
      now: 2,
    });
    await env.DB.batch([lot2, ledger2, auditStatement(db(), grant, { afterChange: true })]);
    expect(
      await scalar(
        "SELECT COUNT(*) FROM audit_log WHERE tenant_id = ? AND action = 'tenant.grant_credits'",
        t,
      ),
    ).toBe(1);
    expect(await scalar("SELECT SUM(remaining) FROM credit_lots WHERE tenant_id = ?", t)).toBe(5);
  });

  it("lists newest first with the summary as it was written, filtered and a page at a time", async () => {
    const base = 1_900_000_000_000;
    const t = `t_list_${crypto.randomUUID().slice(0, 8)}`;
    const made: AuditEntry[] = [];
    for (let i = 0; i < 7; i++) {
      const e = entry({
        at: base + Math.floor(i / 2) * 1000, // pairs share a time: the id breaks the tie
        operatorEmail: i % 2 ? "b@example.test" : "a@example.test",
        action: i < 4 ? "tenant.grant_credits" : "tenant.suspend",
        tenantId: t,
        target: i === 6 ? "pack-1" : null,
        summary: { credits: i, reason: `r${i}`, expiresAt: null },
      });
      made.push(e);
      await appendAudit(db(), e);
    }
    const all = await listAudit(db(), { tenantId: t, limit: 100 });
    expect(all.next).toBeNull();
    expect(all.entries.map((e) => e.summary.credits)).toEqual([6, 5, 4, 3, 2, 1, 0]);
    expect(all.entries[0]).toMatchObject({
      at: base + 3000,
      operatorEmail: "a@example.test",
      action: "tenant.suspend",
      tenantId: t,
      target: "pack-1",
      summary: { credits: 6, reason: "r6", expiresAt: null },
    });

    // Pages of 3 with the cursor: every entry once, in order, then the end.
    const seen: number[] = [];
    let before: string | null = null;
    for (let i = 0; i < 5; i++) {
      const page = await listAudit(db(), { tenantId: t, before, limit: 3 });
      seen.push(...page.entries.map((e) => e.summary.credits as number));
      before = page.next;
      if (!before) break;
    }
    expect(seen).toEqual([6, 5, 4, 3, 2, 1, 0]);

    const byOperator = await listAudit(db(), { tenantId: t, operator: " B@Example.test " });
    expect(byOperator.entries.map((e) => e.summary.credits)).toEqual([5, 3, 1]);
    const byAction = await listAudit(db(), { tenantId: t, action: "tenant.suspend" });
    expect(byAction.entries.map((e) => e.summary.credits)).toEqual([6, 5, 4]);
    const byTime = await listAudit(db(), { tenantId: t, from: base + 1000, to: base + 3000 });
    expect(byTime.entries.map((e) => e.summary.credits)).toEqual([5, 4, 3, 2]);
    const byOperatorAndAction = await listAudit(db(), {
      operator: "a@example.test",
      action: "tenant.grant_credits",
      from: base,
      to: base + 10_000,
    });
    expect(byOperatorAndAction.entries.map((e) => [e.tenantId, e.summary.credits])).toEqual([
      [t, 2],
      [t, 0],
    ]);
    expect((await listAudit(db(), { tenantId: "t_nobody" })).entries).toEqual([]);
    // A cursor that is not one of ours is the first page.
    expect(
      (await listAudit(db(), { tenantId: t, before: "x; DROP", limit: 1 })).entries[0]?.summary.credits,
    ).toBe(6);
  });
});
