import { createLogger, errorFields } from "@concierge/core";
import {
  decryptString,
  encryptString,
  fromBase64Url,
  hmacSha256Hex,
  importAesKey,
  randomBytes,
  timingSafeEqualString,
  toBase64Url,
  utf8,
} from "@concierge/crypto";
import { msg } from "@concierge/i18n";
import * as v from "valibot";
import { clearCookie, setCookie } from "../cookies.ts";
import { type Html, html } from "../html.ts";
import { type AuthedCtx, redirect, html as respond } from "../http.ts";
import { csrfField, page } from "../layout.ts";
import { putPendingSignIn, randomString, takePendingSignIn } from "../auth/state.ts";
import { str } from "../forms.ts";
import { fromWizard, WIZARD_CHANNELS_STEP } from "../wizard-return.ts";

/**
 * Connecting an Instagram professional account through Facebook Login (Instagram API with
 * Facebook Login / Messenger API support for Instagram): the login dialog with `state` bound to
 * this browser and this tenant, the code exchanged server-side, the user token made long-lived,
 * then the person's Facebook Pages with their linked Instagram account. The person picks one;
 * the page tokens never reach the browser (they wait in KV, ten minutes, sealed: see `sealPick`),
 * and the pipeline seals the chosen one with the tenant's data key and subscribes the page to our
 * webhooks.
 */

const log = createLogger("dashboard");

/** Binds the login to this browser, apart from the sign-in cookie. */
const IG_COOKIE = "__Host-concierge_igconnect";
const TTL_SECONDS = 600;

/**
 * What Messenger API support for Instagram needs: reading the account and its messages,
 * listing the person's pages, subscribing a page to webhooks; business_management for pages
 * owned through a business portfolio.
 */
export const INSTAGRAM_SCOPES = [
  "instagram_basic",
  "instagram_manage_messages",
  "pages_show_list",
  "pages_manage_metadata",
  "business_management",
].join(",");

const TokenSchema = v.object({ access_token: v.pipe(v.string(), v.minLength(1)) });
const MeSchema = v.object({ id: v.pipe(v.string(), v.regex(/^\d+$/)) });
const AccountsSchema = v.object({
  data: v.array(
    v.object({
      id: v.pipe(v.string(), v.regex(/^\d+$/)),
      name: v.optional(v.string(), ""),
      access_token: v.optional(v.string()),
      instagram_business_account: v.optional(
        v.object({ id: v.pipe(v.string(), v.regex(/^\d+$/)), username: v.optional(v.string()) }),
      ),
    }),
  ),
});

/** A page as the login found it, token included (only ever in memory, or sealed in KV). */
type Candidate = {
  id: string;
  name: string;
  token: string | null;
  instagram: { id: string; username: string } | null;
};

/** What waits in KV between the callback and the choice: the pages without their tokens. */
const PickSchema = v.object({
  tenantId: v.string(),
  /** Started from the onboarding wizard: the choice returns there. */
  wizard: v.optional(v.boolean()),
  facebookUserId: v.string(),
  pages: v.array(
    v.object({
      id: v.string(),
      name: v.string(),
      hasToken: v.boolean(),
      instagram: v.nullable(v.object({ id: v.string(), username: v.string() })),
    }),
  ),
  /** The user token and the page tokens (SealedTokens), sealed under the pick's own key. */
  sealed: v.string(),
});
type Pick = v.InferOutput<typeof PickSchema>;

const SealedTokensSchema = v.object({
  userToken: v.string(),
  pages: v.record(v.string(), v.string()),
});
type SealedTokens = v.InferOutput<typeof SealedTokensSchema>;

const pickKey = (id: string) => `igpick:${id}`;
const pickAad = (id: string, tenantId: string) => `igpick:${id}:${tenantId}`;

/**
 * The form's `pick`: the KV id and, after a dot, the key the tokens are sealed with (32 random
 * bytes, base64url). The key lives only in the person's choice page and their POST: KV alone holds
 * nothing that opens, and the dashboard needs no platform key (only the pipeline holds
 * ENCRYPTION_KEY). The tokens are Graph credentials of this very person, so their page holding the
 * key to them gives nothing away; the seal binds id and tenant (associated data).
 */
const PICK = /^([A-Za-z0-9_-]{20,100})\.([A-Za-z0-9_-]{43})$/;

