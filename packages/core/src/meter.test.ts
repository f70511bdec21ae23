import { describe, expect, it } from "vitest";
import {
  installD1Meter,
  installDurableObjectMeter,
  installSqlMeter,
  meterEnabled,
  meteredDurableObject,
  meteredHandler,
  readMeter,
  readStatementTally,
} from "./meter.ts";

// Stand-ins shaped like the runtime's classes (prototype methods, D1 results with meta, SQL
// cursors whose counts settle once consumed): the meter patches prototypes, so it is checked
// here on prototypes of the same shape; bench/cost.ts runs it on the real ones.
class FakeStatement {
  readonly rows: Record<string, unknown>[];
  readonly read: number;
  readonly written: number;
  /** The SQL text, where the runtime's D1PreparedStatement keeps it. */
  readonly statement: string | undefined;
  constructor(rows: Record<string, unknown>[], read: number, written: number, statement?: string) {
    this.rows = rows;
    this.read = read;
    this.written = written;
    this.statement = statement;
  }
  async all() {
    return { results: this.rows, meta: { rows_read: this.read, rows_written: this.written } };
  }
  async run() {
    return { results: [], meta: { rows_read: this.read, rows_written: this.written } };
  }
  async first(_column?: string): Promise<unknown> {
    return this.rows[0] ?? null;
  }
  async raw(): Promise<unknown[]> {
    return this.rows.map((r) => Object.values(r));
  }
}
class FakeD1 {
  next: FakeStatement = new FakeStatement([], 0, 0);
  prepare(_sql: string) {
    return this.next;
  }
  async batch(statements: FakeStatement[]) {
    // As D1's own batch: one result per statement, without going through run().
    return statements.map((s) => ({ results: [], meta: { rows_read: s.read, rows_written: s.written } }));
  }
}
class FakeCursor {
  rowsRead = 0;
  rowsWritten = 0;
}
class FakeSql {
  last = new FakeCursor();
  exec(_query: string, ..._bindings: unknown[]) {
    this.last = new FakeCursor();
    return this.last;
  }
}
class FakeStub {
  async accept(x: number) {
    return x * 2;
  }
}
class FakeNamespace {
  get(_id: string) {
    return new FakeStub();
  }
}

const delta = async (fn: () => Promise<void>) => {
  const before = readMeter();
  await fn();
  const after = readMeter();
  return Object.fromEntries(
    Object.entries(after)
      .map(([k, v]) => [k, v - before[k as keyof typeof before]])
      .filter(([, v]) => v !== 0),
  );
};

