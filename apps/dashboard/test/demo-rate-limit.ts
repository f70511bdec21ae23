/**
 * The demo's burst limiter in these tests (vitest.config.ts), in place of wrangler.jsonc's
 * 5 per 60 s: the same limit over Cloudflare's shorter period, so a test can wait out a window.
 * The one place the tests read it from.
 */
export const DEMO_TEST_RATE_LIMIT = { limit: 5, period: 10 } as const;
