// `npm run bench:cost`: what Cloudflare would bill per 1,000 replies of each kind, counted from
// the runtime's own figures. The stack runs with the meter on (@concierge/core/meter): every D1
// result's meta.rows_read / rows_written, every Durable Object SQL cursor's rowsRead /
// rowsWritten, every call on a Durable Object stub and every alarm, every Worker invocation.
// N canned replies (WhatsApp, a keyword rule), N AI replies (AI_PROVIDER=openai against the
// sandbox's fake model) and N email replies (through email-inbound's email() handler) are driven
// one kind after the other, and each kind's units are the meter's difference across it.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { personaHash } from "@concierge/prompt";
import {
  createChannelAccount,
  createTenant,
  grantCredits,
  recordPersonaVerdict,
  saveReplyConfig,
  savePersona,
} from "@concierge/storage";
import { signedMetaRequest, whatsappWebhook } from "@concierge/testing/meta";
import { TEST_SECRETS } from "@concierge/testing/secrets";
import { DEMO, DEMO_EMAIL } from "@concierge/testing/seed";
import { startWatchdog } from "@concierge/testing/watchdog";
import { startStack } from "../scripts/stack.ts";

/** What each metered Worker's `/__meter` answers (@concierge/core/meter). */
type MeterCounts = {
  requests: number;
  d1Queries: number;
  d1RowsRead: number;
  d1RowsWritten: number;
  doRequests: number;
  doRowsRead: number;
  doRowsWritten: number;
};

const N = Number(process.env.BENCH_COST_MESSAGES ?? 100);
/** Extra tenants (each with a credit grant) seeded before the second AI run. */
const MORE_TENANTS = Number(process.env.BENCH_COST_TENANTS ?? 200);
const LIMIT_MS = Number(process.env.BENCH_LIMIT_S ?? 600) * 1000;
const watchdog = startWatchdog({ name: "npm run bench:cost", limitMs: LIMIT_MS });

// Unit prices, Workers Paid, beyond the monthly allowance, in US$ per unit.
const PRICES = [
  {
    unit: "Worker requests",
    key: "requests",
    perMillion: 0.3,
    url: "https://developers.cloudflare.com/workers/platform/pricing/",
  },
  {
    unit: "Durable Object requests",
    key: "doRequests",
    perMillion: 0.15,
    url: "https://developers.cloudflare.com/durable-objects/platform/pricing/",
  },
  {
    unit: "Durable Object SQLite rows read",
    key: "doRowsRead",
    perMillion: 0.001,
    url: "https://developers.cloudflare.com/durable-objects/platform/pricing/",
  },
  {
    unit: "Durable Object SQLite rows written",
    key: "doRowsWritten",
    perMillion: 1.0,
    url: "https://developers.cloudflare.com/durable-objects/platform/pricing/",
  },
  {
    unit: "D1 rows read",
    key: "d1RowsRead",
    perMillion: 0.001,
    url: "https://developers.cloudflare.com/d1/platform/pricing/",
  },
  {
    unit: "D1 rows written",
    key: "d1RowsWritten",
    perMillion: 1.0,
    url: "https://developers.cloudflare.com/d1/platform/pricing/",
  },
] as const satisfies { unit: string; key: keyof MeterCounts; perMillion: number; url: string }[];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

