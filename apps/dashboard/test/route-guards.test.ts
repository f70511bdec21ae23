// Which routes may change state without a session and our CSRF token: a deliberate, short list.
// The signed-in area (src/stages.ts) is decided by path, so a write route added outside it would
// run with neither; this test makes adding one a conscious act. The operator panel's writes are
// guarded the same way by their own area: /manage needs Cloudflare Access and the operator's
// CSRF token (src/access.ts), never a tenant's session.
import { describe, expect, it } from "vitest";
import { MANAGE_AREA } from "../src/access.ts";
import { router } from "../src/routes.ts";
import {
  checkCsrf,
  checkOperatorCsrf,
  requireOperator,
  requireSignIn,
  SELF_AUTHENTICATED,
  SIGNED_IN_AREA,
  withForm,
  withSession,
} from "../src/stages.ts";

/** Public writes, each authenticated its own way. */
const PUBLIC_WRITES: Record<string, string> = {
  "/auth/dev": "development sign-in: local only, double-submit cookie",
  "/data-deletion": "Meta's signed request",
  "/demo": "the live demo: same origin only, rate-limited, reaches only the demo API",
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
    const operator = MANAGE_AREA.test(path) && !SIGNED_IN_AREA.test(path);
    expect(guarded || operator || path in PUBLIC_WRITES || CALLBACKS.includes(path)).toBe(true);
  });

  it("lets through only the known Checkout callbacks without a session", () => {
    expect([...SELF_AUTHENTICATED].sort()).toEqual([...CALLBACKS].sort());
  });
});

describe("the operator panel's guard", () => {
  const before = (router as unknown as { before: unknown[] }).before;

  it("is its own area: no path is both the tenant's signed-in area and /manage", () => {
    const paths = router.routes.map(([, , , path]) => path ?? "");
    expect(paths.some((p) => MANAGE_AREA.test(p))).toBe(true);
    expect(paths.filter((p) => MANAGE_AREA.test(p) && SIGNED_IN_AREA.test(p))).toEqual([]);
  });

  it("runs Access before anything that acts (the form, the routes), and the CSRF check after the form", () => {
    const at = (stage: unknown) => before.indexOf(stage);
    expect(at(requireOperator)).toBeGreaterThan(at(withSession));
    expect(at(requireOperator)).toBeLessThan(at(requireSignIn));
    expect(at(requireOperator)).toBeLessThan(at(withForm));
    expect(at(checkOperatorCsrf)).toBeGreaterThan(at(withForm));
    expect(at(checkCsrf)).toBeGreaterThan(at(withForm));
  });
});
