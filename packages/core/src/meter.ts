// The cost benchmark's meter (bench/cost.ts): counts, from the runtime's own figures, the units
// Cloudflare bills. Opt-in: a Worker installs it only when its METER_ENABLED var is "1", which
// only the bench's stack sets (scripts/stack.ts `meter`); otherwise nothing here runs, nothing is
// patched and the `/__meter` route does not exist.
//
// Counted per isolate (locally one per Worker, its Durable Objects included):
// - Worker requests: invocations of the default export's handlers (fetch, email, queue,
//   scheduled). Calls over service bindings are not billed as requests and are not counted.
// - D1 rows read / written: `meta.rows_read` / `meta.rows_written` of every D1 result. `first()`
//   and `raw()` drop `meta`, so while metering they run as `all()` and shape the answer themselves.
// - Durable Object requests: every call on a stub (RPC method or fetch) and every alarm.
// - Durable Object rows read / written: `rowsRead` / `rowsWritten` of every SQL cursor, summed
//   when the meter is read (they are final once the cursor is consumed).

export type MeterCounts = {
  requests: number;
  d1Queries: number;
  d1RowsRead: number;
  d1RowsWritten: number;
  doRequests: number;
  doRowsRead: number;
  doRowsWritten: number;
};

const zero = (): MeterCounts => ({
  requests: 0,
  d1Queries: 0,
  d1RowsRead: 0,
  d1RowsWritten: 0,
  doRequests: 0,
  doRowsRead: 0,
  doRowsWritten: 0,
});

const counts = zero();
type Cursor = { rowsRead: number; rowsWritten: number };
let cursors: { sql: string; cursor: Cursor }[] = [];

/**
 * Rows written per statement (SQL text, never bindings: no message text), so the bench can say
 * where the billed writes go. Keyed "d1 …" or "do …".
 */
export type StatementTally = Record<string, { calls: number; rowsRead: number; rowsWritten: number }>;
const statements: StatementTally = {};
function tally(kind: "d1" | "do", sql: string | undefined, rowsRead: number, rowsWritten: number): void {
  const key = `${kind} ${(sql ?? "?").replace(/\s+/g, " ").trim().slice(0, 160)}`;
  statements[key] ??= { calls: 0, rowsRead: 0, rowsWritten: 0 };
  const t = statements[key];
  t.calls += 1;
  t.rowsRead += rowsRead;
  t.rowsWritten += rowsWritten;
}
const patched = new WeakSet<object>();

/** Whether this Worker's env turns the meter on. */
export function meterEnabled(env: unknown): boolean {
  return (env as { METER_ENABLED?: unknown } | undefined)?.METER_ENABLED === "1";
}

/** The counts so far (DO cursors settled into them). */
export function readMeter(): MeterCounts {
  for (const { sql, cursor } of cursors) {
    counts.doRowsRead += cursor.rowsRead;
    counts.doRowsWritten += cursor.rowsWritten;
    tally("do", sql, cursor.rowsRead, cursor.rowsWritten);
  }
  cursors = [];
  return { ...counts };
}

/** The per-statement tally so far (DO cursors settled into it). */
export function readStatementTally(): StatementTally {
  readMeter();
  return structuredClone(statements);
}

type D1Meta = { meta?: { rows_read?: number; rows_written?: number } };

function addD1(result: unknown, sql: (string | undefined)[]): void {
  const results = Array.isArray(result) ? (result as D1Meta[]) : [result as D1Meta];
  results.forEach((r, i) => {
    counts.d1Queries += 1;
    counts.d1RowsRead += r?.meta?.rows_read ?? 0;
    counts.d1RowsWritten += r?.meta?.rows_written ?? 0;
    tally("d1", sql[i], r?.meta?.rows_read ?? 0, r?.meta?.rows_written ?? 0);
  });
}

/** The SQL text of a D1 prepared statement (workerd's D1PreparedStatement keeps it as `statement`). */
const sqlOf = (s: unknown): string | undefined => (s as { statement?: string } | undefined)?.statement;

type Statement = {
  statement?: string;
  all(): Promise<{ results: Record<string, unknown>[] } & D1Meta>;
  run(): Promise<D1Meta>;
  first(column?: string): Promise<unknown>;
  raw(options?: { columnNames?: boolean }): Promise<unknown[]>;
};

/**
 * Meters every D1 binding of the isolate: patches the prototypes of the database and of its
 * prepared statements, once. `statement` is any statement `db` prepared, never run, only for its
 * prototype (`statementProbe` in @concierge/storage, where D1 SQL lives).
 */
