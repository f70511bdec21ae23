// The local D1 database as Node sees it in the stack (scripts/stack.ts): every call an HTTP
// request to a small Worker in the same runtime that runs it on the real binding.
//
// Why not Miniflare's getD1Database(): its proxy answers `db.prepare()` and `.bind()`, which must
// return at once, by blocking Node's main thread in Atomics.wait until workerd replies. Under load
// workerd writes log lines faster than they are read; once the stdout pipe to Node is full,
// workerd blocks in write(2) on it, and the only reader of that pipe is the blocked main thread:
// both wait for good (issue 18's bench hang, seen as every port of the runtime timing out). Here
// nothing is synchronous: Node keeps reading workerd's output while it waits for an answer, and
// every request has a time limit.

/** Marks values JSON cannot carry as they are (bytes, undefined). */
type Wire = unknown;

const BYTES = "$stackBytes";
const UNDEFINED = "$stackUndefined";

/** The Worker that runs the statements; `token` keeps other local processes out. */
export function d1WorkerScript(token: string): string {
  return `
const TOKEN = ${JSON.stringify(token)};
function toWire(v) {
  if (v instanceof ArrayBuffer || ArrayBuffer.isView(v)) {
    const bytes = v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    let s = "";
    for (const b of bytes) s += String.fromCharCode(b);
    return { ${JSON.stringify(BYTES)}: btoa(s) };
  }
  if (Array.isArray(v)) return v.map(toWire);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toWire(x)]));
  return v;
}
function fromWire(v) {
  if (v && typeof v === "object" && ${JSON.stringify(UNDEFINED)} in v) return undefined;
  if (v && typeof v === "object" && ${JSON.stringify(BYTES)} in v) return Uint8Array.from(atob(v[${JSON.stringify(BYTES)}]), (c) => c.charCodeAt(0));
  return v;
}
export default {
  async fetch(request, env) {
    if (request.headers.get("x-stack-token") !== TOKEN) return new Response("forbidden", { status: 403 });
    const body = await request.json();
    const prepare = (s) => env.DB.prepare(s.sql).bind(...s.params.map(fromWire));
    try {
      let result;
      if (body.kind === "batch") result = await env.DB.batch(body.statements.map(prepare));
      else if (body.kind === "exec") result = await env.DB.exec(body.sql);
      else if (body.mode === "run") result = await prepare(body.statement).run();
      else if (body.mode === "raw") result = await prepare(body.statement).raw({ columnNames: body.columnNames === true });
      else result = await prepare(body.statement).all();
      return Response.json({ ok: true, result: toWire(result) });
    } catch (err) {
      return Response.json({ ok: false, error: String(err && err.message ? err.message : err) });
    }
  },
};
`;
}

function toWire(v: unknown): Wire {
  if (v === undefined) return { [UNDEFINED]: true };
  if (v instanceof ArrayBuffer || ArrayBuffer.isView(v)) {
    const bytes =
      v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    return { [BYTES]: Buffer.from(bytes).toString("base64") };
  }
  return v;
}

function fromWire(v: unknown): unknown {
  if (v && typeof v === "object" && BYTES in v) {
    const b = Buffer.from(String((v as Record<string, unknown>)[BYTES]), "base64");
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  }
  if (Array.isArray(v)) return v.map(fromWire);
  if (v && typeof v === "object")
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fromWire(x)]));
  return v;
}

type Call =
  | {
      kind: "one";
      mode: "all" | "run" | "raw";
      statement: { sql: string; params: Wire[] };
      columnNames?: boolean;
    }
  | { kind: "batch"; statements: { sql: string; params: Wire[] }[] }
  | { kind: "exec"; sql: string };

class HttpD1Statement {
  private readonly call: (c: Call) => Promise<unknown>;
  readonly sql: string;
  readonly params: unknown[];
  constructor(call: (c: Call) => Promise<unknown>, sql: string, params: unknown[] = []) {
    this.call = call;
    this.sql = sql;
    this.params = params;
  }
  bind(...values: unknown[]): HttpD1Statement {
    return new HttpD1Statement(this.call, this.sql, values);
  }
  wire() {
    return { sql: this.sql, params: this.params.map(toWire) };
  }
  async first<T>(column?: string): Promise<T | null> {
    const r = (await this.call({ kind: "one", mode: "all", statement: this.wire() })) as {
      results: Record<string, unknown>[];
    };
    const row = r.results[0];
    if (!row) return null;
    return (column === undefined ? row : row[column]) as T;
  }
  all() {
    return this.call({ kind: "one", mode: "all", statement: this.wire() });
  }
  run() {
    return this.call({ kind: "one", mode: "run", statement: this.wire() });
  }
  raw(options?: { columnNames?: boolean }) {
    return this.call({
      kind: "one",
      mode: "raw",
      statement: this.wire(),
      columnNames: options?.columnNames === true,
    });
  }
}

/** A D1Database for Node whose every call is an HTTP request to the Worker above. */
export function httpD1(url: string, token: string, timeoutMs = 60_000): D1Database {
  const call = async (c: Call): Promise<unknown> => {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "x-stack-token": token },
      body: JSON.stringify(c),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = (await res.json()) as { ok: boolean; result?: unknown; error?: string };
    if (!body.ok) throw new Error(body.error ?? `D1 over HTTP answered ${res.status}`);
    return fromWire(body.result);
  };
  const db = {
    prepare: (sql: string) => new HttpD1Statement(call, sql),
    batch: (statements: HttpD1Statement[]) =>
      call({ kind: "batch", statements: statements.map((s) => s.wire()) }),
    exec: (sql: string) => call({ kind: "exec", sql }),
  };
  return db as unknown as D1Database;
}