describe("the cost meter", () => {
  it('is on only when METER_ENABLED is exactly "1"', () => {
    expect(meterEnabled({})).toBe(false);
    expect(meterEnabled(undefined)).toBe(false);
    expect(meterEnabled({ METER_ENABLED: "true" })).toBe(false);
    expect(meterEnabled({ METER_ENABLED: "1" })).toBe(true);
  });

  it("adds every D1 result's meta, first() and raw() included (they run as all() while metered)", async () => {
    const db = new FakeD1();
    installD1Meter(db, db.prepare("SELECT 1"));
    const d = await delta(async () => {
      db.next = new FakeStatement([{ a: 1, b: "x" }], 3, 0);
      expect(await db.prepare("q").first()).toEqual({ a: 1, b: "x" });
      expect(await db.prepare("q").first("b")).toBe("x");
      await expect(db.prepare("q").first("c")).rejects.toThrow("D1_COLUMN_NOTFOUND");
      expect(await db.prepare("q").raw()).toEqual([[1, "x"]]);
      db.next = new FakeStatement([], 0, 0);
      expect(await db.prepare("q").first()).toBeNull();
      db.next = new FakeStatement([], 1, 2);
      await db.prepare("q").run();
      await db.batch([new FakeStatement([], 1, 5), new FakeStatement([], 2, 7)]);
    });
    expect(d).toEqual({ d1Queries: 8, d1RowsRead: 3 * 4 + 1 + 3, d1RowsWritten: 2 + 12 });
  });

  it("sums each Durable Object SQL cursor's rowsRead / rowsWritten as they stand when read", async () => {
    const sql = new FakeSql();
    installSqlMeter(sql);
    const d = await delta(async () => {
      const c = sql.exec("INSERT …");
      // Final only once the cursor is consumed, as in the runtime.
      c.rowsRead = 1;
      c.rowsWritten = 4;
      sql.exec("SELECT …").rowsRead = 10;
    });
    expect(d).toEqual({ doRowsRead: 11, doRowsWritten: 4 });
  });

  it("tallies rows per statement by its SQL text (whitespace folded, never the bindings)", async () => {
    const db = new FakeD1();
    installD1Meter(db, db.prepare("SELECT 1"));
    const sql = new FakeSql();
    installSqlMeter(sql);
    const key = "d1 INSERT INTO t (a) VALUES (?)";
    const before = readStatementTally();
    db.next = new FakeStatement([], 1, 3, "INSERT INTO t\n   (a) VALUES (?)");
    await db.prepare("ignored").run();
    await db.batch([
      new FakeStatement([], 2, 5, "INSERT INTO t (a)   VALUES (?)"),
      new FakeStatement([], 4, 0),
    ]);
    sql.exec("UPDATE s SET v = ?", "secret").rowsWritten = 2;
    const after = readStatementTally();
    const diff = (k: string) => ({
      calls: (after[k]?.calls ?? 0) - (before[k]?.calls ?? 0),
      rowsRead: (after[k]?.rowsRead ?? 0) - (before[k]?.rowsRead ?? 0),
      rowsWritten: (after[k]?.rowsWritten ?? 0) - (before[k]?.rowsWritten ?? 0),
    });
    expect(diff(key)).toEqual({ calls: 2, rowsRead: 3, rowsWritten: 8 });
    expect(diff("d1 ?")).toEqual({ calls: 1, rowsRead: 4, rowsWritten: 0 });
    expect(diff("do UPDATE s SET v = ?")).toEqual({ calls: 1, rowsRead: 0, rowsWritten: 2 });
    expect(JSON.stringify(after)).not.toContain("secret");
  });

  it("counts each call on a Durable Object stub and each alarm, the calls still answering", async () => {
    const ns = new FakeNamespace();
    installDurableObjectMeter(ns);
    class Object1 {
      readonly ctx: { storage: { sql?: FakeSql } };
      constructor(ctx: { storage: { sql?: FakeSql } }) {
        this.ctx = ctx;
      }
      async alarm() {
        return "rang";
      }
    }
    const Metered = meteredDurableObject(Object1);
    const d = await delta(async () => {
      expect(await (ns.get("a") as FakeStub).accept(21)).toBe(42);
      await (ns.get("b") as FakeStub).accept(1);
      const o = new Metered({ storage: { sql: new FakeSql() } });
      expect(await o.alarm()).toBe("rang");
    });
    expect(d).toEqual({ doRequests: 3 });
    expect(Metered.name).toBe("Object1");
  });

  it("counts handler invocations and answers GET /__meter only on the metered handler", async () => {
    const handler = {
      async fetch(_r: Request) {
        return new Response("app");
      },
      async email() {},
    };
    const metered = meteredHandler(handler);
    const d = await delta(async () => {
      expect(await (await metered.fetch(new Request("http://w/x"))).text()).toBe("app");
      await metered.email();
      const counts = (await (await metered.fetch(new Request("http://w/__meter"))).json()) as {
        requests: number;
      };
      expect(counts.requests).toBeGreaterThanOrEqual(2);
    });
    expect(d).toEqual({ requests: 2 });
    // The handler as exported without the meter has no such route.
    expect(await (await handler.fetch(new Request("http://w/__meter"))).text()).toBe("app");
  });
});
