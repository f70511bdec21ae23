// `npm run bench:scale`: does every dashboard page and every per-message statement stay flat as
// the data grows? One Miniflare (wrangler's own) runs bench/scale-worker.ts with two real local
// D1 databases, both migrated with every file in migrations/: FULL, seeded with 1,000,000
// message rows over 1,000 tenants (Zipf: the largest ~134k rows over a year, the median ~267)
// and proportionate rows in every other growing table, and BASE, small: only the measured
// tenants and the first page of the operator's list, each with one month of history (its share
// of FULL's last 30 days, at least 1,000 messages, and the same proportions of everything else:
// see BASE_MESSAGES). The Worker calls the real @concierge/storage functions on both, for the
// largest and the median tenant, and this script prints, per page or statement,
//   scale ratio <name>: X   (full / base for the largest tenant; then the median tenant's)
// and at the end `scale ratio worst: X`. See bench/README.md.
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { unstable_splitSqlQuery } from "wrangler";

const root = path.join(import.meta.dirname, "..");
const config = path.join(import.meta.dirname, "scale.wrangler.jsonc");
/** Repetitions (groups of calls) per case; the median is reported. */
const REPS = Number(process.env.BENCH_SCALE_REPS ?? 15);
/** Time one group of calls may take; a fast call is repeated inside a group up to this. */
const GROUP_BUDGET_MS = Number(process.env.BENCH_SCALE_GROUP_MS ?? 100);
/** The whole bench stops with a diagnosis after this (a hang must never look like a result). */
const TIME_LIMIT_MS = Number(process.env.BENCH_SCALE_TIME_LIMIT_MS ?? 30 * 60_000);
/** Messages in the seed; the distribution is scaled from it (1M → largest 133,600). */
const MESSAGES = Number(process.env.BENCH_SCALE_MESSAGES ?? 1_000_000);
const TENANTS = 1_000;
/** The measured tenants by rank: the largest and the median. */
const MEASURED = [1, TENANTS / 2];
/**
 * The baseline database BASE holds only the measured tenants and the first page of the
 * operator's tenant list (ranks 1–30), each with one month of history: at least 1,000 messages
 * over the last 30 days (250 ledger entries, 50 approvals, 100 relays, 65 audit entries, …), and
 * as many as the tenant has in FULL's last 30 days when that is more (the largest: ~11,000). So
 * every page and window a statement reads is as full on BASE as on FULL (a bounded statement
 * costs the same on both: the live inbox's last day holds the largest tenant's day of messages
 * on both), and only what grows with the rest of the history (eleven more months, a thousand
 * tenants) shows in the ratio. Against a truly empty table a page of 50 rows costs several times
 * a page of none, which says nothing about scale.
 */
const BASE_MESSAGES = Number(process.env.BENCH_SCALE_BASE_MESSAGES ?? 1000);
const BASE_SPAN_DAYS = 30;

const requireFromWrangler = createRequire(createRequire(import.meta.url).resolve("wrangler/package.json"));
// Only the surface used here; miniflare is wrangler's dependency, not ours.
type MiniflareInstance = {
  ready: Promise<URL>;
  dispose(): Promise<void>;
};
const { Miniflare, convertV4MiniflareOptions } = (await import(requireFromWrangler.resolve("miniflare"))) as {
  Miniflare: new (options: unknown) => MiniflareInstance;
  convertV4MiniflareOptions(options: unknown): unknown;
};

let phase = "starting";
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
let mf: MiniflareInstance | undefined;
const persistDir = mkdtempSync(path.join(process.env.BENCH_STATE_DIR ?? os.tmpdir(), "concierge-scale-"));

function cleanup() {
  rmSync(persistDir, { recursive: true, force: true });
}

// The watchdog: whatever is stuck, the bench ends with what it was doing and a non-zero code.
const watchdog = setTimeout(() => {
  process.stderr.write(
    `bench:scale: time limit of ${TIME_LIMIT_MS / 1000} s reached after ${elapsed()} while ${phase}; ` +
      "the local runtime did not answer in time (see BENCH_SCALE_TIME_LIMIT_MS)\n",
  );
  void mf?.dispose().catch(() => {});
  cleanup();
  process.exit(3);
}, TIME_LIMIT_MS);
watchdog.unref();
// Stopped (Ctrl+C, the bootstrap's stop): the runtime and the databases go too.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    process.stderr.write(`bench:scale: stopped by ${signal} while ${phase}\n`);
    void (mf?.dispose() ?? Promise.resolve())
      .catch(() => {})
      .finally(() => {
        cleanup();
        process.exit(130);
      });
  });
}

