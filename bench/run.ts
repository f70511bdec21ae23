// `npm run bench`: ingress throughput and delivery accounting on loopback.
// (a) a bare Worker that answers 200, (f) the durable floor (the least a correct ingest must do:
// verify, one Durable Object per customer writing one row, answer) and (b) POST
// /webhook/whatsapp with unique signed messages, in the same runtime, the same run and under the
// same load. Then, after a drain, what the server side recorded: messages accepted, replies
// sent, lost and duplicated. A watchdog ends the run with a diagnosis if it takes too long.
import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import { metaJson, whatsappWebhook } from "@concierge/testing/meta";
import { TEST_SECRETS } from "@concierge/testing/secrets";
import { DEMO } from "@concierge/testing/seed";
import { startWatchdog } from "@concierge/testing/watchdog";
import { startStack } from "../scripts/stack.ts";
import { freePort, profiling, startProfiles } from "./profile.ts";
import { DURABLE_FLOOR_WORKER, durableFloorOptions } from "./floor.ts";

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);
const DURATION = Number(process.env.BENCH_SECONDS ?? 10);
const DRAIN_TIMEOUT_MS = Number(process.env.BENCH_DRAIN_MS ?? 120_000);
// Start-up (bundling, migrations) plus three loads plus the drain, with room to spare.
const LIMIT_MS = Number(process.env.BENCH_LIMIT_S ?? 240 + 3 * DURATION + DRAIN_TIMEOUT_MS / 1000) * 1000;
const watchdog = startWatchdog({ name: "npm run bench (ingress)", limitMs: LIMIT_MS });

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
/** A unique signed message; `floor` ones carry another id prefix, so D1 counts never see them. */
function nextMessage(floor = false) {
  seq += 1;
  const id = `wamid.${floor ? "FLOOR" : "BENCH"}${runTag}${seq}`;
  // One customer per message: every message is its own conversation, the worst case for ingest.
  const pool = Number(process.env.BENCH_CUSTOMERS ?? 0);
  const customer = `7${runTag.length}${String(pool ? seq % pool : seq).padStart(9, "0")}`;
  const body = metaJson(
    whatsappWebhook([
      { phoneNumberId: DEMO.whatsapp.phoneNumberId, from: customer, text: "what are your hours?", id },
    ]),
  );
  const signature = `sha256=${createHmac("sha256", TEST_SECRETS.metaAppSecret).update(body).digest("hex")}`;
  return { id, body, signature, customer };
}

