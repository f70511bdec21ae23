// A time limit with a diagnosis for the benchmarks and the end-to-end tests (Node side only).
//
// The clock runs on a worker thread, not on the main thread: the hang this exists for (issue 18)
// blocked the main thread itself. Miniflare's proxy answers a synchronous call (`db.prepare()` on
// the D1 binding it hands to Node) by parking the main thread in Atomics.wait until workerd
// replies; workerd, meanwhile, was blocked writing its log lines to a stdout pipe that only that
// main thread drains. Neither moved again, and no timer on the main thread could fire. The thread
// here still can: on timeout it probes every port of the runtime, counts the connections on each,
// reads what each process of the run is blocked in, prints all of it, asks the main thread to
// dispose the stack and exit non-zero, and, if the main thread does not, kills the runtime and
// then the process itself.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, writeSync } from "node:fs";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";

export type WatchdogOptions = {
  /** What is watched, as the first word of the diagnosis ("bench", "e2e email.e2e.test.ts"). */
  name: string;
  /** How long the whole run may take. */
  limitMs: number;
  /** How long each port probe may take. */
  probeTimeoutMs?: number;
  /** How long the main thread has to dispose and exit before the thread kills the run. */
  graceMs?: number;
  /** Runs on the main thread after the diagnosis (e.g. the stack's dispose); bounded by graceMs. */
  onTimeout?: () => Promise<void>;
  /** Ends the process; process.exit unless a test replaces it. */
  exit?: (code: number) => void;
  /** Where the diagnosis goes; stderr unless a test replaces it. */
  write?: (text: string) => void;
};

export type Watchdog = {
  /** Names what the run is doing now; the diagnosis says which phase it was stuck in. */
  phase(name: string): void;
  /** Adds ports to probe on timeout, by name (base URLs). */
  watch(targets: Record<string, string>): void;
  /** Adds work to run on the main thread on timeout before exiting (e.g. a stack's dispose). */
  onTimeout(fn: () => Promise<void>): void;
  /** Ends the watch (the run finished); the process may then exit on its own. */
  stop(): void;
};

/** The exit code of a run the watchdog ended. */
export const WATCHDOG_EXIT_CODE = 3;

let active: Watchdog | undefined;

/** The watchdog of this process, if one runs: scripts/stack.ts reports its ports to it. */
export function currentWatchdog(): Watchdog | undefined {
  return active;
}

type ToThread =
  | { type: "phase"; phase: string; at: number }
  | { type: "targets"; targets: Record<string, string> }
  | { type: "stop" };
type FromThread = { type: "timeout"; diagnosis: string };

export function startWatchdog(opts: WatchdogOptions): Watchdog {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const write = opts.write ?? ((text: string) => process.stderr.write(text));
  const hooks: (() => Promise<void>)[] = opts.onTimeout ? [opts.onTimeout] : [];
  const thread = new Worker(new URL(import.meta.url), {
    // Not the parent's flags (`--input-type`, a test runner's loaders): this file runs as is.
    execArgv: [],
    workerData: {
      conciergeWatchdog: true,
      name: opts.name,
      limitMs: opts.limitMs,
      probeTimeoutMs: opts.probeTimeoutMs ?? 2_000,
      graceMs: opts.graceMs ?? 15_000,
      mainPid: process.pid,
      // The thread writes the diagnosis itself only when the main thread cannot (no `write`).
      writeItself: opts.write === undefined,
    },
  });
  // The watch never keeps a finished run alive.
  thread.unref();
  // A broken watch must not take the run down with it.
  thread.on("error", (err) => write(`${opts.name}: the watchdog failed: ${String(err)}\n`));
  let stopped = false;
  thread.on("message", async (m: FromThread) => {
    if (m.type !== "timeout" || stopped) return;
    if (opts.write) write(m.diagnosis);
    for (const hook of hooks) {
      const limit = new Promise<void>((resolve) => setTimeout(resolve, opts.graceMs ?? 15_000).unref());
      await Promise.race([hook().catch(() => {}), limit]);
    }
    // Usually the end. Where exit does not end the process (a test runner that turns it into an
    // error), the thread's kill path still runs after the grace period; where it returns (a
    // test's own exit), the watch is over.
    exit(WATCHDOG_EXIT_CODE);
    stopped = true;
    void thread.terminate();
    if (active === dog) active = undefined;
  });
  const post = (m: ToThread) => {
    if (!stopped) thread.postMessage(m);
  };
  const dog: Watchdog = {
    phase: (phase) => post({ type: "phase", phase, at: Date.now() }),
    watch: (targets) => post({ type: "targets", targets }),
    onTimeout: (fn) => {
      hooks.push(fn);
    },
    stop: () => {
      if (stopped) return;
      post({ type: "stop" });
      stopped = true;
      void thread.terminate();
      if (active === dog) active = undefined;
    },
  };
  active = dog;
  dog.phase("start");
  return dog;
}

