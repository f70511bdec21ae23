// `npm start` stops cleanly: a signal to the npm process alone (`npm start & … kill $!`) ends every
// process it started, workerd included, and frees its ports within 10 s; Ctrl+C (SIGINT to the
// terminal's foreground job) does the same; a second `npm start` right after works.
// It runs the real `npm start` from the repository root: the fixed ports of scripts/dev.ts and
// .local/state, exactly as a developer does, so no other `npm start` may be running meanwhile.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";

const root = path.join(import.meta.dirname, "..");
// scripts/dev.ts binds these: the dashboard, meta-webhooks, discord-interactions, email-inbound
// and the sandbox. Miniflare's own entry and loopback ports are random: they go with workerd, which
// is checked below with every other process `npm start` started.
const FIXED_PORTS = [8787, 8788, 8789, 8790, 8799];
const RANGE = Array.from({ length: 13 }, (_, i) => 8787 + i);

type Proc = { pid: number; ppid: number; pgid: number; state: string; args: string };

function processes(): Proc[] {
  return execFileSync("ps", ["-A", "-o", "pid=,ppid=,pgid=,stat=,args="], { encoding: "utf8" })
    .split("\n")
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(line))
    .filter((m) => m !== null)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), pgid: Number(m[3]), state: m[4]!, args: m[5]! }));
}

/** Still running: present and not a zombie (one that nothing reaped is as good as gone). */
const running = (p: Proc) => !p.state.startsWith("Z");

function descendants(pid: number): Proc[] {
  const all = processes();
  const found: Proc[] = [];
  let frontier = [pid];
  while (frontier.length > 0) {
    const children = all.filter((p) => frontier.includes(p.ppid) && running(p));
    found.push(...children);
    frontier = children.map((p) => p.pid);
  }
  return found;
}

/** Free when a server can bind it, as the next `npm start` will. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

async function busyPorts(ports: number[]): Promise<number[]> {
  const busy: number[] = [];
  for (const port of ports) if (!(await portFree(port))) busy.push(port);
  return busy;
}

const ownGroup = () => processes().find((p) => p.pid === process.pid)!.pgid;

type Started = { npm: ChildProcess; output: () => string; tree: Proc[]; ports: number[] };

const started: Started[] = [];

/**
 * `npm start` as a script runs `npm start &`: in this runner's process group, so that stopping
 * the runner (Ctrl+C on `npm test`) reaches it too.
 */
async function npmStart(): Promise<Started> {
  expect(await busyPorts(FIXED_PORTS), "ports of a running `npm start`: stop it first").toEqual([]);
  // The environment of a new shell: no runner variables, and no node_modules/.bin on PATH, whose
  // `node` (a shell shim) would otherwise run npm itself one process further down.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(VITEST|TEST$|NODE_ENV$)/.test(k)),
  );
  env.PATH = (env.PATH ?? "")
    .split(path.delimiter)
    .filter((dir) => !dir.includes(`node_modules${path.sep}.bin`))
    .join(path.delimiter);
  const npm = spawn("npm", ["start"], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  npm.stdout!.on("data", (d) => (out += d));
  npm.stderr!.on("data", (d) => (out += d));
  const entry: Started = { npm, output: () => out, tree: [], ports: [] };
  started.push(entry);

  const deadline = Date.now() + 240_000;
  while (!out.includes("Press Ctrl+C to stop.")) {
    if (npm.exitCode !== null || Date.now() > deadline) throw new Error(`npm start did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  // Every printed URL answers.
  const urls = [...new Set(out.match(/http:\/\/127\.0\.0\.1:\d+\S*/g) ?? [])];
  expect(urls.length).toBeGreaterThanOrEqual(FIXED_PORTS.length);
  for (const url of urls) expect((await fetch(url, { redirect: "manual" })).status, url).toBeLessThan(500);

  entry.tree = descendants(npm.pid!);
  entry.ports = RANGE.filter((port) => urls.some((u) => new URL(u).port === String(port)));
  expect(entry.ports).toEqual(FIXED_PORTS);
  expect(await busyPorts(RANGE)).toEqual(FIXED_PORTS);
  expect(entry.tree.filter((p) => /\bworkerd\b/.test(p.args)).length, "workerd runs").toBeGreaterThan(0);
  return entry;
}

/** What is still up of a stopped `npm start`, polled until nothing is or 10 s have passed. */
async function leftoversAfterStop(entry: Started, stoppedAt: number) {
  // Whatever the task's own process groups (not this runner's) hold, workerd restarted included.
  const pgids = new Set(entry.tree.map((p) => p.pgid).filter((g) => g !== process.pid && g !== ownGroup()));
  for (;;) {
    const alive = processes().filter(
      (p) =>
        running(p) &&
        (p.pid === entry.npm.pid || entry.tree.some((t) => t.pid === p.pid) || pgids.has(p.pgid)),
    );
    const ports = await busyPorts(entry.ports);
    if ((alive.length === 0 && ports.length === 0) || Date.now() - stoppedAt > 10_000)
      return { alive: alive.map((p) => `${p.pid} ${p.state} ${p.args}`), ports, ms: Date.now() - stoppedAt };
    await new Promise((r) => setTimeout(r, 100));
  }
}

afterAll(() => {
  // A failed run must not leave the stack up for the next test file.
  const now = processes().filter(running);
  for (const { npm, tree } of started) {
    if (npm.exitCode === null && npm.signalCode === null) npm.kill("SIGKILL");
    for (const p of now.filter((p) => tree.some((t) => t.pid === p.pid && t.args === p.args)))
      process.kill(p.pid, "SIGKILL");
  }
});

describe("npm start", () => {
  it("stops on SIGTERM to the npm process: every process it started ends and the ports are free within 10 s; a second npm start works and stops on Ctrl+C", async () => {
    const first = await npmStart();
    const stoppedAt = Date.now();
    process.kill(first.npm.pid!, "SIGTERM");
    const left = await leftoversAfterStop(first, stoppedAt);
    expect(left, first.output()).toEqual({ alive: [], ports: [], ms: expect.any(Number) });
    expect(left.ms).toBeLessThan(10_000);

    // Right after: the same ports, the same state, and Ctrl+C, which the terminal sends as SIGINT
    // to every process of the foreground job: npm, its shells and scripts/bootstrap.mjs (which
    // runs the rest in a process group of its own).
    const second = await npmStart();
    const job = [second.npm.pid!, ...second.tree.filter((p) => p.pgid === ownGroup()).map((p) => p.pid)];
    expect(job.length).toBeGreaterThanOrEqual(2);
    const interruptedAt = Date.now();
    for (const pid of job) process.kill(pid, "SIGINT");
    const leftAgain = await leftoversAfterStop(second, interruptedAt);
    expect(leftAgain, second.output()).toEqual({ alive: [], ports: [], ms: expect.any(Number) });
    expect(leftAgain.ms).toBeLessThan(10_000);
    // What scripts/dev.ts says on the way out (the pipe may still hold it for a moment).
    await vi
      .waitUntil(() => second.output().includes("stopping Concierge…"), { timeout: 2_000 })
      .catch(() => {});
    expect(second.output()).toContain("stopping Concierge…");
  }, 600_000);
});
