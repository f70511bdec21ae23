// The Worker behind `npm run bench:scale` (bench/scale.ts): it calls the real @concierge/storage
// functions against a real local D1 and reports what each cost, as D1 itself counts it (the SQL
// time and rows read of every statement, from each result's `meta`), plus the time the calls took
// inside the Worker. Two databases with the same schema: FULL (seeded with a million messages
// over a thousand tenants) and EMPTY (the same two tenants and their accounts, no history).
import * as storage from "@concierge/storage";

type Env = { FULL: D1Database; BASE: D1Database };

/** What D1 reported for the statements one call ran. */
type Cost = { sqlMs: number; rowsRead: number; rowsWritten: number; statements: number };

type Meta = { duration?: number; rows_read?: number; rows_written?: number };

/**
 * A D1Database that adds up the `meta` of every statement run through it. `first()` and `raw()`
 * return no meta, so they are answered through `all()` (the same statement, the same rows).
 */
function metered(db: D1Database, cost: Cost, record?: D1PreparedStatement[]): D1Database {
  const add = (meta: Meta | undefined) => {
    cost.sqlMs += meta?.duration ?? 0;
    cost.rowsRead += meta?.rows_read ?? 0;
    cost.rowsWritten += meta?.rows_written ?? 0;
    cost.statements += 1;
  };
  const inner = new WeakMap<object, D1PreparedStatement>();
  const ran = (stmt: D1PreparedStatement) => record?.push(stmt);
  const wrap = (stmt: D1PreparedStatement): D1PreparedStatement => {
    const w = {
      bind: (...values: unknown[]) => wrap(stmt.bind(...values)),
      async all<T>() {
        ran(stmt);
        const r = await stmt.all<T>();
        add(r.meta as Meta);
        return r;
      },
      async run<T>() {
        ran(stmt);
        const r = await stmt.run<T>();
        add(r.meta as Meta);
        return r;
      },
      async first<T>(column?: string) {
        ran(stmt);
        const r = await stmt.all<Record<string, unknown>>();
        add(r.meta as Meta);
        const row = r.results[0];
        if (row === undefined) return null;
        return (column === undefined ? row : row[column]) as T;
      },
      async raw<T>(options?: { columnNames?: boolean }) {
        ran(stmt);
        const r = await stmt.all<Record<string, unknown>>();
        add(r.meta as Meta);
        const cols = r.results[0] ? Object.keys(r.results[0]) : [];
        const rows = r.results.map((row) => cols.map((c) => row[c]));
        return (options?.columnNames ? [cols, ...rows] : rows) as T;
      },
    } as unknown as D1PreparedStatement;
    inner.set(w, stmt);
    return w;
  };
  return {
    prepare: (sql: string) => wrap(db.prepare(sql)),
    async batch<T>(stmts: D1PreparedStatement[]) {
      const plain = stmts.map((s) => inner.get(s) ?? s);
      for (const s of plain) ran(s);
      const rs = await db.batch<T>(plain);
      for (const r of rs) add(r.meta as Meta);
      return rs;
    },
    exec: (sql: string) => db.exec(sql),
    dump: () => (db as unknown as { dump(): Promise<ArrayBuffer> }).dump(),
    withSession: () => {
      throw new Error("not used by the bench");
    },
  } as unknown as D1Database;
}

/** Names of the tenant the calls are about, its accounts and a few rows of its own. */
type Ctx = {
  tenantId: string;
  /** Its WhatsApp, Instagram and email accounts. */
  accounts: { whatsapp: string; instagram: string; email: string };
  externalId: string;
  userId: string;
  sessionHash: string;
  now: number;
  /** Unique per repetition, so that writes insert a new row each time. */
  seq: number;
};

/**
 * Every dashboard page's storage calls and every per-message statement, by name. Pages are
 * listed with all the calls they make (the dashboard runs them together).
 */
