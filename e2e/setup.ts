// Every e2e file runs with time limits, so a stuck stack fails the run instead of hanging it:
// - each fetch without a signal of its own gets one (FETCH_LIMIT_MS), so a port that takes the
//   request and never answers fails that test;
// - the file as a whole has a watchdog (@concierge/testing/watchdog) on a thread of its own:
//   past FILE_LIMIT_MS it prints which ports of the stack answer, the open connections and what
//   each process is blocked in, disposes the stack (scripts/stack.ts registers it; the dispose
//   itself is bounded there) and ends the test process, even when its main thread is blocked.
//   testTimeout and hookTimeout (vitest.config.ts) cover the rest: they need a main thread free
//   to notice.
import { startWatchdog, type Watchdog } from "@concierge/testing/watchdog";
import path from "node:path";
import { afterAll, beforeAll, expect } from "vitest";

const FETCH_LIMIT_MS = Number(process.env.E2E_FETCH_LIMIT_MS ?? 30_000);
const FILE_LIMIT_MS = Number(process.env.E2E_FILE_LIMIT_S ?? 600) * 1000;

const realFetch = globalThis.fetch;
globalThis.fetch = (input, init) =>
  init?.signal || input instanceof Request
    ? realFetch(input, init)
    : realFetch(input, { ...init, signal: AbortSignal.timeout(FETCH_LIMIT_MS) });

let watchdog: Watchdog | undefined;
beforeAll(() => {
  const file = path.basename(expect.getState().testPath ?? "file");
  watchdog = startWatchdog({ name: `e2e ${file}`, limitMs: FILE_LIMIT_MS });
  watchdog.phase("the file's tests");
});
afterAll(() => {
  watchdog?.stop();
});