/** One request to the Worker, with its own time limit so that no single call can hang the run. */
async function post<T>(base: string, pathname: string, body: unknown, timeoutMs = 10 * 60_000): Promise<T> {
  const res = await fetch(`${base}${pathname}`, {
    method: "POST",
    body: JSON.stringify(body),
    headers: { "content-type": "application/json" },
    signal: AbortSignal.timeout(timeoutMs),
  });
  const json = (await res.json()) as { ok: boolean; error?: { message: string } } & T;
  if (!json.ok) throw new Error(`${pathname}: ${json.error?.message ?? res.status}`);
  return json;
}

const DAY = 86_400_000;
const NOW = Date.now();
/** Message history spans this many days before now. */
const SPAN_DAYS = 365;

/**
 * Seed statements, in order; each one well inside D1's limits (≤ ~140k rows). FULL: every
 * tenant, tenant of rank r with top / r messages. BASE: only the measured tenants and the first
 * list page, each with its share of FULL's last 30 days, at least BASE_MESSAGES messages (and the
 * same proportions of everything else): one page of each list, one window of each.
 */
function seedStatements(db: "FULL" | "BASE"): { label: string; sql: string }[] {
  const full = db === "FULL";
  const fullTop = Math.floor(MESSAGES / harmonic(TENANTS));
  // BASE: FULL's last BASE_SPAN_DAYS of each tenant, never under BASE_MESSAGES.
  const baseShare = BASE_SPAN_DAYS / SPAN_DAYS;
  const top = full ? fullTop : Math.max(BASE_MESSAGES, Math.floor(fullTop * baseShare));
  const span = full ? SPAN_DAYS : BASE_SPAN_DAYS;
  const out: { label: string; sql: string }[] = [];
  const add = (label: string, sql: string) => out.push({ label, sql });
  // Helpers: a sequence 0..top and the tenants with their message counts n = top / rank.
  add("bench_seq", "CREATE TABLE bench_seq (i INTEGER PRIMARY KEY)");
  add(
    "bench_seq rows",
    `INSERT INTO bench_seq WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < ${top}) SELECT i FROM s`,
  );
  add(
    "bench_tenants",
    "CREATE TABLE bench_tenants (rank INTEGER PRIMARY KEY, id TEXT NOT NULL, n INTEGER NOT NULL)",
  );
  add(
    "bench_tenants rows",
    full
      ? `INSERT INTO bench_tenants SELECT i, 't' || substr('0000' || i, -4), ${top} / i FROM bench_seq WHERE i BETWEEN 1 AND ${TENANTS}`
      : `INSERT INTO bench_tenants SELECT i, 't' || substr('0000' || i, -4), MAX(${BASE_MESSAGES}, CAST(${fullTop} * ${baseShare} / i AS INTEGER)) FROM bench_seq
          WHERE i BETWEEN 1 AND 30 OR i IN (${MEASURED.join(", ")})`,
  );
  const t0 = NOW - (SPAN_DAYS + 30) * DAY;
  add(
    "tenants",
    `INSERT INTO tenants (id, name, created_at, digest) SELECT id, 'Tenant ' || rank, ${t0} + rank * 1000, 'daily' FROM bench_tenants`,
  );
  add(
    "channel_accounts",
    `INSERT INTO channel_accounts (id, tenant_id, channel, external_id, created_at)
     SELECT 'a' || t.rank || c.k, t.id, c.channel, 'x' || t.rank || c.k, ${t0} + t.rank * 1000
       FROM bench_tenants t CROSS JOIN (SELECT 'w' AS k, 'whatsapp' AS channel UNION ALL SELECT 'i', 'instagram'
                                        UNION ALL SELECT 'e', 'email') c`,
  );
  // Spread over the history: row i of n is at NOW - (n - i) / n of the span (newest last).
  const at = (n: string, i: string) =>
    `CAST(${NOW} - CAST((${n} - ${i}) AS REAL) * ${span * DAY} / ${n} AS INTEGER)`;
  add(
    "users",
    `INSERT INTO users (id, tenant_id, provider, subject, email, name, created_at)
     SELECT 'u' || t.rank || '_' || s.i, t.id, 'google', 's' || t.rank || '_' || s.i,
            'u' || t.rank || '_' || s.i || '@example.test', 'User', ${t0}
       FROM bench_tenants t JOIN bench_seq s ON s.i <= t.n / 20000`,
  );
  // Sessions: one a day or so for a busy tenant; half of them already expired.
  add(
    "sessions",
    `INSERT INTO sessions (token_hash, user_id, tenant_id, csrf_token, created_at, expires_at)
     SELECT 'h' || t.rank || '_' || s.i, 'u' || t.rank || '_0', t.id, 'c', ${NOW} - s.i * 3600000,
            ${NOW} + CASE WHEN s.i % 2 = 0 THEN ${7 * DAY} ELSE -3600000 END
       FROM bench_tenants t JOIN bench_seq s ON s.i <= t.n / 500`,
  );
  // Lots: one large purchase that pays for every debit, then 20 small grants (a third expired);
  // the ledger's purchase/grant rows set `remaining` through the trigger.
  add(
    "credit_lots",
    `INSERT INTO credit_lots (id, tenant_id, source, granted, remaining, expires_at, created_at)
     SELECT 'l' || t.rank || '_' || s.i, t.id, CASE WHEN s.i = 0 THEN 'purchase' ELSE 'grant' END,
            CASE WHEN s.i = 0 THEN 10000000 ELSE 100 END, 0,
            CASE WHEN s.i = 0 THEN NULL ELSE ${NOW} + (s.i % 3 - 1) * ${30 * DAY} END, ${t0} + s.i * 60000
       FROM bench_tenants t JOIN bench_seq s ON s.i <= 20`,
  );
  add(
    "credit_ledger grants",
    `INSERT INTO credit_ledger (tenant_id, lot_id, delta, reason, reference, created_at)
     SELECT tenant_id, id, granted, source, 'grant:' || id, created_at FROM credit_lots`,
  );
  // AI debits: a quarter of the messages; one in fifty given back.
  for (const [a, b] of full ? rankChunks(top, (n) => n / 4) : [[1, TENANTS]]) {
    add(
      `credit_ledger debits ${a}-${b}`,
      `INSERT INTO credit_ledger (tenant_id, lot_id, delta, reason, reference, created_at)
       SELECT t.id, 'l' || t.rank || '_0', -1, 'ai_reply', 'd' || s.i, ${at("(t.n / 4 + 1)", "s.i")}
         FROM bench_tenants t JOIN bench_seq s ON s.i < t.n / 4 WHERE t.rank BETWEEN ${a} AND ${b}`,
    );
  }
  add(
    "credit_ledger restores",
    `INSERT INTO credit_ledger (tenant_id, lot_id, delta, reason, reference, created_at)
     SELECT tenant_id, lot_id, 1, 'restore', 'restore:' || reference, created_at + 1000 FROM credit_ledger
      WHERE reason = 'ai_reply' AND CAST(substr(reference, 2) AS INTEGER) % 50 = 0`,
  );
  // Approvals: one in twenty messages; the newest three of each tenant still pending.
  add(
    "approvals",
    `INSERT INTO approvals (id, tenant_id, account_id, thread_key, credit_ref, reasons, status, created_at, expires_at, decided_at)
     SELECT 'ap' || t.rank || '_' || s.i, t.id, 'a' || t.rank || 'w', 'k' || s.i, 'd' || s.i, '[]',
            CASE WHEN s.i >= t.n / 20 - 3 THEN 'pending' WHEN s.i % 3 = 0 THEN 'sent'
                 WHEN s.i % 3 = 1 THEN 'rejected' ELSE 'expired' END,
            ${at("(t.n / 20)", "s.i")} - 3600000, ${at("(t.n / 20)", "s.i")} + ${DAY}, NULL
       FROM bench_tenants t JOIN bench_seq s ON s.i < t.n / 20`,
  );
  add(
    "email_aliases",
    `INSERT INTO email_aliases (token_hash, tenant_id, account_id, original_sender, reply_from, forwarded_to,
                                original_message_id, created_at, expires_at)
     SELECT 'ea' || t.rank || '_' || s.i, t.id, 'a' || t.rank || 'e', 'c@example.test', 'r@example.test',
            'o@example.test', '<m' || s.i || '@example.test>', ${at("(t.n / 20)", "s.i")}, ${at("(t.n / 20)", "s.i")} + ${30 * DAY}
       FROM bench_tenants t JOIN bench_seq s ON s.i < t.n / 20`,
  );
  add(
    "discord_relays",
    `INSERT INTO discord_relays (id, tenant_id, account_id, channel, customer_id, thread_key, kind, approval_id,
                                 provider_message_id, guild_id, channel_id, discord_message_id, status, created_at)
     SELECT 'r' || t.rank || '_' || s.i, t.id, 'a' || t.rank || 'w', 'whatsapp', 'c' || (s.i % 500), 'k' || s.i,
            CASE WHEN s.i % 2 = 0 THEN 'approval' ELSE 'message' END,
            CASE WHEN s.i % 2 = 0 THEN 'ap' || t.rank || '_' || (s.i / 2) END, 'm' || s.i, 'g' || t.rank, 'ch',
            'dm' || s.i, 'replied', ${at("(t.n / 10)", "s.i")}
       FROM bench_tenants t JOIN bench_seq s ON s.i < t.n / 10`,
  );
  add(
    "audit_log",
    `INSERT INTO audit_log (at, operator_email, action, tenant_id, target, summary)
     SELECT ${at("(t.n / 200 + 60)", "s.i")}, 'op' || (s.i % 5) || '@example.test',
            CASE s.i % 4 WHEN 0 THEN 'tenant.grant_credits' WHEN 1 THEN 'tenant.suspend'
                         WHEN 2 THEN 'tenant.reactivate' ELSE 'tenant.set_quota' END, t.id, NULL, '{}'
       FROM bench_tenants t JOIN bench_seq s ON s.i < t.n / 200 + 60`,
  );
  add(
    "orders",
    `INSERT INTO orders (id, tenant_id, pack_id, credits, amount, currency, razorpay_order_id, status, created_at, updated_at)
     SELECT 'o' || t.rank || '_' || s.i, t.id, 'inr-100', 100, 49900, 'INR', 'order_' || t.rank || '_' || s.i, 'paid',
            ${at("(t.n / 1000 + 20)", "s.i")}, ${at("(t.n / 1000 + 20)", "s.i")}
       FROM bench_tenants t JOIN bench_seq s ON s.i < t.n / 1000 + 20`,
  );
  add(
    "payments",
    `INSERT INTO payments (id, tenant_id, order_id, kind, credits, amount, currency, status, created_at, updated_at)
     SELECT 'pay_' || substr(id, 2), tenant_id, id, 'credits', 100, 49900, 'INR', 'captured', created_at, updated_at
       FROM orders WHERE id LIKE 'o%'`,
  );
  // Messages: per account in turn, alternately three inbound and three outbound; one inbound in
  // 97 whose reply failed to send, one in 101 whose turn gave up.
  for (const [a, b] of full ? rankChunks(top, (n) => n) : [[1, TENANTS]]) {
    add(
      `messages ${a}-${b}`,
      `INSERT INTO messages (tenant_id, account_id, channel, direction, provider_message_id, sender_id, recipient_id,
                             action, created_at, kind, status)
       SELECT t.id, 'a' || t.rank || substr('wie', s.i % 3 + 1, 1),
              CASE s.i % 3 WHEN 0 THEN 'whatsapp' WHEN 1 THEN 'instagram' ELSE 'email' END,
              CASE WHEN s.i % 6 < 3 THEN 'inbound' ELSE 'outbound' END, 'm' || s.i, 'c' || (s.i % 500), 'b',
              CASE WHEN s.i % 6 >= 3 THEN CASE s.i % 4 WHEN 0 THEN 'ai_reply' WHEN 1 THEN 'handoff' ELSE 'canned_reply' END
                   WHEN s.i % 97 = 0 THEN 'send_failed' WHEN s.i % 101 = 0 THEN 'given_up'
                   ELSE 'canned_reply' END,
              ${at("t.n", "s.i")},
              CASE WHEN s.i % 6 < 3 THEN 'text' END, CASE WHEN s.i % 6 >= 3 THEN 'delivered' END
         FROM bench_tenants t JOIN bench_seq s ON s.i < t.n WHERE t.rank BETWEEN ${a} AND ${b}`,
    );
  }
  // The quarter-hourly cron's mark (migration 0039) from before the last hour: a platform running
  // for a while has one. (The seed's ids do not follow the rows' times, as live ids do, so the
  // health page's traffic reads and counts only what is inserted after it: its cost is what the
  // figure measures here.)
  add(
    "message_marks",
    `INSERT OR REPLACE INTO message_marks (at, max_id) SELECT ${NOW - 2 * 3_600_000}, COALESCE(MAX(id), 0) FROM messages`,
  );
  add("drop bench_seq", "DROP TABLE bench_seq");
  return out;
}