// ---- the diagnosis (exported for the tests; runs on the watchdog's thread) ----

/** GETs each target with its own time limit; one line per target. */
export async function probePorts(targets: Record<string, string>, timeoutMs: number): Promise<string[]> {
  return Promise.all(
    Object.entries(targets).map(async ([name, url]) => {
      const t0 = Date.now();
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
        await res.body?.cancel();
        return `  ${name} ${url}: answered ${res.status} in ${Date.now() - t0} ms`;
      } catch (err) {
        const why =
          err instanceof Error && err.name === "TimeoutError"
            ? `no answer within ${timeoutMs} ms`
            : `failed: ${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)}`;
        return `  ${name} ${url}: ${why}`;
      }
    }),
  );
}

const TCP_STATES: Record<string, string> = {
  "01": "ESTABLISHED",
  "02": "SYN-SENT",
  "03": "SYN-RECV",
  "04": "FIN-WAIT-1",
  "05": "FIN-WAIT-2",
  "06": "TIME-WAIT",
  "07": "CLOSE",
  "08": "CLOSE-WAIT",
  "09": "LAST-ACK",
  "0A": "LISTEN",
  "0B": "CLOSING",
};

/** Connections whose local port is each target's port, by state, from /proc/net/tcp (Linux). */
export function connectionCounts(targets: Record<string, string>, procNet = "/proc/net"): string[] {
  let rows: string[];
  try {
    rows = ["tcp", "tcp6"].flatMap((f) => {
      try {
        return readFileSync(`${procNet}/${f}`, "utf8").split("\n").slice(1);
      } catch {
        return [];
      }
    });
  } catch {
    return ["  (no /proc/net/tcp here: connection counts need Linux)"];
  }
  const byPort = new Map<number, Map<string, number>>();
  for (const row of rows) {
    const cols = row.trim().split(/\s+/);
    if (cols.length < 4) continue;
    const port = Number.parseInt(cols[1]!.split(":")[1] ?? "", 16);
    const state = TCP_STATES[cols[3]!] ?? cols[3]!;
    if (state === "LISTEN") continue;
    const m = byPort.get(port) ?? new Map<string, number>();
    m.set(state, (m.get(state) ?? 0) + 1);
    byPort.set(port, m);
  }
  return Object.entries(targets).map(([name, url]) => {
    const port = Number(new URL(url).port);
    const m = byPort.get(port);
    const counts = m ? [...m].map(([s, n]) => `${n} ${s}`).join(", ") : "none";
    return `  ${name} :${port}: ${counts}`;
  });
}

/** Each process under `rootPid` (and itself): state, the kernel function it sleeps in, its syscall. */
export function processStates(rootPid: number): string[] {
  let pids: number[];
  try {
    const parents = new Map<number, number>();
    for (const name of readdirSync("/proc")) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const stat = readFileSync(`/proc/${name}/stat`, "utf8");
        parents.set(Number(name), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
      } catch {
        // gone meanwhile
      }
    }
    pids = [rootPid];
    for (let i = 0; i < pids.length; i++) {
      for (const [pid, ppid] of parents) if (ppid === pids[i]) pids.push(pid);
    }
  } catch {
    return ["  (no /proc here: process states need Linux)"];
  }
  const read = (file: string) => {
    try {
      return readFileSync(file, "utf8").trim();
    } catch {
      return "?";
    }
  };
  return pids.map((pid) => {
    const stat = read(`/proc/${pid}/stat`);
    const state = stat === "?" ? "?" : stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
    const syscall = read(`/proc/${pid}/syscall`).split(" ");
    // write(2) is syscall 1 on x86-64: a process stuck writing to fd 1 waits for its reader.
    const call =
      syscall[0] === "1"
        ? `write(fd ${Number(syscall[1])}, ${Number(syscall[3])} bytes)`
        : `syscall ${syscall[0]}`;
    return `  pid ${pid} ${read(`/proc/${pid}/comm`)}${pid === rootPid ? " (this process, main thread)" : ""}: state ${state}, waiting in ${read(`/proc/${pid}/wchan`) || "-"}, ${call}`;
  });
}

