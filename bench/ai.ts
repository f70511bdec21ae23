// The AI path under a fake model with a fixed latency: generation takes L, the injection scan
// L/2. Reports end-to-end time from webhook to reply over L (target <= 1.05, issue 18: the scan runs
// alongside generation, so it adds nothing) and AI calls per turn under bursts (target 1).
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { signedMetaRequest, whatsappWebhook } from "@concierge/testing/meta";
import { TEST_SECRETS } from "@concierge/testing/secrets";
import { DEMO } from "@concierge/testing/seed";
import { startWatchdog } from "@concierge/testing/watchdog";
import {
  createChannelAccount,
  grantCredits,
  recordPersonaVerdict,
  saveReplyConfig,
  savePersona,
} from "@concierge/storage";
import { personaHash } from "@concierge/prompt";
import { startStack } from "../scripts/stack.ts";
import { freePort, profiling, startProfiles } from "./profile.ts";

const L = Number(process.env.BENCH_AI_LATENCY_MS ?? 500);
const MESSAGES = Number(process.env.BENCH_AI_MESSAGES ?? 30);
const BURST_CUSTOMERS = Number(process.env.BENCH_AI_BURSTS ?? 10);
const BURST_SIZE = 5;
const watchdog = startWatchdog({
  name: "npm run bench (AI path)",
  limitMs: Number(process.env.BENCH_LIMIT_S ?? 600) * 1000,
});

watchdog.phase("starting the stack");
const persistDir = mkdtempSync(path.join(os.tmpdir(), "concierge-bench-ai-"));
const inspectorPort = profiling ? await freePort() : undefined;
const stack = await startStack({ persistDir, demoWaitSeconds: 0, quiet: true, ai: "sandbox", inspectorPort });
try {
  const db = stack.db;
  const tenantId = DEMO.tenantId;
  const persona = { kind: "raw", prompt: "You are Chai & Co.'s friendly assistant." } as const;
  const hash = await personaHash(persona);
  await savePersona(db, tenantId, persona, hash);
  await recordPersonaVerdict(db, tenantId, hash, "approved", null);
  await grantCredits(db, { tenantId, amount: 10_000, source: "grant", reference: `bench-ai-${Date.now()}` });
  const aiConfig = (wait: number) => ({
    wait_seconds: wait,
    rules: [],
    default_rule: { response: { kind: "prompt", text: "Answer kindly." } },
  });
  const fast = await createChannelAccount(db, { tenantId, channel: "whatsapp", externalId: "880000000001" });
  await saveReplyConfig(db, tenantId, fast.id, aiConfig(0));
  const bursty = await createChannelAccount(db, {
    tenantId,
    channel: "whatsapp",
    externalId: "880000000002",
  });
  await saveReplyConfig(db, tenantId, bursty.id, aiConfig(2));
  stack.sandbox.ai.configure({ generateLatencyMs: L, classifyLatencyMs: L / 2 });

  const post = async (phoneNumberId: string, from: string, text: string) => {
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
  const replyTo = async (to: string, after: number, timeoutMs = 30_000) => {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      const hit = stack.sandbox.graph.sent.find((s) => s.to === to && s.at >= after);
      if (hit) return hit.at;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`no reply to ${to}`);
  };

  // 1. Latency: one message per customer, a few at a time.
  watchdog.phase("latency: one message per customer, five at a time");
  const stopProfiles = inspectorPort ? await startProfiles(inspectorPort) : null;
  const ratios: number[] = [];
  const before: number[] = [];
  const after: number[] = [];
  for (let i = 0; i < MESSAGES; i += 5) {
    await Promise.all(
      Array.from({ length: Math.min(5, MESSAGES - i) }, async (_, j) => {
        const customer = `9170000${String(i + j).padStart(5, "0")}`;
        const t0 = Date.now();
        const text = `Do you deliver to Indiranagar? (${customer})`;
        await post(fast.externalId, customer, text);
        const at = await replyTo(customer, t0);
        ratios.push((at - t0) / L);
        const gen = stack.sandbox.ai.calls.find((c) => c.kind === "generate" && c.userText === text);
        if (gen) {
          before.push(gen.startedAt - t0);
          after.push(at - gen.endedAt);
        }
      }),
    );
  }
  ratios.sort((a, b) => a - b);
  const pct = (p: number) => ratios[Math.min(ratios.length - 1, Math.floor(p * ratios.length))]!;
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

  await stopProfiles?.();

  // 2. Bursts: five quick messages per customer inside the 2 s reply buffer.
  watchdog.phase("bursts within the reply buffer");
  const callsBefore = stack.sandbox.ai.calls.length;
  const burstCustomers = Array.from(
    { length: BURST_CUSTOMERS },
    (_, i) => `9180000${String(i).padStart(5, "0")}`,
  );
  const t1 = Date.now();
  await Promise.all(
    burstCustomers.map(async (c) => {
      for (let k = 0; k < BURST_SIZE; k++) await post(bursty.externalId, c, `burst message ${k}`);
    }),
  );
  await Promise.all(burstCustomers.map((c) => replyTo(c, t1)));
  await new Promise((r) => setTimeout(r, 2500));
  const gens = stack.sandbox.ai.calls.slice(callsBefore).filter((c) => c.kind === "generate").length;
  const replies = stack.sandbox.graph.sent.filter((s) => burstCustomers.includes(s.to) && s.at >= t1).length;

  console.log(`
AI path benchmark: fake model, generation L = ${L} ms, injection scan L/2 = ${L / 2} ms
  end-to-end (webhook to reply) / L   p50 ${pct(0.5).toFixed(2)}   p90 ${pct(0.9).toFixed(2)}   max ${ratios[ratios.length - 1]!.toFixed(2)}   (target p50 <= 1.05; ${ratios.length} messages)
  pipeline's own time, median           ${median(before)} ms before the model is called, ${median(after)} ms from its answer to the send
  bursts of ${BURST_SIZE} within the reply buffer  ${BURST_CUSTOMERS} customers: ${gens} AI generations, ${replies} replies   (${(gens / BURST_CUSTOMERS).toFixed(2)} AI calls per turn; target 1)
`);
  process.exitCode = gens === BURST_CUSTOMERS && replies === BURST_CUSTOMERS ? 0 : 1;
} finally {
  watchdog.phase("disposing the stack");
  await stack.dispose();
  rmSync(persistDir, { recursive: true, force: true });
  watchdog.stop();
}