function harmonic(n: number): number {
  let h = 0;
  for (let i = 1; i <= n; i++) h += 1 / i;
  return h;
}

const tenantId = (rank: number) => `t${String(rank).padStart(4, "0")}`;

/** Ranges of tenant ranks whose rows (rows(n) each, n = top / rank) add up to ≤ ~140k. */
function rankChunks(top: number, rows: (n: number) => number): [number, number][] {
  const out: [number, number][] = [];
  let a = 1;
  let sum = 0;
  for (let r = 1; r <= TENANTS; r++) {
    const n = rows(Math.floor(top / r));
    if (sum > 0 && sum + n > 140_000) {
      out.push([a, r - 1]);
      a = r;
      sum = 0;
    }
    sum += n;
  }
  out.push([a, TENANTS]);
  return out;
}

type Group = {
  wallMs: number;
  timeMs: number;
  sqlMs: number;
  rowsRead: number;
  rowsWritten: number;
  statements: number;
};
type Figures = { wallMs: number; timeMs: number; sqlMs: number; rowsRead: number };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function main() {
  const wrangler = path.join(root, "node_modules", ".bin", "wrangler");
  phase = "bundling the bench Worker";
  const outdir = path.join(persistDir, "bundle");
  await promisify(execFile)(wrangler, ["deploy", "--dry-run", "--outdir", outdir, "-c", config], {
    cwd: root,
  });
  console.log(`bench:scale: bundled (${elapsed()})`);
  phase = "starting Miniflare";
  mf = new Miniflare(
    convertV4MiniflareOptions({
      host: "127.0.0.1",
      port: 0,
      cf: false,
      resourcePersistencePath: path.join(persistDir, "v3"),
      workers: [
        {
          name: "bench-scale",
          modules: true,
          scriptPath: path.join(outdir, "scale-worker.js"),
          modulesRoot: outdir,
          compatibilityDate: "2026-11-01",
          d1Databases: { FULL: "bench-scale-full", BASE: "bench-scale-base" },
        },
      ],
    }),
  );
  const base = (await mf.ready).toString().replace(/\/$/, "");
  // Every migration, in order, each file one batch: what `wrangler d1 migrations apply` runs,
  // without starting a runtime per file (minutes on a busy machine).
  const dir = path.join(root, "migrations");
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort();
  for (const db of ["FULL", "BASE"] as const) {
    for (const f of files) {
      phase = `applying ${f} to ${db}`;
      const statements = unstable_splitSqlQuery(readFileSync(path.join(dir, f), "utf8"));
      await post(base, "/migrate", { db, statements });
    }
  }
  console.log(`bench:scale: ${files.length} migrations applied to FULL and BASE (${elapsed()})`);

  const seedStart = Date.now();
  for (const db of ["FULL", "BASE"] as const) {
    for (const s of seedStatements(db)) {
      phase = `seeding ${s.label} in ${db}`;
      const t = Date.now();
      const r = await post<{ meta: { rows_written: number } }>(base, "/sql", { db, sql: s.sql });
      if (process.env.BENCH_SCALE_VERBOSE) {
        console.log(`  ${db}: ${s.label}: ${r.meta.rows_written} rows written in ${Date.now() - t} ms`);
      }
    }
  }
  const top = Math.floor(MESSAGES / harmonic(TENANTS));
  const ranks = MEASURED;
  // What a migrated database gets after its migrations (scripts/migrate, the tests' setup): the
  // planner's statistics, from the rows now there. BENCH_SCALE_OPTIMIZE=0 leaves them out.
  if (process.env.BENCH_SCALE_OPTIMIZE !== "0") {
    phase = "running PRAGMA optimize";
    for (const db of ["FULL", "BASE"]) await post(base, "/sql", { db, sql: "PRAGMA optimize" });
  }
  const counted = await post<{ results: { n: number; big: number; med: number }[] }>(base, "/sql", {
    db: "FULL",
    sql: `SELECT (SELECT COUNT(*) FROM messages) AS n,
                 (SELECT COUNT(*) FROM messages WHERE tenant_id = '${tenantId(1)}') AS big,
                 (SELECT COUNT(*) FROM messages WHERE tenant_id = '${tenantId(TENANTS / 2)}') AS med`,
  });
  const c = counted.results[0]!;
  console.log(
    `bench:scale: seeded ${c.n} messages over ${TENANTS} tenants (largest ${c.big}, median ${c.med}; top ${top}) in ${((Date.now() - seedStart) / 1000).toFixed(0)} s`,
  );

  const { names } = (await (
    await fetch(`${base}/cases`, { signal: AbortSignal.timeout(60_000) })
  ).json()) as {
    names: string[];
  };
  const only = process.env.BENCH_SCALE_ONLY;
  const ctxOf = (rank: number) => ({
    tenantId: tenantId(rank),
    accounts: { whatsapp: `a${rank}w`, instagram: `a${rank}i`, email: `a${rank}e` },
    externalId: `x${rank}w`,
    userId: `u${rank}_0`,
    sessionHash: `h${rank}_0`,
    now: NOW,
    seq: 0,
  });
  type Pair = { full: Group; base: Group };
  const measure = async (name: string, rank: number) => {
    phase = `measuring ${name} for ${tenantId(rank)}`;
    const { groups } = await post<{ groups: Pair[] }>(base, "/measure", {
      name,
      ctx: ctxOf(rank),
      reps: REPS,
      budgetMs: GROUP_BUDGET_MS,
    });
    const fig = (pick: (p: Pair) => Group): Figures => ({
      wallMs: pick(groups[0]!).wallMs,
      timeMs: Math.min(...groups.map((g) => pick(g).timeMs)),
      sqlMs: median(groups.map((g) => pick(g).sqlMs)),
      rowsRead: median(groups.map((g) => pick(g).rowsRead)),
    });
    // The fastest group on each side: the one least disturbed by whatever else the machine ran
    // (the groups alternate, so a busy moment does not fall on one side only).
    const fastest = (pick: (p: Pair) => Group) => Math.min(...groups.map((g) => pick(g).timeMs));
    const ratio =
      fastest((g) => g.full) /
      Math.max(
        fastest((g) => g.base),
        0.0001,
      );
    return { ratio, full: fig((g) => g.full), base: fig((g) => g.base) };
  };
  let worst = { name: "", ratio: 0 };
  const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
  for (const name of names) {
    if (only && !name.includes(only)) continue;
    const big = await measure(name, ranks[0]!);
    const med = await measure(name, ranks[1]!);
    // Every case counts, the daily digest's cron included: its day reads as many rows on BASE as
    // on FULL (BASE holds the tenant's own last month, see BASE_MESSAGES).
    if (big.ratio > worst.ratio) worst = { name, ratio: big.ratio };
    if (med.ratio > worst.ratio) worst = { name: `${name} (median tenant)`, ratio: med.ratio };
    console.log(
      `scale ratio ${name}: ${fmt(big.ratio)} (median tenant ${fmt(med.ratio)}; ${fmt(big.full.timeMs * 1000)} µs vs base ${fmt(big.base.timeMs * 1000)} µs, D1 meta.duration ${fmt(big.full.sqlMs * 1000)} vs ${fmt(big.base.sqlMs * 1000)} µs; rows read ${fmt(big.full.rowsRead)} vs ${fmt(big.base.rowsRead)}, median tenant ${fmt(med.full.rowsRead)}; one call ${fmt(big.full.wallMs)} ms vs ${fmt(big.base.wallMs)} ms)`,
    );
  }
  console.log(`scale ratio worst: ${fmt(worst.ratio)} (${worst.name})`);
  return worst.ratio;
}

let code = 0;
try {
  await main();
} catch (err) {
  process.stderr.write(
    `bench:scale: failed while ${phase}: ${err instanceof Error ? err.stack : String(err)}\n`,
  );
  code = 1;
} finally {
  phase = "stopping Miniflare";
  await mf?.dispose().catch(() => {});
  cleanup();
}
clearTimeout(watchdog);
process.exit(code);