/** Every descendant of `rootPid` (only those named `comm`, if given), deepest first. */
export function descendants(rootPid: number, comm?: string): number[] {
  const out: number[] = [];
  try {
    const parents = new Map<number, number>();
    for (const name of readdirSync("/proc")) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const stat = readFileSync(`/proc/${name}/stat`, "utf8");
        parents.set(Number(name), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
      } catch {
        // gone meanwhile
      }
    }
    const queue = [rootPid];
    while (queue.length) {
      const p = queue.shift()!;
      for (const [pid, ppid] of parents) {
        if (ppid === p) {
          out.push(pid);
          queue.push(pid);
        }
      }
    }
  } catch {
    // not Linux: pgrep below
    try {
      for (const line of execFileSync("pgrep", ["-P", String(rootPid)], { encoding: "utf8" }).split("\n")) {
        if (line.trim()) out.push(Number(line));
      }
    } catch {
      // none
    }
  }
  const named = (pid: number) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, "utf8").trim() === comm;
    } catch {
      return false;
    }
  };
  return out.reverse().filter((pid) => comm === undefined || named(pid));
}

export async function diagnose(input: {
  name: string;
  limitMs: number;
  phase: string;
  phaseSince: number;
  targets: Record<string, string>;
  probeTimeoutMs: number;
  mainPid: number;
}): Promise<string> {
  const lines = [
    "",
    `${input.name}: no result after ${(input.limitMs / 1000).toFixed(input.limitMs < 10_000 ? 1 : 0)} s (its time limit); stopped by the watchdog`,
    `  phase: ${input.phase} (for ${((Date.now() - input.phaseSince) / 1000).toFixed(1)} s)`,
    // Counted before the probes, which open connections of their own.
    "open connections per port:",
    ...(Object.keys(input.targets).length ? connectionCounts(input.targets) : ["  (none started yet)"]),
    "ports of the runtime (GET each):",
    ...(Object.keys(input.targets).length ? await probePorts(input.targets, input.probeTimeoutMs) : ["  -"]),
    "processes:",
    ...processStates(input.mainPid),
    "",
  ];
  return lines.join("\n");
}

async function runThread(data: {
  name: string;
  limitMs: number;
  probeTimeoutMs: number;
  graceMs: number;
  mainPid: number;
  writeItself: boolean;
}): Promise<void> {
  let phase = "start";
  let phaseSince = Date.now();
  const targets: Record<string, string> = {};
  let timer: ReturnType<typeof setTimeout> | undefined;
  parentPort!.on("message", (m: ToThread) => {
    if (m.type === "phase") {
      phase = m.phase;
      phaseSince = m.at;
    } else if (m.type === "targets") Object.assign(targets, m.targets);
    else if (m.type === "stop") {
      clearTimeout(timer);
      parentPort!.close();
    }
  });
  timer = setTimeout(async () => {
    const diagnosis = await diagnose({ ...data, phase, phaseSince, targets });
    if (data.writeItself) writeSync(2, diagnosis);
    parentPort!.postMessage({ type: "timeout", diagnosis } satisfies FromThread);
    // The main thread disposes and exits. If it cannot (blocked), the runtime goes first, which
    // can unblock it; then, failing that, the whole process.
    setTimeout(() => {
      for (const pid of descendants(data.mainPid)) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // gone
        }
      }
      setTimeout(() => {
        writeSync(2, `${data.name}: the main thread did not exit; killing the process\n`);
        process.kill(data.mainPid, "SIGKILL");
      }, 5_000);
    }, data.graceMs);
  }, data.limitMs);
}

if (!isMainThread && (workerData as { conciergeWatchdog?: boolean } | null)?.conciergeWatchdog) {
  void runThread(workerData);
}