async function sealPick(
  pickId: string,
  tenantId: string,
  tokens: SealedTokens,
): Promise<{ sealed: string; key: string }> {
  const raw = randomBytes(32);
  const sealed = await encryptString(
    await importAesKey(raw),
    1,
    JSON.stringify(tokens),
    pickAad(pickId, tenantId),
  );
  return { sealed, key: toBase64Url(raw) };
}

/** The tokens back, or null when the key is wrong or the value was tampered with. */
async function openPick(pickId: string, pick: Pick, key: string): Promise<SealedTokens | null> {
  try {
    const k = await importAesKey(fromBase64Url(key));
    const clear = await decryptString(k, pick.sealed, pickAad(pickId, pick.tenantId));
    const parsed = v.safeParse(SealedTokensSchema, JSON.parse(clear));
    return parsed.success ? parsed.output : null;
  } catch {
    return null;
  }
}

/** Why connecting failed, as the tenant reads it (Fluent ids). */
const ERRORS: Record<string, { status: number; message: string }> = {
  cancelled: { status: 400, message: msg("ig-err-cancelled") },
  state: { status: 400, message: msg("ig-err-state") },
  graph: { status: 502, message: msg("ig-err-graph") },
  expired: { status: 400, message: msg("ig-err-expired") },
  no_page: { status: 422, message: msg("ig-err-no-page") },
  account_taken: { status: 409, message: msg("ig-err-taken") },
  invalid_token: { status: 422, message: msg("ig-err-token") },
  subscribe_failed: { status: 502, message: msg("ig-err-subscribe") },
};

const graphBase = (env: Env) => env.META_GRAPH_BASE_URL.replace(/\/$/, "");
const callbackUrl = (c: AuthedCtx) => `${c.origin}/admin/instagram/callback`;

class GraphFailure extends Error {}

async function graphJson<T>(url: URL, schema: v.GenericSchema<unknown, T>, token?: string): Promise<T> {
  const res = await fetch(url, {
    ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
    signal: AbortSignal.timeout(10_000),
  });
  const body = await res.json().catch(() => null);
  const parsed = v.safeParse(schema, body);
  if (!res.ok || !parsed.success) {
    const code = (body as { error?: { code?: unknown } } | null)?.error?.code;
    throw new GraphFailure(`${url.pathname} answered ${res.status} (graph code ${String(code ?? "none")})`);
  }
  return parsed.output;
}

async function withProof(env: Env, url: URL, token: string): Promise<URL> {
  url.searchParams.set("appsecret_proof", await hmacSha256Hex(env.META_APP_SECRET, utf8(token)));
  return url;
}

/** Code → user token → long-lived user token; the person's id; their pages. */
async function loadCandidates(
  c: AuthedCtx,
  code: string,
): Promise<{ facebookUserId: string; userToken: string; pages: Candidate[] }> {
  const env = c.env;
  const exchange = new URL(`${graphBase(env)}/oauth/access_token`);
  exchange.search = new URLSearchParams({
    client_id: env.FACEBOOK_APP_ID,
    redirect_uri: callbackUrl(c),
    client_secret: env.META_APP_SECRET,
    code,
  }).toString();
  const short = (await graphJson(exchange, TokenSchema)).access_token;
  const me = new URL(`${graphBase(env)}/me`);
  me.searchParams.set("fields", "id");
  const person = await graphJson(await withProof(env, me, short), MeSchema, short);
  const longLived = new URL(`${graphBase(env)}/oauth/access_token`);
  longLived.search = new URLSearchParams({
    grant_type: "fb_exchange_token",
    client_id: env.FACEBOOK_APP_ID,
    client_secret: env.META_APP_SECRET,
    fb_exchange_token: short,
  }).toString();
  const userToken = (await graphJson(longLived, TokenSchema)).access_token;
  const accounts = new URL(`${graphBase(env)}/me/accounts`);
  accounts.searchParams.set("fields", "id,name,access_token,instagram_business_account{id,username}");
  const listed = await graphJson(await withProof(env, accounts, userToken), AccountsSchema, userToken);
  return {
    facebookUserId: person.id,
    userToken,
    pages: listed.data.map((p) => ({
      id: p.id,
      name: p.name,
      token: p.access_token ?? null,
      instagram:
        p.instagram_business_account?.username && p.access_token
          ? { id: p.instagram_business_account.id, username: p.instagram_business_account.username }
          : null,
    })),
  };
}