const CASES: Record<string, (db: D1Database, c: Ctx) => Promise<unknown>> = {
  // Dashboard: the overview.
  "overview listAccountActivity": (db, c) => storage.listAccountActivity(db, c.tenantId, c.now),
  "overview tenantInsights": (db, c) => storage.tenantInsights(db, c.tenantId, c.now),
  "overview creditBalance": (db, c) => storage.creditBalance(db, c.tenantId, c.now),
  "overview countGivenUpMessages": (db, c) =>
    storage.countGivenUpMessages(db, c.tenantId, c.now - 7 * storage.DAY_MS),
  "overview listPendingApprovals": (db, c) => storage.listPendingApprovals(db, c.tenantId, c.now),
  "overview listConnectedAccounts": (db, c) => storage.listConnectedAccounts(db, c.tenantId),
  "overview listReplyConfigSummaries": (db, c) => storage.listReplyConfigSummaries(db, c.tenantId),
  // Dashboard: billing.
  "billing listCreditLots": (db, c) => storage.listCreditLots(db, c.tenantId),
  "billing listLedgerPage": (db, c) => storage.listLedgerPage(db, c.tenantId),
  "billing listLedgerPage (page 2)": async (db, c) => {
    const first = await storage.listLedgerPage(db, c.tenantId);
    return storage.listLedgerPage(db, c.tenantId, { before: first.next });
  },
  "billing listPayments": (db, c) => storage.listPayments(db, c.tenantId, { limit: 20 }),
  "billing getCurrentSubscription": (db, c) => storage.getCurrentSubscription(db, c.tenantId),
  // Dashboard: approvals, sessions, settings.
  "approvals listPendingApprovals": (db, c) => storage.listPendingApprovals(db, c.tenantId, c.now),
  "session getLiveSession": (db, c) => storage.getLiveSession(db, c.sessionHash, c.now),
  "settings getTenantSettings": (db, c) => storage.getTenantSettings(db, c.tenantId),
  "settings listChannelTokenStates": (db, c) => storage.listChannelTokenStates(db, c.tenantId),
  "email automaticMailToday": (db, c) => storage.automaticMailToday(db, c.tenantId, c.now),
  // Operator pages.
  "operator searchTenants": (db, c) => storage.searchTenants(db, { limit: 25, now: c.now }),
  "operator searchTenants q": (db, c) => storage.searchTenants(db, { q: c.tenantId, now: c.now }),
  "operator getTenantOverview": (db, c) => storage.getTenantOverview(db, c.tenantId, c.now),
  "operator listAudit": (db) => storage.listAudit(db, { limit: 50 }),
  "operator listAudit tenant": (db, c) => storage.listAudit(db, { tenantId: c.tenantId, limit: 50 }),
  "operator listAudit action": (db) => storage.listAudit(db, { action: "tenant.grant_credits", limit: 50 }),
  "operator listTenantSideEffects": (db, c) => storage.listTenantSideEffects(db, c.tenantId),
  "operator inboundTrafficLastHour": (db, c) => storage.inboundTrafficLastHour(db, c.now),
  "operator stuckAlarms": (db) => storage.stuckAlarms(db),
  "operator safetyBacklog": (db) => storage.safetyBacklog(db),
  "operator countSideEffects": (db) => storage.countSideEffects(db),
  // The live inbox: the tenant's customers of the last day, first page (the dashboard shows 25).
  "inbox listInbox": (db, c) =>
    storage.listInbox(db, c.tenantId, { now: c.now, since: c.now - storage.DAY_MS, limit: 25, offset: 0 }),
  // The daily digest (cron, per tenant): yesterday's counts.
  "digest digestCounts": (db, c) =>
    storage.digestCounts(db, c.tenantId, c.now - storage.DAY_MS, c.now, c.now),
  // Per message.
  "message findIngestTarget": (db, c) => storage.findIngestTarget(db, "whatsapp", c.externalId),
  "message getChannelAccount": (db, c) => storage.getChannelAccount(db, c.accounts.whatsapp),
  "message getReplyConfig": (db, c) => storage.getReplyConfig(db, c.accounts.whatsapp),
  "message inboundMessageRecorded": (db, c) =>
    storage.inboundMessageRecorded(db, c.accounts.email, `new-${c.seq}`),
  "message recordMessages": (db, c) =>
    storage.recordMessages(db, [
      {
        tenantId: c.tenantId,
        accountId: c.accounts.whatsapp,
        channel: "whatsapp",
        direction: "inbound",
        providerMessageId: `bench-in-${c.seq}`,
        conversationId: null,
        senderId: "bench-customer",
        recipientId: "bench",
        action: "canned_reply",
        ruleId: null,
        at: c.now,
      },
      {
        tenantId: c.tenantId,
        accountId: c.accounts.whatsapp,
        channel: "whatsapp",
        direction: "outbound",
        providerMessageId: `bench-out-${c.seq}`,
        conversationId: null,
        senderId: "bench",
        recipientId: "bench-customer",
        action: "canned_reply",
        ruleId: null,
        at: c.now,
      },
    ]),
  "message recordDeliveryStatus": (db, c) =>
    storage.recordDeliveryStatus(db, {
      tenantId: c.tenantId,
      accountId: c.accounts.whatsapp,
      channel: "whatsapp",
      providerMessageId: `bench-out-${c.seq}`,
      status: "delivered",
      at: c.now,
      errorCode: null,
      errorTitle: null,
    }),
  "message debitCredit": (db, c) => storage.debitCredit(db, c.tenantId, `bench-debit-${c.seq}`, c.now),
  "message creditDebit": (db, c) => storage.creditDebit(db, c.tenantId, `bench-debit-${c.seq}`),
  "message restoreCredit": (db, c) => storage.restoreCredit(db, c.tenantId, `bench-debit-${c.seq}`),
  "message creditBalance": (db, c) => storage.creditBalance(db, c.tenantId, c.now),
  "message getPersona": (db, c) => storage.getPersona(db, c.tenantId),
  "message createApproval": (db, c) =>
    storage.createApproval(
      db,
      {
        id: `bench-apr-${c.seq}`,
        tenantId: c.tenantId,
        accountId: c.accounts.whatsapp,
        threadKey: "bench-thread",
        conversationId: null,
        ruleId: null,
        creditRef: `bench-debit-${c.seq}`,
        reasons: [],
      },
      c.now,
    ),
  "message getApproval": (db, c) => storage.getApproval(db, c.tenantId, `bench-apr-${c.seq}`),
  "message createRelay": (db, c) =>
    storage.createRelay(
      db,
      {
        id: `bench-rel-${c.seq}`,
        tenantId: c.tenantId,
        accountId: c.accounts.whatsapp,
        channel: "whatsapp",
        customerId: "bench-customer",
        threadKey: "bench-thread",
        kind: "message",
        approvalId: null,
        providerMessageId: `bench-in-${c.seq}`,
        guildId: "g",
        channelId: "c",
      },
      c.now,
    ),
  "message getRelayByApproval": (db, c) => storage.getRelayByApproval(db, c.tenantId, `bench-apr-${c.seq}`),
  "message createEmailAlias": (db, c) =>
    storage.createEmailAlias(db, {
      tokenHash: `bench-alias-${c.tenantId}-${c.seq}`,
      tenantId: c.tenantId,
      accountId: c.accounts.email,
      originalSender: "a@example.test",
      replyFrom: "reply@example.test",
      forwardedTo: "owner@example.test",
      originalMessageId: "<m@example.test>",
      originalReferences: "",
      createdAt: c.now,
      expiresAt: c.now + 30 * storage.DAY_MS,
    }),
  "message getEmailAlias": (db, c) =>
    storage.getEmailAlias(db, c.accounts.email, `bench-alias-${c.tenantId}-${c.seq}`),
  "message queueNotice": (db, c) =>
    storage.queueNotice(db, { tenantId: c.tenantId, kind: "handoff", channel: "whatsapp" }, c.now),
};