function run(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

/** Unique signed messages at `url` for DURATION, like Meta's deliveries; the ids answered 200 go to `acked`. */
function loadSigned(url: string, acked: Set<string>, floor: boolean): Promise<autocannon.Result> {
  const inFlight = new Map<unknown, { id: string; customer: string }>();
  return run({
    url,
    connections: CONNECTIONS,
    duration: DURATION,
    requests: [
      {
        method: "POST",
        setupRequest: (req, context) => {
          const m = nextMessage(floor);
          inFlight.set(context, m);
          return {
            ...req,
            body: m.body,
            headers: { "content-type": "application/json", "x-hub-signature-256": m.signature },
          };
        },
        onResponse: (status, _body, context) => {
          const m = inFlight.get(context);
          if (m && status === 200) {
            acked.add(m.id);
            if (floor) {
              const key = `${DEMO.whatsapp.phoneNumberId}:${m.customer}`;
              floorIds.set(key, [...(floorIds.get(key) ?? []), m.id]);
            }
          }
        },
      },
    ],
  });
}

/** The floor's acknowledged message ids by its Durable Object's name, to check each has its row. */
const floorIds = new Map<string, string[]>();

watchdog.phase("starting the stack");
const persistDir = mkdtempSync(path.join(process.env.BENCH_STATE_DIR ?? os.tmpdir(), "concierge-bench-"));
const warnings = new Map<string, number>();
const inspectorPort = profiling ? await freePort() : undefined;
const stack = await startStack({
  persistDir,
  inspectorPort,
  demoWaitSeconds: Number(process.env.BENCH_WAIT ?? 0),
  // Every message goes to the one demo number, hundreds a second: Meta lets a number receive 80.
  // The per-number pacing (tested in the pipeline) would hold the replies back for minutes and
  // the bench would measure it, not the pipeline. BENCH_SEND_LIMIT=600 measures it on purpose.
  sendRateLimit: Number(process.env.BENCH_SEND_LIMIT ?? 1_000_000),
  extraWorkers: [
    { name: "bare", script: BARE_WORKER },
    { name: "floor", script: DURABLE_FLOOR_WORKER, options: durableFloorOptions(TEST_SECRETS.metaAppSecret) },
  ],
  quiet: true,
  // The Workers' warnings and errors, counted by event (structured logs), for the report.
  onLog: (line, level) => {
    if (level !== "warn" && level !== "error") return;
    const event = /"event":"([^"]+)"/.exec(line)?.[1] ?? "(unstructured)";
    warnings.set(event, (warnings.get(event) ?? 0) + 1);
  },
});
try {
  const sample = nextMessage(true);
  const bareUrl = `${stack.extraUrls.bare}/`;
  const floorUrl = `${stack.extraUrls.floor}/`;
  const webhookUrl = `${stack.urls["meta-webhooks"]}/webhook/whatsapp`;
  const acknowledged = new Set<string>();
  const floorAcked = new Set<string>();

  // Warm the paths so none pays for first-request compilation inside the measurement.
  watchdog.phase("warm-up");
  await run({ url: bareUrl, connections: 2, amount: 50, method: "POST", body: sample.body });
  await run({
    url: floorUrl,
    connections: 2,
    amount: 50,
    method: "POST",
    body: sample.body,
    headers: { "content-type": "application/json", "x-hub-signature-256": sample.signature },
  });

  watchdog.phase("load (a) bare Worker");
  const bare = summarize(
    await run({
      url: bareUrl,
      connections: CONNECTIONS,
      duration: DURATION,
      method: "POST",
      body: sample.body,
    }),
  );
  watchdog.phase("load (f) durable floor");
  const floor = summarize(await loadSigned(floorUrl, floorAcked, true));
  const floorCheck = (await (
    await fetch(`${floorUrl}check`, {
      method: "POST",
      body: JSON.stringify(Object.fromEntries(floorIds)),
      signal: AbortSignal.timeout(60_000),
    })
  ).json()) as { present: number };
  watchdog.phase("load (b) POST /webhook/whatsapp");
  const stopProfiles = inspectorPort ? await startProfiles(inspectorPort) : null;
  const loadStarted = Date.now();
  const webhook = summarize(await loadSigned(webhookUrl, acknowledged, false));
  await stopProfiles?.();

  // Drain: wait until every acknowledged message has its reply at the fake Graph API and the
  // replies are recorded. Counting outbound rows alone is not enough: messages still in flight
  // when the load stopped (accepted, never acknowledged) are answered too, so their rows could
  // reach the count while an acknowledged message was still being answered, and the bench would
  // call it lost.
  watchdog.phase("drain (waiting for the replies)");
  const started = Date.now();
  const unanswered = () => {
    const answeredIds = new Set(stack.sandbox.graph.sent.map((s) => s.contextMessageId));
    let n = 0;
    for (const id of acknowledged) if (!answeredIds.has(id)) n += 1;
    return n;
  };
  let replies = 0;
  let settledPolls = 0;
  for (;;) {
    const row = await stack.db
      .prepare(
        "SELECT COUNT(*) AS n FROM messages WHERE direction = 'outbound' AND provider_message_id LIKE 'wamid.SANDBOX%'",
      )
      .first<{ n: number }>();
    // Every acknowledged message answered, and the outbound rows either all there or no longer
    // moving: a send whose outcome was unknown to the pipeline (its call timed out under load,
    // though the fake Graph API took it) is rightly recorded without an outbound row.
    settledPolls = row!.n === replies ? settledPolls + 1 : 0;
    replies = row!.n;
    if (unanswered() === 0 && (replies >= acknowledged.size || settledPolls >= 4)) break;
    if (Date.now() - started > DRAIN_TIMEOUT_MS) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const drainMs = Date.now() - started;
  watchdog.phase("counting");

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
  // The floor's throughput is what it acknowledged per second, as for (b).
  const floorRps = floorAcked.size / DURATION;
  const ackRatio = acknowledged.size / DURATION / floorRps;
  // End to end: acknowledged messages answered, over the whole time from the start of (b) to the
  // end of the drain, against the floor's acknowledgements per second.
  const answered = acknowledged.size - lost;
  const endToEndRps = answered / ((Date.now() - loadStarted) / 1000);
  const endToEndRatio = endToEndRps / floorRps;
  const floorLost = floorAcked.size - floorCheck.present;
  const fmt = (r: Result) =>
    `${r.rps.toFixed(0).padStart(7)} req/s   p50 ${String(r.p50).padStart(4)} ms   p99 ${String(r.p99).padStart(4)} ms   (${r.requests} requests, ${r.non2xx} non-2xx, ${r.errors} errors)`;
  console.log(`
Ingress benchmark: ${CONNECTIONS} connections, ${DURATION} s each, loopback, one runtime
  (a) bare Worker                ${fmt(bare)}
  (f) durable floor              ${fmt(floor)}
  (b) POST /webhook/whatsapp     ${fmt(webhook)}
  ratio b/a                      ${ratio.toFixed(2)}
  floor: acknowledged, row found ${floorCheck.present} of ${floorAcked.size}   (lost ${floorLost})
ack ratio vs durable floor: ${ackRatio.toFixed(2)}   (target >= 0.70; acknowledgements/s of (b) over those of (f))
end-to-end ratio vs durable floor: ${endToEndRatio.toFixed(2)}   (${endToEndRps.toFixed(0)} answered/s from the start of (b) to the end of the drain, over (f)'s ${floorRps.toFixed(0)} acknowledgements/s)

After the drain (${(drainMs / 1000).toFixed(1)} s), from server-side records:
  messages acknowledged (200)    ${acknowledged.size}
  messages accepted (D1 inbound) ${inbound!.n}   (includes ${inbound!.n - acknowledged.size} still in flight when the clock stopped)
  replies sent (fake Graph API)  ${stack.sandbox.graph.sent.length}
  replies recorded (D1 outbound) ${replies}
  lost                           ${lost}   (target 0)
  duplicated                     ${duplicated}   (target 0)
  Workers' warnings and errors   ${
    [...warnings]
      .sort((x, y) => y[1] - x[1])
      .map(([event, n]) => `${event} ${n}`)
      .join(", ") || "none"
  }
`);
  process.exitCode = lost === 0 && duplicated === 0 && floorLost === 0 ? 0 : 1;
} finally {
  watchdog.phase("disposing the stack");
  await stack.dispose();
  rmSync(persistDir, { recursive: true, force: true });
  watchdog.stop();
}