export function installD1Meter(db: object, statement: object): void {
  const dbProto = Object.getPrototypeOf(db) as { batch(statements: unknown[]): Promise<unknown> };
  const stmtProto = Object.getPrototypeOf(statement) as Statement;
  if (patched.has(stmtProto)) return;
  patched.add(stmtProto);
  const { all, run } = stmtProto;
  stmtProto.all = async function (this: Statement) {
    const r = await all.call(this);
    addD1(r, [sqlOf(this)]);
    return r;
  };
  stmtProto.run = async function (this: Statement) {
    const r = await run.call(this);
    addD1(r, [sqlOf(this)]);
    return r;
  };
  stmtProto.first = async function (this: Statement, column?: string) {
    const r = await all.call(this);
    addD1(r, [sqlOf(this)]);
    const row = r.results[0];
    if (!row) return null;
    if (column === undefined) return row;
    if (!(column in row)) throw new Error(`D1_COLUMN_NOTFOUND: Column not found (${column})`);
    return row[column];
  };
  stmtProto.raw = async function (this: Statement, options?: { columnNames?: boolean }) {
    const r = await all.call(this);
    addD1(r, [sqlOf(this)]);
    const rows = r.results.map((row) => Object.values(row));
    return options?.columnNames ? [Object.keys(r.results[0] ?? {}), ...rows] : rows;
  };
  if (!patched.has(dbProto)) {
    patched.add(dbProto);
    const { batch } = dbProto;
    dbProto.batch = async function (this: unknown, statements: unknown[]) {
      const r = await batch.call(this, statements);
      addD1(r, statements.map(sqlOf));
      return r;
    };
  }
}

type SqlLike = { exec(query: string, ...bindings: unknown[]): Cursor };

/** Meters a Durable Object's SQL: every cursor its `exec` returns is summed when the meter is read. */
export function installSqlMeter(sql: SqlLike): void {
  const proto = Object.getPrototypeOf(sql) as SqlLike;
  if (patched.has(proto)) return;
  patched.add(proto);
  const { exec } = proto;
  proto.exec = function (this: SqlLike, query: string, ...bindings: unknown[]) {
    const cursor = exec.call(this, query, ...bindings);
    cursors.push({ sql: query, cursor });
    return cursor;
  };
}

type Namespace = { get(...args: unknown[]): object; getByName?(...args: unknown[]): object };

/** Counts every call on the stubs a Durable Object namespace hands out (each is a billed request). */
export function installDurableObjectMeter(namespace: object): void {
  const proto = Object.getPrototypeOf(namespace) as Namespace;
  if (patched.has(proto)) return;
  patched.add(proto);
  const counted = (stub: object): object =>
    new Proxy(stub, {
      get(target, prop) {
        const value = Reflect.get(target, prop);
        if (typeof value !== "function" || typeof prop !== "string" || prop === "then") return value;
        return (...args: unknown[]) => {
          counts.doRequests += 1;
          return Reflect.apply(value as (...a: unknown[]) => unknown, target, args);
        };
      },
    });
  for (const name of ["get", "getByName"] as const) {
    const original = proto[name];
    if (typeof original !== "function") continue;
    proto[name] = function (this: Namespace, ...args: unknown[]) {
      return counted(original.apply(this, args));
    };
  }
}

/**
 * A Durable Object class whose alarms are counted and whose SQL is metered. The constructor
 * meters the storage before the class it extends reads `ctx.storage.sql`.
 */
export function meteredDurableObject<C extends abstract new (...args: never[]) => object>(Base: C): C {
  const B = Base as unknown as new (
    ctx: { storage: { sql?: SqlLike } },
    env: unknown,
  ) => { alarm?(...a: unknown[]): unknown };
  class Metered extends B {
    constructor(ctx: { storage: { sql?: SqlLike } }, env: unknown) {
      if (ctx.storage.sql) installSqlMeter(ctx.storage.sql);
      super(ctx, env);
    }
  }
  const alarm = B.prototype.alarm;
  if (typeof alarm === "function") {
    Object.defineProperty(Metered.prototype, "alarm", {
      value: function (this: unknown, ...args: unknown[]) {
        counts.doRequests += 1;
        return alarm.apply(this, args);
      },
    });
  }
  Object.defineProperty(Metered, "name", { value: Base.name });
  return Metered as unknown as C;
}

type Handler = Record<string, unknown>;

/**
 * The default export with every handler invocation counted, and `GET /__meter` answering the
 * counts (only here: the unmetered export has no such route).
 */
export function meteredHandler<H extends object>(handler: H): H {
  const h = handler as Handler;
  const out: Handler = { ...h };
  for (const name of ["fetch", "email", "queue", "scheduled"]) {
    const fn = h[name];
    if (typeof fn !== "function") continue;
    out[name] = (...args: unknown[]) => {
      const path = name === "fetch" ? new URL((args[0] as Request).url).pathname : "";
      if (path === "/__meter") return Response.json(readMeter());
      if (path === "/__meter/statements") return Response.json(readStatementTally());
      counts.requests += 1;
      return (fn as (...a: unknown[]) => unknown).apply(handler, args);
    };
  }
  return out as H;
}
