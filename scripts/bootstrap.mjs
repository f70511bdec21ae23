#!/usr/bin/env node
// Entry point of `npm start`, `npm test` and `npm run bench` on a fresh clone.
// It runs on whatever Node the machine has (20 or newer), installs the workspace with pnpm when
// anything is missing or the lockfile changed, then hands over to pnpm, whose scripts run on the
// Node 22 binary the root devDependency `node` puts first on PATH.
//
// Stopping. The task runs in a process group of its own (pnpm, its shells, `node scripts/dev.ts`,
// wrangler, workerd, the sandbox), and SIGINT, SIGTERM or SIGHUP here is passed on to that whole
// group, so nothing is left behind; whatever still runs after a grace period is killed. A signal
// sent to npm alone (`npm start & … kill $!`) does not arrive here: npm passes it only to the
// `sh -c` it runs this script with, and that shell, like the shell shim pnpm writes for the
// `node` binary, passes nothing on (it dies of SIGTERM, and waits for its child on SIGINT). So
// this process also watches those shells and npm above them, and stops the task as soon as one of
// them is gone. (Ctrl+C reaches this process itself: the terminal signals the whole job.)
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { constants } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const PNPM_VERSION = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).packageManager.split(
  "@",
)[1];
const bin = join(root, "node_modules", ".bin");
const stamp = join(root, "node_modules", ".concierge-install");
/** How long the task may take to stop after the signal before its group is killed. */
const GRACE_MS = 5_000;

const tasks = {
  // --silent: without pnpm's own lines, such as its "Command failed" when the stack is stopped.
  start: ["--silent", "run", "dev"],
  test: ["run", "test:ci"],
  bench: ["run", "bench:run"],
  "bench:cost": ["run", "bench:cost:run"],
  "bench:scale": ["run", "bench:scale:run"],
  screenshots: ["run", "screenshots:run"],
};

const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };

function installFingerprint() {
  const h = createHash("sha256");
  for (const f of ["pnpm-lock.yaml", "pnpm-workspace.yaml", "package.json"]) {
    const p = join(root, f);
    if (existsSync(p)) h.update(readFileSync(p));
  }
  return h.digest("hex");
}

function ensureInstalled() {
  const want = installFingerprint();
  const have = existsSync(stamp) ? readFileSync(stamp, "utf8") : "";
  if (have === want && existsSync(join(bin, "pnpm")) && existsSync(join(bin, "node"))) return;
  const frozen = existsSync(join(root, "pnpm-lock.yaml")) && process.env.CI ? ["--frozen-lockfile"] : [];
  // corepack cannot fetch pnpm here, so pnpm itself comes from the npm registry through npx.
  // In the foreground (a prompt of pnpm's can be answered); it ends by itself.
  const r = spawnSync("npx", ["--yes", `pnpm@${PNPM_VERSION}`, "install", ...frozen], {
    cwd: root,
    stdio: "inherit",
    env,
  });
  if (r.error) throw r.error;
  if (r.status !== 0) {
    process.stderr.write("bootstrap: pnpm install failed\n");
    process.exit(r.status ?? 1);
  }
  writeFileSync(stamp, installFingerprint());
}

/** Parent pid, state and command line of a process, or null when it is gone. */
function processInfo(pid) {
  try {
    if (process.platform === "linux") {
      const [state, ppid] = procStat(pid);
      const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
      return { ppid: Number(ppid), state, args };
    }
    const out = execFileSync("ps", ["-o", "ppid=,state=,args=", "-p", String(pid)], { encoding: "utf8" });
    const m = /^\s*(\d+)\s+(\S+)\s+(.*)$/.exec(out.trim());
    return m ? { ppid: Number(m[1]), state: m[2], args: m[3] } : null;
  } catch {
    return null;
  }
}

/**
 * The processes this one stands in for: the shells between it and the package manager (their
 * command lines name this script), the package manager when one ran it, and above that the
 * shell shim of a `node` from a node_modules/.bin on PATH, if npm was started through one.
 */
function launchers() {
  const chain = [];
  let pid = process.ppid;
  let above = false;
  while (pid > 1 && chain.length < 8) {
    const info = processInfo(pid);
    if (!info) break;
    if (above) {
      if (!/\/node_modules\/\.bin\/node /.test(info.args)) break;
      chain.push(pid);
    } else if (info.args.includes("bootstrap.mjs")) {
      chain.push(pid);
    } else {
      if (!process.env.npm_lifecycle_event) break;
      chain.push(pid);
      above = true;
    }
    pid = info.ppid;
  }
  return chain;
}

/** "state ppid pgid …" of a Linux process, after its "pid (comm) " which may hold anything. */
function procStat(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

// Linux: a zombie has ended, and here nothing may reap one whose parent is gone.
const ended = (state) => state === undefined || state.startsWith("Z");

function alive(pid) {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return err.code === "EPERM";
  }
  return process.platform !== "linux" || !ended(processInfo(pid)?.state);
}

/** Whether any process of the group still runs. */
function groupAlive(pgid) {
  if (process.platform !== "linux") return signalGroup(pgid, 0);
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const [state, , group] = procStat(name);
      if (Number(group) === pgid && !ended(state)) return true;
    } catch {
      // gone meanwhile
    }
  }
  return false;
}

/** Sends a signal to every process of the task's group; false when none is left. */
function signalGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Runs the task in a process group of its own, stops it with us; resolves to its exit code. */
function runTask(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(join(bin, "pnpm"), args, {
      cwd: root,
      env,
      // Nothing in a task reads the terminal; outside the foreground group it must not try.
      stdio: ["ignore", "inherit", "inherit"],
      detached: true,
    });
    const pgid = child.pid;
    let stopSignal = null;
    let stoppedAt = 0;
    const stop = (signal) => {
      stopSignal = signal;
      stoppedAt = Date.now();
      signalGroup(pgid, signal);
      setTimeout(() => signalGroup(pgid, "SIGKILL"), GRACE_MS).unref();
    };
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
      // A second Ctrl+C, a second later or more, does not wait any longer. One Ctrl+C arrives
      // more than once: the terminal signals this process, and npm passes its own copy on to it
      // too (the `exec` in package.json makes this process the shell npm signals), so copies
      // within that second are the same request and must not kill the task before it has said
      // goodbye.
      process.on(signal, () => {
        if (!stopSignal) stop(signal);
        else if (Date.now() - stoppedAt >= 1_000) signalGroup(pgid, "SIGKILL");
      });
    }
    const watched = launchers();
    const watchdog = setInterval(() => {
      if (!stopSignal && !watched.every(alive)) stop("SIGTERM");
    }, 250);
    child.on("error", reject);
    child.on("exit", async (code, signal) => {
      // pnpm is gone; the rest of its group (workerd, the sandbox) may still be stopping.
      if (groupAlive(pgid)) {
        if (!stopSignal) signalGroup(pgid, "SIGTERM");
        const deadline = Date.now() + GRACE_MS;
        while (groupAlive(pgid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        if (groupAlive(pgid)) signalGroup(pgid, "SIGKILL");
      }
      clearInterval(watchdog);
      const sig = stopSignal ?? signal;
      resolve(sig ? 128 + constants.signals[sig] : (code ?? 1));
    });
  });
}

const task = process.argv[2];
if (!tasks[task]) {
  process.stderr.write(`usage: bootstrap.mjs ${Object.keys(tasks).join("|")}\n`);
  process.exit(2);
}
ensureInstalled();
process.exit(await runTask([...tasks[task], ...process.argv.slice(3)]));
