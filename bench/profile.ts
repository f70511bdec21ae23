// Where the runtime's one thread goes during a bench phase (`BENCH_PROFILE=1`): a V8 CPU profile
// of every Worker's isolate, taken through workerd's inspector (the DevTools protocol over a
// WebSocket: Profiler.start / Profiler.stop), summed per function. Locally every Worker, Durable
// Object and D1 share one thread, so this is what the latency and throughput ratios are made of.
// The sampler slows the runtime down: a profiled run's figures are not the bench's figures.
import { createServer } from "node:net";

/** The interval between samples, µs. */
const SAMPLE_US = 100;

type CallFrame = { functionName: string; url: string; lineNumber: number };
type ProfileNode = { id: number; callFrame: CallFrame; children?: number[] };
/** `timeDeltas[i]`: µs between sample i-1 and sample i (V8 samples less often than asked when busy). */
type CpuProfile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
type Target = { title: string; webSocketDebuggerUrl: string };

/** Whether BENCH_PROFILE asks for a profile. */
export const profiling = process.env.BENCH_PROFILE === "1";

/** A free local port for the runtime's inspector. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject()));
    });
  });
}

/** How long one inspector request may take. */
const REQUEST_MS = 30_000;

/** One inspector session: a request and its answer by id; an error, a closed socket or no answer rejects. */
async function session(target: Target) {
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error(`inspector of ${target.title}: could not connect`));
  });
  let next = 0;
  const waiting = new Map<number, { resolve: (result: unknown) => void; reject: (err: Error) => void }>();
  ws.onmessage = (e) => {
    const m = JSON.parse(String(e.data)) as { id?: number; result?: unknown; error?: { message?: string } };
    const w = m.id === undefined ? undefined : waiting.get(m.id);
    if (!w || m.id === undefined) return;
    waiting.delete(m.id);
    if (m.error) w.reject(new Error(`inspector of ${target.title}: ${m.error.message ?? "error"}`));
    else w.resolve(m.result);
  };
  ws.onclose = () => {
    for (const w of waiting.values()) w.reject(new Error(`inspector of ${target.title}: closed`));
    waiting.clear();
  };
  const send = <T>(method: string, params: object = {}) =>
    new Promise<T>((resolve, reject) => {
      next += 1;
      const id = next;
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error(`inspector of ${target.title}: no answer to ${method}`));
      }, REQUEST_MS);
      const done = () => clearTimeout(timer);
      waiting.set(id, {
        resolve: (r) => {
          done();
          resolve(r as T);
        },
        reject: (err) => {
          done();
          reject(err);
        },
      });
      ws.send(JSON.stringify({ id, method, params }));
    });
  return { title: target.title, send, close: () => ws.close() };
}

/** Self and total time per function of one profile, ms, the heaviest first. */
export function summarize(profile: CpuProfile, top = 25) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  // Each sample weighs the time since the one before it (µs; V8 samples less often than asked
  // when the thread is busy), up to twice the interval: a longer gap is time the thread spent
  // outside this isolate (in another Worker, or waiting), which belongs to no function here.
  const hits = new Map<number, number>();
  for (const [i, id] of profile.samples.entries()) {
    const weight = Math.min(profile.timeDeltas[i] ?? SAMPLE_US, 2 * SAMPLE_US);
    hits.set(id, (hits.get(id) ?? 0) + weight);
  }
  const name = (f: CallFrame) =>
    `${f.functionName || "(anonymous)"} ${f.url.split("/").slice(-1)[0] || "(native)"}:${f.lineNumber + 1}`;
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  // Total: a function's own samples and everything it called, counted once per call path even
  // when it recurses.
  const walk = (id: number, onPath: Set<string>): number => {
    const node = byId.get(id)!;
    const key = name(node.callFrame);
    const own = hits.get(id) ?? 0;
    self.set(key, (self.get(key) ?? 0) + own);
    const first = !onPath.has(key);
    if (first) onPath.add(key);
    let sum = own;
    for (const child of node.children ?? []) sum += walk(child, onPath);
    if (first) {
      total.set(key, (total.get(key) ?? 0) + sum);
      onPath.delete(key);
    }
    return sum;
  };
  const root = profile.nodes[0];
  if (root) walk(root.id, new Set());
  const ms = (us: number) => us / 1000;
  const sampled = [...hits.values()].reduce((a, b) => a + b, 0);
  const heaviest = (m: Map<string, number>) =>
    [...m]
      .filter(([k]) => !k.startsWith("(root)") && !k.startsWith("(idle)") && !k.startsWith("(program)"))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, n]) => ({ fn: k, ms: ms(n) }));
  return { sampledMs: ms(sampled), self: heaviest(self), total: heaviest(total) };
}

/**
 * Starts profiling every isolate the inspector on `port` lists; the function it returns stops
 * them and prints, per isolate with samples, its busiest functions by self and by total time.
 */
export async function startProfiles(port: number): Promise<() => Promise<void>> {
  const targets = (await (
    await fetch(`http://127.0.0.1:${port}/json/list`, { signal: AbortSignal.timeout(10_000) })
  ).json()) as Target[];
  const opened = await Promise.allSettled(targets.map(session));
  const sessions = opened.flatMap((o) => (o.status === "fulfilled" ? [o.value] : []));
  const closeAll = () => {
    for (const s of sessions) s.close();
  };
  const failed = opened.find((o) => o.status === "rejected");
  if (failed) {
    closeAll();
    throw failed.reason;
  }
  try {
    for (const s of sessions) {
      await s.send("Profiler.enable");
      await s.send("Profiler.setSamplingInterval", { interval: SAMPLE_US });
      await s.send("Profiler.start");
    }
  } catch (err) {
    closeAll();
    throw err;
  }
  return async () => {
    const lines: string[] = [];
    try {
      for (const s of sessions) {
        const { profile } = await s.send<{ profile: CpuProfile }>("Profiler.stop");
        const sum = summarize(profile, 15);
        const busy = sum.self.reduce((n, f) => n + f.ms, 0);
        if (busy < 5) continue;
        lines.push(`\nCPU profile, ${s.title} (${sum.sampledMs.toFixed(0)} ms sampled)`);
        lines.push("  self ms  function");
        for (const f of sum.self) lines.push(`  ${f.ms.toFixed(1).padStart(7)}  ${f.fn}`);
        lines.push("  total ms  function");
        for (const f of sum.total) lines.push(`  ${f.ms.toFixed(1).padStart(8)}  ${f.fn}`);
      }
    } finally {
      closeAll();
    }
    // The bench's own report on its terminal (function names and times only), like its ratios.
    process.stdout.write(`${lines.join("\n")}\n`);
  };
}
