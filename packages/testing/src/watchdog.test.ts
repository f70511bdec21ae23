import { spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { startWatchdog, WATCHDOG_EXIT_CODE } from "./watchdog.ts";

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
});

/** A server that answers, or one that takes requests and never answers (a hung runtime port). */
async function server(answers: boolean): Promise<string> {
  const s = createServer((_req, res) => {
    if (answers) res.end("ok");
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}/`;
}

describe("startWatchdog", () => {
  it("on a promise that never settles: prints phase, ports and connections, disposes, exits non-zero", async () => {
    const up = await server(true);
    const hung = await server(false);
    // A client holding a connection the hung port never answers, as autocannon's were.
    const held = connect(Number(new URL(hung).port), "127.0.0.1");
    await new Promise((r) => held.once("connect", r));
    let text = "";
    let disposed = false;
    const exited = new Promise<number>((resolve) => {
      const dog = startWatchdog({
        name: "bench test",
        limitMs: 300,
        // Room for a loaded machine: the answering port must answer within it.
        probeTimeoutMs: 3_000,
        graceMs: 5_000,
        write: (t) => {
          text += t;
        },
        exit: resolve,
      });
      dog.watch({ bare: up, "meta-webhooks": hung });
      dog.onTimeout(async () => {
        disposed = true;
      });
      dog.phase("drain");
    });
    // The run itself: stuck on something that never resolves.
    const stuck = new Promise(() => {});
    const code = await Promise.race([exited, stuck]);
    expect(code).toBe(WATCHDOG_EXIT_CODE);
    expect(disposed).toBe(true);
    expect(text).toContain("bench test: no result after 0.3 s");
    expect(text).toMatch(/phase: drain \(for \d/);
    expect(text).toContain(`bare ${up}: answered 200`);
    expect(text).toContain(`meta-webhooks ${hung}: no answer within 3000 ms`);
    expect(text).toMatch(new RegExp(`meta-webhooks :${new URL(hung).port}: \\d+ ESTABLISHED`));
    expect(text).toContain("(this process, main thread)");
    held.destroy();
  });

  it("a run that finishes stops the watch: nothing is printed, nothing exits", async () => {
    let text = "";
    let code: number | undefined;
    const dog = startWatchdog({
      name: "quick",
      limitMs: 200,
      write: (t) => {
        text += t;
      },
      exit: (c) => {
        code = c;
      },
    });
    dog.stop();
    await new Promise((r) => setTimeout(r, 500));
    expect(text).toBe("");
    expect(code).toBeUndefined();
  });

  it("a main thread blocked for good (Atomics.wait, as in the bench's hang) still gets the diagnosis and is ended", async () => {
    const script = `
      import { startWatchdog } from ${JSON.stringify(new URL("./watchdog.ts", import.meta.url).href)};
      const dog = startWatchdog({ name: "blocked run", limitMs: 300, graceMs: 300 });
      dog.phase("a synchronous call into the runtime");
      // Give the watch thread time to start, then block this thread the way Miniflare's
      // synchronous proxy call does.
      setTimeout(() => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0), 100);
    `;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (c) => {
      stderr += c;
    });
    const t0 = Date.now();
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.on("exit", (c, s) => resolve([c, s])),
    );
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(code === 0).toBe(false);
    expect(signal).toBe("SIGKILL");
    expect(stderr).toContain("blocked run: no result after 0.3 s");
    expect(stderr).toContain("phase: a synchronous call into the runtime");
    expect(stderr).toMatch(/this process, main thread\): state S, waiting in futex/);
    expect(stderr).toContain("the main thread did not exit; killing the process");
  }, 20_000);
});
