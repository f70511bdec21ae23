// Which routes may change state without a session and our CSRF token: a deliberate, short list.
// The signed-in area (src/stages.ts) is decided by path, so a write route added outside it would
// run with neither; this test makes adding one a conscious act.
import { describe, expect, it } from "vitest";
import { router } from "../src/routes.ts";
import { SELF_AUTHENTICATED, SIGNED_IN_AREA } from "../src/stages.ts";

/** Public writes, each authenticated its own way. */
const PUBLIC_WRITES: Record<string, string> = {
  "/auth/dev": "development sign-in: local only, double-submit cookie",
  "/data-deletion": "Meta's signed request",
  "/email/verify": "a single-use token from the mailed link",
  "/webhooks/razorpay": "Razorpay's signature over the raw body",
};

/** Signed-in paths that Razorpay posts to after Checkout: the pipeline checks its signature. */
const CALLBACKS = ["/admin/billing/checkout/complete", "/admin/email/subscription/complete"];

const writes = router.routes
  .filter(([method]) => !["GET", "HEAD", "ALL"].includes(method))
  .map(([method, , , path]) => ({ method, path: path ?? "" }));

describe("routes that change state", () => {
  it("exist (the table is read)", () => {
    expect(writes.length).toBeGreaterThan(20);
  });

  it.each(writes)("$method $path needs a session and our CSRF token, or is a known exception", ({ path }) => {
    const guarded = SIGNED_IN_AREA.test(path) && !SELF_AUTHENTICATED.has(path);
    expect(guarded || path in PUBLIC_WRITES || CALLBACKS.includes(path)).toBe(true);
  });

  it("lets through only the known Checkout callbacks without a session", () => {
    expect([...SELF_AUTHENTICATED].sort()).toEqual([...CALLBACKS].sort());
  });
});