let seq = 0;

/** The cases that write: measured from their statements recorded, not run, then run together. */
const WRITES = new Set([
  "message recordMessages",
  "message recordDeliveryStatus",
  "message debitCredit",
  "message restoreCredit",
  "message createApproval",
  "message createRelay",
  "message createEmailAlias",
  "message queueNotice",
]);

/**
 * A D1Database that runs nothing: it records every bound statement and answers as if each one
 * changed a row, so that a write function takes its usual path once and its statements can be
 * run later, many in one batch.
 */
function recorder(db: D1Database, record: D1PreparedStatement[]): D1Database {
  const answer = {
    success: true,
    results: [],
    meta: { changes: 1, rows_read: 0, rows_written: 0, duration: 0 },
  };
  const inner = new WeakMap<object, D1PreparedStatement>();
  const wrap = (stmt: D1PreparedStatement): D1PreparedStatement => {
    const w = {
      bind: (...values: unknown[]) => wrap(stmt.bind(...values)),
      all: async () => {
        record.push(stmt);
        return answer;
      },
      run: async () => {
        record.push(stmt);
        return answer;
      },
      first: async () => {
        record.push(stmt);
        return null;
      },
      raw: async () => {
        record.push(stmt);
        return [];
      },
    } as unknown as D1PreparedStatement;
    inner.set(w, stmt);
    return w;
  };
  return {
    prepare: (sql: string) => wrap(db.prepare(sql)),
    batch: async (stmts: D1PreparedStatement[]) => {
      for (const s of stmts) record.push(inner.get(s) ?? s);
      return stmts.map(() => answer);
    },
  } as unknown as D1Database;
}

type Group = {
  wallMs: number;
  timeMs: number;
  sqlMs: number;
  rowsRead: number;
  rowsWritten: number;
  statements: number;
};

/**
 * Runs one case on FULL and on BASE and reports, per call, the time the database took for it,
 * D1's own SQL time (each statement's `meta.duration`), rows read and written, and the time one
 * real call took here. Locally every D1 call costs milliseconds of fixed overhead, and the clocks
 * move in whole milliseconds (the Worker's only across I/O, D1's unevenly), so the statements of
 * a call are run many times in one batch, timed as a whole from here and divided: the fixed cost
 * is paid once per batch, and the time is the database's work for those statements.
 * Reads: the call runs once for real, and the statements it ran are replayed. Writes: the call's
 * statements are recorded (not run) for as many distinct calls as are needed, each with its own
 * keys, and run in one batch. `reps` groups on each database, alternately; the caller compares
 * the fastest of each side.
 */