// ---- pages ----

function connectBody(c: AuthedCtx, error: string | null): Html {
  const { t, env } = c;
  // The wizard's flag rides along to /start, which keeps it in the flow's pending state.
  const start = fromWizard(c) ? "/admin/instagram/start?from=wizard" : "/admin/instagram/start";
  const notice = error ? html`<p class="notice error" role="alert">${t(error)}</p>` : null;
  if (!env.FACEBOOK_APP_ID) return html`${notice}<p class="card">${t("ig-connect-unconfigured")}</p>`;
  return html`${notice}<p class="muted">${t("ig-connect-lead")}</p>
<div class="card stack">
  <p>${t("ig-connect-requirements")}</p>
  <div><a class="button" href="${start}">${t("ig-connect-start")}</a></div>
</div>`;
}

function connectResponse(c: AuthedCtx, error: string | null, status = 200): Promise<Response> {
  return respond(
    c,
    page(c, { title: c.t("ig-connect-title"), section: "channels", body: connectBody(c, error) }),
    status,
  );
}

function choiceBody(c: AuthedCtx, pickValue: string, pick: Pick, error: string | null): Html {
  const { t } = c;
  const notice = error ? html`<p class="notice error" role="alert">${t(error)}</p>` : null;
  if (pick.pages.length === 0) {
    return html`${notice}<p class="card">${t("ig-choose-none")}</p>
<p><a class="button" href="/admin/instagram/start">${t("ig-connect-again")}</a></p>`;
  }
  const firstOk = pick.pages.find((p) => p.instagram)?.id;
  return html`${notice}<p class="muted">${t("ig-choose-lead")}</p>
<form class="card stack" method="post" action="/admin/instagram/choose" id="ig-choose">
  ${csrfField(c)}
  <input type="hidden" name="pick" value="${pickValue}">
  <fieldset class="field"><legend>${t("ig-choose-legend")}</legend>
  ${pick.pages.map((p) =>
    p.instagram
      ? html`<label><input type="radio" name="page" value="${p.id}" ${p.id === firstOk ? "checked" : ""}>
  <strong>@${p.instagram.username}</strong> <span class="muted">· ${p.name}</span></label>`
      : html`<label class="muted"><input type="radio" name="page" value="${p.id}" disabled>
  ${p.name} <span class="selftest-reason">${t("ig-choose-no-instagram")}</span></label>`,
  )}
  </fieldset>
  <div><button type="submit" ${firstOk ? "" : "disabled"}>${t("ig-choose-submit")}</button></div>
</form>`;
}

function choiceResponse(
  c: AuthedCtx,
  pickValue: string,
  pick: Pick,
  error: string | null,
  status = 200,
): Promise<Response> {
  return respond(
    c,
    page(c, {
      title: c.t("ig-choose-title"),
      section: "channels",
      body: choiceBody(c, pickValue, pick, error),
    }),
    status,
  );
}

/** GET /admin/instagram/connect: what is needed, and the button that starts Facebook Login. */
export function instagramConnectPage(c: AuthedCtx): Promise<Response> {
  return connectResponse(c, null);
}

/** GET /admin/instagram/start: remembers `state` for this tenant and browser, then the dialog. */
export async function instagramStart(c: AuthedCtx): Promise<Response> {
  if (!c.env.FACEBOOK_APP_ID) return connectResponse(c, null);
  const state = randomString();
  await putPendingSignIn(
    c.env.KV,
    state,
    {
      provider: "instagram",
      next: fromWizard(c) ? WIZARD_CHANNELS_STEP : "/admin/channels",
      tenantId: c.session.tenantId,
    },
    "igconnect",
  );
  const dialog = new URL(`${c.env.META_DIALOG_BASE_URL.replace(/\/$/, "")}/dialog/oauth`);
  dialog.search = new URLSearchParams({
    client_id: c.env.FACEBOOK_APP_ID,
    redirect_uri: callbackUrl(c),
    state,
    response_type: "code",
    scope: INSTAGRAM_SCOPES,
  }).toString();
  const headers = new Headers({ location: dialog.toString() });
  headers.append("set-cookie", setCookie(IG_COOKIE, state, TTL_SECONDS));
  return new Response(null, { status: 302, headers });
}

