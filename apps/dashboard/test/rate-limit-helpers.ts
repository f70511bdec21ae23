// What the rate-limit tests share (rate-limits.test.ts, inbox.test.ts): the window and the 429 page.
import { expect } from "vitest";

export const PERIOD_MS = 10_000;

/**
 * Miniflare's limiter (like Cloudflare's) counts in windows aligned to the clock: start near the
 * beginning of one, so a whole burst falls inside it.
 */
export async function atWindowStart(): Promise<() => number> {
  if (Date.now() % PERIOD_MS > 1_000) {
    await new Promise((r) => setTimeout(r, PERIOD_MS - (Date.now() % PERIOD_MS) + 50));
  }
  const start = Math.floor(Date.now() / PERIOD_MS);
  return () => Math.floor(Date.now() / PERIOD_MS) - start;
}

/** The 429 page: status, Retry-After, the message, the way back, no form to resubmit. */
export async function expectLimited(res: Response, back: string): Promise<void> {
  expect(res.status).toBe(429);
  expect(res.headers.get("retry-after")).toBe("60");
  expect(res.headers.get("set-cookie")).toBeNull();
  const page = await res.text();
  expect(page).toContain("<title>Too many tries");
  expect(page).toContain("so this time nothing was done or sent. Wait");
  expect(page).toContain("60");
  expect(page).toContain(`href="${back}"`);
  // The site's page: the viewport for narrow screens, and nothing that needs a script.
  expect(page).toContain('name="viewport"');
  expect(page).not.toContain("<form");
}