async function measure(env: Env, body: { name: string; ctx: Ctx; reps: number; budgetMs: number }) {
  const call = CASES[body.name];
  if (!call) throw new Error(`unknown case ${body.name}`);
  const write = WRITES.has(body.name);
  const side = async (db: D1Database) => {
    // One real call: what the dashboard or the pipeline pays for it, D1's fixed cost included.
    const recorded: D1PreparedStatement[] = [];
    const t0 = Date.now();
    seq += 1;
    await call(metered(db, { sqlMs: 0, rowsRead: 0, rowsWritten: 0, statements: 0 }, recorded), {
      ...body.ctx,
      seq,
    });
    const wallMs = Date.now() - t0;
    const perCall = recorded.length;
    const statementsFor = (copies: number): D1PreparedStatement[] => {
      if (!write) return Array.from({ length: copies }, () => recorded).flat();
      const out: D1PreparedStatement[] = [];
      for (let i = 0; i < copies; i++) {
        seq += 1;
        void call(recorder(db, out), { ...body.ctx, seq });
      }
      return out;
    };
    const run = async (copies: number): Promise<Group> => {
      const stmts = statementsFor(copies);
      if (write) await new Promise((r) => setTimeout(r, 0)); // the recorder's promises settle
      const t = Date.now();
      const rs = await db.batch(stmts);
      const batchMs = Date.now() - t;
      let sqlMs = 0;
      let rowsRead = 0;
      let rowsWritten = 0;
      for (const r of rs) {
        const m = r.meta as Meta;
        sqlMs += m.duration ?? 0;
        rowsRead += m.rows_read ?? 0;
        rowsWritten += m.rows_written ?? 0;
      }
      return {
        wallMs,
        timeMs: batchMs / copies,
        sqlMs: sqlMs / copies,
        rowsRead: rowsRead / copies,
        rowsWritten: rowsWritten / copies,
        statements: perCall,
      };
    };
    // How many copies fit in the budget of SQL time per group (at most 2,000 statements a batch).
    const maxCopies = Math.max(1, Math.floor(2000 / Math.max(perCall, 1)));
    const warm = await run(Math.min(200, maxCopies));
    const copies = Math.max(1, Math.min(maxCopies, Math.floor(body.budgetMs / Math.max(warm.timeMs, 0.005))));
    return { run: () => run(copies), copies };
  };
  const full = await side(env.FULL);
  const base = await side(env.BASE);
  // Alternately, so that whatever else the machine does weighs on both alike.
  const groups: { full: Group; base: Group }[] = [];
  for (let g = 0; g < body.reps; g++) {
    const b = await base.run();
    const f = await full.run();
    groups.push({ full: f, base: b });
  }
  return Response.json({ ok: true, copies: { full: full.copies, base: base.copies }, groups });
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/cases") return Response.json({ ok: true, names: Object.keys(CASES) });
    if (url.pathname === "/measure" && request.method === "POST") {
      try {
        return await measure(env, await request.json());
      } catch (err) {
        return Response.json(
          {
            ok: false,
            error: { code: "call_failed", message: err instanceof Error ? err.message : String(err) },
          },
          { status: 500 },
        );
      }
    }
    if (url.pathname === "/migrate" && request.method === "POST") {
      // One migration file, split into statements by wrangler's own splitter, in one batch (one
      // transaction), as `wrangler d1 migrations apply` runs it.
      const { db, statements } = (await request.json()) as { db: "FULL" | "BASE"; statements: string[] };
      try {
        await env[db].batch(statements.map((sql) => env[db].prepare(sql)));
        return Response.json({ ok: true });
      } catch (err) {
        return Response.json(
          {
            ok: false,
            error: { code: "migration_failed", message: err instanceof Error ? err.message : String(err) },
          },
          { status: 500 },
        );
      }
    }
    if (url.pathname === "/sql" && request.method === "POST") {
      // Seeding: one statement at a time, its meta returned (rows written, time).
      const { db, sql } = (await request.json()) as { db: "FULL" | "BASE"; sql: string };
      try {
        const r = await env[db].prepare(sql).run();
        return Response.json({ ok: true, meta: r.meta, results: r.results });
      } catch (err) {
        return Response.json(
          {
            ok: false,
            error: { code: "sql_failed", message: err instanceof Error ? err.message : String(err) },
          },
          { status: 500 },
        );
      }
    }
    return Response.json({ ok: false, error: { code: "not_found", message: url.pathname } }, { status: 404 });
  },
};
