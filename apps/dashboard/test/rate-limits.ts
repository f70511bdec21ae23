/**
 * The dashboard's own limiters in these tests (vitest.config.ts), in place of wrangler.jsonc's
 * per-minute limits: small limits over Cloudflare's shorter period, so a test reaches the limit
 * in a few requests and its window ends in seconds, yet roomy enough that the other tests (one
 * fresh tenant each, a few requests) never meet them. The one place the tests read them from.
 */
export const TEST_RATE_LIMITS = {
  // Keyed per visitor network; the tests that send no CF-Connecting-IP share one key.
  SIGN_IN_RATE_LIMIT: { namespace_id: "1502", simple: { limit: 10, period: 10 } },
  VERIFY_MAIL_RATE_LIMIT: { namespace_id: "1503", simple: { limit: 5, period: 10 } },
  SELF_TEST_RATE_LIMIT: { namespace_id: "1504", simple: { limit: 3, period: 10 } },
  TEST_PANEL_RATE_LIMIT: { namespace_id: "1505", simple: { limit: 8, period: 10 } },
  // Roomy enough for the wizard test that posts seven refused forms in a row.
  PERSONA_SAVE_RATE_LIMIT: { namespace_id: "1506", simple: { limit: 12, period: 10 } },
  INBOX_ACTION_RATE_LIMIT: { namespace_id: "1508", simple: { limit: 5, period: 10 } },
} as const;
