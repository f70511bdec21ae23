// `npm run bench`: ingress throughput and delivery accounting on loopback.
// (a) a bare Worker that answers 200 and (b) POST /webhook/whatsapp with unique signed messages,
// in the same runtime, the same run and under the same load. Then, after a drain, what the
// server side recorded: messages accepted, replies sent, lost and duplicated.
import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import { metaJson, whatsappWebhook } from "@concierge/testing/meta";
import { TEST_SECRETS } from "@concierge/testing/secrets";
import { DEMO } from "@concierge/testing/seed";
import { startStack } from "../scripts/stack.ts";

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);
const DURATION = Number(process.env.BENCH_SECONDS ?? 10);
const DRAIN_TIMEOUT_MS = Number(process.env.BENCH_DRAIN_MS ?? 120_000);

const BARE_WORKER = `export default { async fetch() { return new Response("ok"); } };`;

type Result = { rps: number; p50: number; p99: number; requests: number; non2xx: number; errors: number };

function summarize(r: autocannon.Result): Result {
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    requests: r.requests.total,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
  };
}

let seq = 0;
const runTag = Date.now().toString(36);
function nextMessage() {
  seq += 1;
  const id = `wamid.BENCH${runTag}${seq}`;
  // One customer per message: every message is its own conversation, the worst case for ingest.
  const pool = Number(process.env.BENCH_CUSTOMERS ?? 0);
  const customer = `7${runTag.length}${String(pool ? seq % pool : seq).padStart(9, "0")}`;
  const body = metaJson(
    whatsappWebhook([
      { phoneNumberId: DEMO.whatsapp.phoneNumberId, from: customer, text: "what are your hours?", id },
    ]),
  );
  const signature = `sha256=${createHmac("sha256", TEST_SECRETS.metaAppSecret).update(body).digest("hex")}`;
  return { id, body, signature };
}

function run(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

const persistDir = mkdtempSync(path.join(process.env.BENCH_STATE_DIR ?? os.tmpdir(), "concierge-bench-"));
const stack = await startStack({
  persistDir,
  demoWaitSeconds: Number(process.env.BENCH_WAIT ?? 0),
  extraWorkers: [{ name: "bare", script: BARE_WORKER }],
  quiet: true,
});
try {
  const sample = nextMessage();
  const bareUrl = `${stack.extraUrls.bare}/`;
  const webhookUrl = `${stack.urls["meta-webhooks"]}/webhook/whatsapp`;
  const acknowledged = new Set<string>();
  const inFlight = new Map<unknown, string>();

  // Warm both paths so neither pays for first-request compilation inside the measurement.
  await run({ url: bareUrl, connections: 2, amount: 50, method: "POST", body: sample.body });

  const bare = summarize(
    await run({
      url: bareUrl,
      connections: CONNECTIONS,
      duration: DURATION,
      method: "POST",
      body: sample.body,
    }),
  );
  const webhook = summarize(
    await run({
      url: webhookUrl,
      connections: CONNECTIONS,
      duration: DURATION,
      requests: [
        {
          method: "POST",
          setupRequest: (req, context) => {
            const m = nextMessage();
            inFlight.set(context, m.id);
            return {
              ...req,
              body: m.body,
              headers: { "content-type": "application/json", "x-hub-signature-256": m.signature },
            };
          },
          onResponse: (status, _body, context) => {
            const id = inFlight.get(context);
            if (id && status === 200) acknowledged.add(id);
          },
        },
      ],
    }),
  );

  // Drain: wait until every acknowledged message has its turn recorded (replies stop changing).
  const started = Date.now();
  let replies = 0;
  for (;;) {
    const row = await stack.db
      .prepare(
        "SELECT COUNT(*) AS n FROM messages WHERE direction = 'outbound' AND provider_message_id LIKE 'wamid.SANDBOX%'",
      )
      .first<{ n: number }>();
    replies = row!.n;
    if (replies >= acknowledged.size || Date.now() - started > DRAIN_TIMEOUT_MS) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const drainMs = Date.now() - started;

  const inbound = await stack.db
    .prepare("SELECT COUNT(*) AS n FROM messages WHERE direction = 'inbound' AND provider_message_id LIKE ?")
    .bind(`wamid.BENCH${runTag}%`)
    .first<{ n: number }>();
  const perMessage = new Map<string, number>();
  for (const s of stack.sandbox.graph.sent) {
    if (s.contextMessageId) perMessage.set(s.contextMessageId, (perMessage.get(s.contextMessageId) ?? 0) + 1);
  }
  let lost = 0;
  for (const id of acknowledged) if (!perMessage.has(id)) lost += 1;
  let duplicated = 0;
  for (const n of perMessage.values()) if (n > 1) duplicated += n - 1;

  const ratio = webhook.rps / bare.rps;
  const fmt = (r: Result) =>
    `${r.rps.toFixed(0).padStart(7)} req/s   p50 ${String(r.p50).padStart(4)} ms   p99 ${String(r.p99).padStart(4)} ms   (${r.requests} requests, ${r.non2xx} non-2xx, ${r.errors} errors)`;
  console.log(`
Ingress benchmark: ${CONNECTIONS} connections, ${DURATION} s each, loopback, one runtime
  (a) bare Worker                ${fmt(bare)}
  (b) POST /webhook/whatsapp     ${fmt(webhook)}
  ratio b/a                      ${ratio.toFixed(2)}   (target >= 0.50)

After the drain (${(drainMs / 1000).toFixed(1)} s), from server-side records:
  messages acknowledged (200)    ${acknowledged.size}
  messages accepted (D1 inbound) ${inbound!.n}   (includes ${inbound!.n - acknowledged.size} still in flight when the clock stopped)
  replies sent (fake Graph API)  ${stack.sandbox.graph.sent.length}
  replies recorded (D1 outbound) ${replies}
  lost                           ${lost}   (target 0)
  duplicated                     ${duplicated}   (target 0)
`);
  process.exitCode = lost === 0 && duplicated === 0 ? 0 : 1;
} finally {
  await stack.dispose();
  rmSync(persistDir, { recursive: true, force: true });
}