/**
 * GET /admin/instagram/callback: checks `state` (this browser's cookie, this tenant), exchanges
 * the code, lists the pages and shows the choice. The candidates wait in KV under a new random id.
 */
export async function instagramCallback(c: AuthedCtx): Promise<Response> {
  const state = c.searchParams.get("state") ?? "";
  const cookie = c.cookies[IG_COOKIE] ?? "";
  const fail = async (code: keyof typeof ERRORS) => {
    const e = ERRORS[code]!;
    const res = await connectResponse(c, e.message, e.status);
    res.headers.append("set-cookie", clearCookie(IG_COOKIE));
    return res;
  };
  if (!state || !cookie || !timingSafeEqualString(state, cookie)) {
    log.warn("instagram.state_refused", { reason: "state_mismatch" });
    return fail("state");
  }
  const pending = await takePendingSignIn(c.env.KV, state, "igconnect");
  if (pending?.provider !== "instagram" || pending.tenantId !== c.session.tenantId) {
    log.warn("instagram.state_refused", { reason: "state_unknown" });
    return fail("state");
  }
  const code = c.searchParams.get("code");
  if (!code) return fail("cancelled");
  let found: Awaited<ReturnType<typeof loadCandidates>>;
  try {
    found = await loadCandidates(c, code);
  } catch (err) {
    log.warn("instagram.login_failed", errorFields(err));
    return fail("graph");
  }
  const pickId = randomString();
  const tokens: SealedTokens = { userToken: found.userToken, pages: {} };
  for (const p of found.pages) if (p.token) tokens.pages[p.id] = p.token;
  const { sealed, key } = await sealPick(pickId, c.session.tenantId, tokens);
  const pick: Pick = {
    tenantId: c.session.tenantId,
    ...(pending.next === WIZARD_CHANNELS_STEP ? { wizard: true } : {}),
    facebookUserId: found.facebookUserId,
    pages: found.pages.map(({ token, ...p }) => ({ ...p, hasToken: token !== null })),
    sealed,
  };
  await c.env.KV.put(pickKey(pickId), JSON.stringify(pick), { expirationTtl: TTL_SECONDS });
  const res = await choiceResponse(c, `${pickId}.${key}`, pick, null);
  res.headers.append("set-cookie", clearCookie(IG_COOKIE));
  return res;
}

/** POST /admin/instagram/choose: the chosen page goes to the pipeline, which connects it. */
export async function instagramChoose(c: AuthedCtx): Promise<Response> {
  const pickValue = str(c.form, "pick");
  const [, pickId = "", key = ""] = PICK.exec(pickValue) ?? [];
  const raw = pickId ? await c.env.KV.get(pickKey(pickId)) : null;
  const parsed = raw ? v.safeParse(PickSchema, JSON.parse(raw)) : null;
  const pick = parsed?.success && parsed.output.tenantId === c.session.tenantId ? parsed.output : null;
  const tokens = pick ? await openPick(pickId, pick, key) : null;
  if (!pick || !tokens) {
    const e = ERRORS.expired!;
    return connectResponse(c, e.message, e.status);
  }
  const chosen = pick.pages.find((p) => p.id === str(c.form, "page"));
  const pageToken = chosen ? tokens.pages[chosen.id] : undefined;
  if (!chosen?.instagram || !pageToken) {
    const e = ERRORS.no_page!;
    return choiceResponse(c, pickValue, pick, e.message, e.status);
  }
  const result = await c.env.PIPELINE.connectInstagram(c.session.tenantId, {
    pageId: chosen.id,
    instagramId: chosen.instagram.id,
    username: chosen.instagram.username,
    pageToken,
    userToken: tokens.userToken,
    facebookUserId: pick.facebookUserId,
  });
  if (!result.ok) {
    const e = ERRORS[result.error.code] ?? ERRORS.graph!;
    return choiceResponse(c, pickValue, pick, e.message, e.status);
  }
  await c.env.KV.delete(pickKey(pickId));
  const back = pick.wizard ? WIZARD_CHANNELS_STEP : "/admin/channels";
  return redirect(`${back}?done=${result.created ? "ig-connected" : "ig-again"}#account-${result.accountId}`);
}
