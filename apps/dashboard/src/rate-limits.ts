// The dashboard's rate limits (issue 17, item 7): Workers Rate Limiting bindings (wrangler.jsonc)
// in front of the actions that cost us something or reach someone else, wrapped around their
// routes in the route table (src/routes.ts, src/wizard/routes.ts), so the limit is decided before
// the handler runs: past it, a 429 page with Retry-After, and nothing is done.
//
// Keys: a signed-in action counts per tenant (every person and tab of a business share it); the
// sign-in flow, before there is anyone, per visitor network (an IPv4 address, an IPv6 /64) as a
// labelled SHA-256 pseudonym, as the demo's limit (src/demo/visitor.ts): the address itself never
// leaves the request. The counters live in Cloudflare's limiter for their period, per location;
// nothing is stored by us.
import { createLogger } from "@concierge/core";
import { sha256Base64Url } from "@concierge/crypto";
import { visitorNetwork } from "./demo/visitor.ts";
import { html } from "./html.ts";
import { type AuthedCtx, type Ctx, html as respond } from "./http.ts";
import { publicPage } from "./layout.ts";

const log = createLogger("dashboard");

/** The limiters of wrangler.jsonc's `ratelimits` this module serves. */
export type Limiter =
  | "SIGN_IN_RATE_LIMIT"
  | "VERIFY_MAIL_RATE_LIMIT"
  | "SELF_TEST_RATE_LIMIT"
  | "TEST_PANEL_RATE_LIMIT"
  | "PERSONA_SAVE_RATE_LIMIT"
  | "INBOX_ACTION_RATE_LIMIT";

/**
 * Every limiter counts over Cloudflare's 60-second period in production, and the binding does not
 * say when its window ends: a minute is the longest anyone waits, so Retry-After says that.
 */
export const RETRY_AFTER_SECONDS = 60;

/** A fixed label, so these pseudonyms are of no use as anything but sign-in limit keys. */
const SIGN_IN_LABEL = "concierge sign-in visitor v1\u0000";

/**
 * Cloudflare sets CF-Connecting-IP on every request from the internet; without it (a local run),
 * every visitor shares one key, so the limit binds sooner, never later.
 */
async function visitorKey(c: Ctx): Promise<string> {
  const address = c.headers.get("cf-connecting-ip")?.trim() || "unknown";
  return `visitor:${await sha256Base64Url(`${SIGN_IN_LABEL}${visitorNetwork(address)}`)}`;
}

/** Whether this request is within `limiter`'s limit for `key` (and counts it). */
async function within(c: Ctx, limiter: Limiter, key: string): Promise<boolean> {
  const { success } = await c.env[limiter].limit({ key });
  if (!success) log.warn("rate_limited", { limiter, path: new URL(c.url).pathname });
  return success;
}

/**
 * The 429 page: what happened, that nothing was done, when to try again, and the way back. A
 * plain page (no script, the layout's narrow-screen styles), in the visitor's or tenant's locale.
 */
export async function rateLimitedPage(c: Ctx): Promise<Response> {
  const { t } = c;
  const title = t("rate-limited-title");
  const back = c.session
    ? html`<a class="button" href="/admin">${t("rate-limited-back")}</a>`
    : html`<a class="button" href="/sign-in">${t("rate-limited-sign-in")}</a>`;
  const body = html`<h1>${title}</h1>
<p>${t("rate-limited-body", { seconds: RETRY_AFTER_SECONDS })}</p>
<p class="row">${back}</p>`;
  const res = await respond(c, publicPage(c, { title, body }), 429);
  res.headers.set("retry-after", String(RETRY_AFTER_SECONDS));
  return res;
}

/** A route of the sign-in flow, limited per visitor network. */
export function limitedPerVisitor<C extends Ctx>(
  limiter: Limiter,
  handler: (c: C) => Response | Promise<Response>,
): (c: C) => Promise<Response> {
  return async (c) => ((await within(c, limiter, await visitorKey(c))) ? handler(c) : rateLimitedPage(c));
}

/**
 * A route of the signed-in area (the guard has made sure of the session, and the CSRF check has
 * passed, so a forged request never spends the tenant's limit), limited per tenant.
 */
export function limitedPerTenant(
  limiter: Limiter,
  handler: (c: AuthedCtx) => Response | Promise<Response>,
): (c: AuthedCtx) => Promise<Response> {
  return async (c) =>
    (await within(c, limiter, `tenant:${c.session.tenantId}`)) ? handler(c) : rateLimitedPage(c);
}