watchdog.phase("starting the stack");
const persistDir = mkdtempSync(
  path.join(process.env.BENCH_STATE_DIR ?? os.tmpdir(), "concierge-bench-cost-"),
);
const stack = await startStack({
  persistDir,
  demoWaitSeconds: 0,
  // BENCH_LOGS=1 shows the Workers' logs, e.g. to see why a reply did not come.
  quiet: !process.env.BENCH_LOGS,
  ai: "sandbox",
  meter: true,
});
try {
  const db = stack.db;
  const get = async (url: string) => {
    const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
    if (!res.ok) throw new Error(`${url} answered ${res.status}`);
    return res.json();
  };
  const meter = async (): Promise<MeterCounts> => {
    const all = await Promise.all(Object.values(stack.meterUrls).map((u) => get(`${u}/__meter`)));
    const sum = {} as Record<keyof MeterCounts, number>;
    for (const m of all as MeterCounts[]) {
      for (const [k, v] of Object.entries(m) as [string, number][])
        sum[k as keyof MeterCounts] = (sum[k as keyof MeterCounts] ?? 0) + v;
    }
    return sum;
  };

  type Tally = Record<string, { calls: number; rowsRead: number; rowsWritten: number }>;
  const statements = async (): Promise<Tally> => {
    const all = (await Promise.all(
      Object.values(stack.meterUrls).map((u) => get(`${u}/__meter/statements`)),
    )) as Tally[];
    const sum: Tally = {};
    for (const t of all)
      for (const [k, v] of Object.entries(t)) {
        sum[k] ??= { calls: 0, rowsRead: 0, rowsWritten: 0 };
        const s = sum[k];
        s.calls += v.calls;
        s.rowsRead += v.rowsRead;
        s.rowsWritten += v.rowsWritten;
      }
    return sum;
  };
  /** The statements that wrote rows between two tallies, most rows first, per reply. */
  const writers = (before: Tally, after: Tally) =>
    Object.entries(after)
      .map(([sql, a]) => ({
        sql,
        calls: (a.calls - (before[sql]?.calls ?? 0)) / N,
        rowsRead: (a.rowsRead - (before[sql]?.rowsRead ?? 0)) / N,
        rowsWritten: (a.rowsWritten - (before[sql]?.rowsWritten ?? 0)) / N,
      }))
      .filter((w) => w.calls > 0)
      .sort((x, y) => y.rowsWritten - x.rowsWritten);
  const breakdown: Record<string, ReturnType<typeof writers>> = {};

  // The AI account, as bench/ai.ts sets it up: an approved persona, credits, a 0 s buffer.
  const tenantId = DEMO.tenantId;
  const persona = { kind: "raw", prompt: "You are Chai & Co.'s friendly assistant." } as const;
  const hash = await personaHash(persona);
  await savePersona(db, tenantId, persona, hash);
  await recordPersonaVerdict(db, tenantId, hash, "approved", null);
  await grantCredits(db, {
    tenantId,
    amount: 100_000,
    source: "grant",
    reference: `bench-cost-${Date.now()}`,
  });
  const ai = await createChannelAccount(db, { tenantId, channel: "whatsapp", externalId: "880000000101" });
  await saveReplyConfig(db, tenantId, ai.id, {
    wait_seconds: 0,
    rules: [],
    default_rule: { response: { kind: "prompt", text: "Answer kindly." } },
  });
  stack.sandbox.ai.configure({ generateLatencyMs: 20, classifyLatencyMs: 10 });

  const postWhatsApp = async (phoneNumberId: string, from: string, text: string) => {
    const signed = await signedMetaRequest(
      TEST_SECRETS.metaAppSecret,
      whatsappWebhook([{ phoneNumberId, from, text }]),
    );
    const res = await fetch(`${stack.urls["meta-webhooks"]}/webhook/whatsapp`, {
      method: "POST",
      headers: signed.headers,
      body: signed.body,
      signal: AbortSignal.timeout(30_000),
    });
    if (res.status !== 200) throw new Error(`webhook answered ${res.status}`);
  };
  const sendEmail = async (from: string) => {
    const res = await fetch(`${stack.urls.sandbox}/api/email/send`, {
      method: "POST",
      body: JSON.stringify({
        from,
        to: `hello@${DEMO_EMAIL.domain}`,
        subject: "Opening hours?",
        body: "When are you open?",
      }),
      signal: AbortSignal.timeout(30_000),
    });
    const r = (await res.json()) as { ok: boolean; outcome: string };
    if (!r.ok || r.outcome !== "ok") throw new Error(`email send: ${JSON.stringify(r)}`);
  };
  const emailRepliesTo = async (senders: Set<string>) => {
    const r = (await get(`${stack.urls.sandbox}/__sandbox/email/outbox/parsed`)) as {
      messages: { envelopeTo: string }[];
    };
    return r.messages.filter((m) => senders.has(m.envelopeTo)).length;
  };
  const whatsappRepliesTo = (customers: Set<string>) =>
    stack.sandbox.graph.sent.filter((s) => customers.has(s.to)).length;

  /** Sends `n` messages five at a time, waits for their `n` replies, and returns the meter's difference. */
  async function measure(
    kind: string,
    send: (i: number) => Promise<void>,
    replies: () => Promise<number> | number,
  ): Promise<MeterCounts> {
    watchdog.phase(`${kind}: sending ${N}`);
    const before = await meter();
    const tallyBefore = await statements();
    for (let i = 0; i < N; i += 5) {
      await Promise.all(Array.from({ length: Math.min(5, N - i) }, (_, j) => send(i + j)));
    }
    watchdog.phase(`${kind}: waiting for ${N} replies`);
    const end = Date.now() + 120_000;
    while ((await replies()) < N) {
      if (Date.now() > end) throw new Error(`${kind}: ${await replies()} of ${N} replies after 120 s`);
      await sleep(100);
    }
    // What a turn does after its send (recording it, the low-balance check) lands too.
    await sleep(2_000);
    const after = await meter();
    breakdown[kind] = writers(tallyBefore, await statements());
    const delta = {} as Record<keyof MeterCounts, number>;
    for (const k of Object.keys(after) as (keyof MeterCounts)[]) delta[k] = after[k] - (before[k] ?? 0);
    return delta;
  }

  const tag = Date.now().toString(36).slice(-5);
  const cannedCustomers = new Set<string>();
  const canned = await measure(
    "canned",
    (i) => {
      const c = `9171${tag.length}${String(i).padStart(7, "0")}`;
      cannedCustomers.add(c);
      return postWhatsApp(DEMO.whatsapp.phoneNumberId, c, "what are your hours?");
    },
    () => whatsappRepliesTo(cannedCustomers),
  );
  // The same customers again, each with a conversation under way (the idle gap is hours): what
  // most replies cost, the first message of a thread having set its object up.
  const returning = await measure(
    "canned, returning",
    (i) =>
      postWhatsApp(
        DEMO.whatsapp.phoneNumberId,
        `9171${tag.length}${String(i).padStart(7, "0")}`,
        "and on Sunday, hours?",
      ),
    () => whatsappRepliesTo(cannedCustomers) - N,
  );
  const aiRun = async (kind: string, prefix: string) => {
    const customers = new Set<string>();
    return measure(
      kind,
      (i) => {
        const c = `${prefix}${String(i).padStart(7, "0")}`;
        customers.add(c);
        return postWhatsApp(ai.externalId, c, `Do you deliver to Indiranagar? (${c})`);
      },
      () => whatsappRepliesTo(customers),
    );
  };
  const aiFew = await aiRun("AI", "91720");
  const emailSenders = new Set<string>();
  const email = await measure(
    "email",
    (i) => {
      const from = `cost${tag}${i}@customer.example`;
      emailSenders.add(from);
      return sendEmail(from);
    },
    () => emailRepliesTo(emailSenders),
  );

  // The same AI replies with many more tenants, each holding credits: what an AI reply reads in
  // D1 must not grow with them. Measured twice: after MORE_TENANTS, then after five times as
  // many. The first neighbours add a constant (a range read by tenant steps onto the next
  // tenant's first entry to see that the range ended); growth is what the second step shows.
  const tenantCount = async () =>
    ((await db.prepare("SELECT COUNT(*) AS n FROM tenants").first<{ n: number }>())?.n ?? 0) as number;
  const seedTenants = async (from: number, count: number) => {
    watchdog.phase(`seeding ${count} more tenants`);
    for (let i = from; i < from + count; i++) {
      const t = await createTenant(db, TEST_SECRETS.encryptionKey, { name: `Bench tenant ${i}` });
      await grantCredits(db, {
        tenantId: t.id,
        amount: 500,
        source: "grant",
        reference: `bench-cost-${tag}-${i}`,
      });
    }
  };
  const tenantsBefore = await tenantCount();
  await seedTenants(0, MORE_TENANTS);
  const aiMany = await aiRun("AI, more tenants", "91730");
  await seedTenants(MORE_TENANTS, 4 * MORE_TENANTS);
  const aiMost = await aiRun("AI, most tenants", "91740");
  const tenantsMost = await tenantCount();

  // Which D1 statements read more per reply once there are more tenants (the target is none).
  const readsOf = (kind: string) =>
    new Map((breakdown[kind] ?? []).filter((w) => w.sql.startsWith("d1 ")).map((w) => [w.sql, w.rowsRead]));
  const differ = (a: string, b: string) => {
    const x = readsOf(a);
    const y = readsOf(b);
    return [...new Set([...x.keys(), ...y.keys()])]
      .map((sql) => ({ sql, few: x.get(sql) ?? 0, many: y.get(sql) ?? 0 }))
      .filter((g) => Math.abs(g.many - g.few) >= 0.05)
      .sort((p, q) => q.many - q.few - (p.many - p.few));
  };
  const neighbours = differ("AI", "AI, more tenants");
  const grown = differ("AI, more tenants", "AI, most tenants").filter((g) => g.many > g.few);
  const listed = (gs: ReturnType<typeof differ>) =>
    gs
      .map((g) => `  ${g.few.toFixed(1).padStart(6)} ${g.many.toFixed(1).padStart(6)}  ${g.sql}`)
      .join("\n") || "  none";

  const writes = (kind: string) =>
    breakdown[kind]
      ?.filter((w) => w.rowsWritten > 0)
      .map(
        (w) => `  ${w.rowsWritten.toFixed(2).padStart(6)} rows ${w.calls.toFixed(2).padStart(5)}x  ${w.sql}`,
      )
      .join("\n");
  const per1000 = (c: MeterCounts, k: keyof MeterCounts) => (c[k] / N) * 1000;
  const dollars = (c: MeterCounts) =>
    PRICES.reduce((sum, p) => sum + (per1000(c, p.key) * p.perMillion) / 1e6, 0);
  const cols = [
    ["canned", canned],
    ["returning", returning],
    ["AI", aiFew],
    ["email", email],
  ] as const;
  const row = (label: string, f: (c: MeterCounts) => string) =>
    `  ${label.padEnd(36)}${cols.map(([, c]) => f(c).padStart(12)).join("")}`;
  const units: [string, keyof MeterCounts][] = [
    ["Worker requests", "requests"],
    ["Durable Object requests", "doRequests"],
    ["D1 queries (not billed)", "d1Queries"],
    ["D1 rows read", "d1RowsRead"],
    ["D1 rows written", "d1RowsWritten"],
    ["DO SQLite rows read", "doRowsRead"],
    ["DO SQLite rows written", "doRowsWritten"],
  ];
  console.log(`
Cost benchmark: ${N} replies of each kind, units counted by the runtime (per 1,000 replies)
  ${"".padEnd(36)}${cols.map(([k]) => k.padStart(12)).join("")}
${units.map(([label, k]) => row(label, (c) => per1000(c, k).toFixed(0))).join("\n")}

Unit prices (Workers Paid, beyond the monthly allowance):
${PRICES.map((p) => `  ${p.unit.padEnd(36)} $${p.perMillion} per million   ${p.url}`).join("\n")}
  Not counted: Workers CPU time ($0.02 per million CPU ms) and Durable Object duration ($12.50 per
  million GB-s), for which the local runtime gives no per-invocation figure; service-binding calls
  between the Workers, which are not billed as requests.

Rows written per canned reply, by statement (calls per reply, rows per reply):
${writes("canned")}

Rows written per canned reply to a returning customer, by statement:
${writes("canned, returning")}

D1 rows read per AI reply that differ once the tenant has neighbours (${tenantsBefore} tenant(s), ${tenantsBefore + MORE_TENANTS}):
${listed(neighbours)}
D1 rows read per AI reply that grow with the tenants (${tenantsBefore + MORE_TENANTS}, ${tenantsMost}; the target is none):
${listed(grown)}

cost per 1000 canned: $${dollars(canned).toFixed(4)}   (target <= $0.015)
cost per 1000 canned, returning customers: $${dollars(returning).toFixed(4)}
cost per 1000 AI: $${dollars(aiFew).toFixed(4)}   (Cloudflare only; the model's own price is not included)
cost per 1000 email: $${dollars(email).toFixed(4)}
D1 rows read per AI reply: ${(aiFew.d1RowsRead / N).toFixed(1)} with ${tenantsBefore} tenant(s), ${(aiMany.d1RowsRead / N).toFixed(1)} with ${tenantsBefore + MORE_TENANTS}, ${(aiMost.d1RowsRead / N).toFixed(1)} with ${tenantsMost} (target: the same from ${tenantsBefore + MORE_TENANTS} to ${tenantsMost})
`);
} finally {
  watchdog.phase("disposing the stack");
  await stack.dispose();
  rmSync(persistDir, { recursive: true, force: true });
  watchdog.stop();
}
