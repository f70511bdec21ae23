import { createHash, createHmac, createPublicKey, randomBytes, verify } from "node:crypto";
import { TEST_SECRETS } from "@concierge/testing/secrets";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { facebookUserId, googleSub } from "./oauth.ts";
import { type Sandbox, startSandbox } from "./server.ts";

const CLIENT_ID = TEST_SECRETS.googleClientId;
const CLIENT_SECRET = TEST_SECRETS.googleClientSecret;
const APP_ID = TEST_SECRETS.facebookAppId;
const APP_SECRET = TEST_SECRETS.metaAppSecret;
const REDIRECT = "http://127.0.0.1:8787/auth/google/callback";
const FB_REDIRECT = "http://127.0.0.1:8787/auth/facebook/callback";

let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await startSandbox({
    appSecret: APP_SECRET,
    googleClientId: CLIENT_ID,
    googleClientSecret: CLIENT_SECRET,
    facebookAppId: APP_ID,
  });
});
afterAll(() => sandbox.close());
afterEach(async () => {
  vi.useRealTimers();
  await fetch(`${sandbox.url}/__sandbox/reset`, { method: "POST" });
});

const get = (url: string, init: RequestInit = {}) => fetch(url, { redirect: "manual", ...init });

function pkce() {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

function googleAuthorizeUrl(overrides: Record<string, string | null> = {}): string {
  const u = new URL(`${sandbox.googleBaseUrl}/o/oauth2/v2/auth`);
  const params: Record<string, string | null> = {
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT,
    response_type: "code",
    scope: "openid email profile",
    state: "st+/=ate&1",
    nonce: "n-0S6_WzA2Mj",
    code_challenge: pkce().challenge,
    code_challenge_method: "S256",
    login_hint: "owner@example.com",
    ...overrides,
  };
  for (const [k, v] of Object.entries(params)) if (v !== null) u.searchParams.set(k, v);
  return u.toString();
}

/** Walks the authorize step with a login_hint and returns the code from the redirect. */
async function googleCode(overrides: Record<string, string | null> = {}, verifier = pkce()) {
  const r = await get(googleAuthorizeUrl({ code_challenge: verifier.challenge, ...overrides }));
  expect(r.status).toBe(302);
  const location = new URL(r.headers.get("location")!);
  return { code: location.searchParams.get("code")!, location, verifier: verifier.verifier };
}

function exchange(form: Record<string, string>, headers: Record<string, string> = {}) {
  return fetch(`${sandbox.googleBaseUrl}/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(form),
  });
}

function tokenForm(code: string, verifier: string, overrides: Record<string, string> = {}) {
  return {
    grant_type: "authorization_code",
    code,
    redirect_uri: REDIRECT,
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    code_verifier: verifier,
    ...overrides,
  };
}

type Jwt = { header: Record<string, unknown>; claims: Record<string, unknown>; signatureValid: boolean };

/** Decodes an id_token and checks its RS256 signature against the JWKS the sandbox publishes. */
async function readIdToken(idToken: string): Promise<Jwt> {
  const [h, c, s] = idToken.split(".") as [string, string, string];
  const header = JSON.parse(Buffer.from(h, "base64url").toString()) as Record<string, unknown>;
  const claims = JSON.parse(Buffer.from(c, "base64url").toString()) as Record<string, unknown>;
  const jwks = (await (await fetch(`${sandbox.googleBaseUrl}/oauth2/v3/certs`)).json()) as {
    keys: { kid: string; kty: string; n: string; e: string }[];
  };
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  const signatureValid =
    jwk !== undefined &&
    verify(
      "sha256",
      Buffer.from(`${h}.${c}`),
      createPublicKey({ key: jwk, format: "jwk" }),
      Buffer.from(s, "base64url"),
    );
  return { header, claims, signatureValid };
}

async function signInWithGoogle(overrides: Record<string, string | null> = {}) {
  const { code, verifier } = await googleCode(overrides);
  const r = await exchange(tokenForm(code, verifier));
  expect(r.status).toBe(200);
  const body = (await r.json()) as { id_token: string; access_token: string };
  return { body, jwt: await readIdToken(body.id_token) };
}

const inject = (provider: string, fault: string) =>
  fetch(`${sandbox.url}/__sandbox/oauth/faults`, {
    method: "POST",
    body: JSON.stringify({ provider, fault }),
  });

/** The hidden inputs of a page's form, as [name, value] pairs. */
function hiddenInputs(html: string): [string, string][] {
  const decode = (s: string) =>
    s
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&lt;/g, "<")
      .replace(/&gt;/g, ">")
      .replace(/&amp;/g, "&");
  return [...html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)].map((m) => [
    decode(m[1]!),
    decode(m[2]!),
  ]);
}

describe("fake Google OpenID provider", () => {
  it("publishes a discovery document whose endpoints all live under GOOGLE_OAUTH_BASE_URL", async () => {
    const r = await fetch(`${sandbox.googleBaseUrl}/.well-known/openid-configuration`);
    const doc = (await r.json()) as Record<string, unknown>;
    expect(sandbox.googleBaseUrl).toBe(`${sandbox.url}/google`);
    expect(doc).toMatchObject({
      issuer: `${sandbox.url}/google`,
      authorization_endpoint: `${sandbox.url}/google/o/oauth2/v2/auth`,
      token_endpoint: `${sandbox.url}/google/token`,
      jwks_uri: `${sandbox.url}/google/oauth2/v3/certs`,
      userinfo_endpoint: `${sandbox.url}/google/oauth2/v3/userinfo`,
      id_token_signing_alg_values_supported: ["RS256"],
      code_challenge_methods_supported: ["plain", "S256"],
      subject_types_supported: ["public"],
    });
    expect(doc.response_types_supported).toContain("code");
    expect(doc.scopes_supported).toEqual(expect.arrayContaining(["openid", "email", "profile"]));
  });

  it("publishes its signing key as an RS256 JWK", async () => {
    const { keys } = (await (await fetch(`${sandbox.googleBaseUrl}/oauth2/v3/certs`)).json()) as {
      keys: Record<string, string>[];
    };
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({
      kty: "RSA",
      alg: "RS256",
      use: "sig",
      e: "AQAB",
      kid: sandbox.oauth.google.kid,
    });
    expect(Buffer.from(keys[0]!.n!, "base64url")).toHaveLength(256);
  });

  it("signs in with a login_hint: redirects with the code and state, then exchanges it for a signed id_token", async () => {
    const { code, location, verifier } = await googleCode();
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
    expect(location.searchParams.get("state")).toBe("st+/=ate&1");
    expect(code).toMatch(/^4\/0A/);

    const r = await exchange(tokenForm(code, verifier));
    expect(r.status).toBe(200);
    const body = (await r.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      token_type: "Bearer",
      expires_in: 3599,
      scope: expect.stringContaining("openid"),
    });
    expect(body.access_token).toEqual(expect.any(String));

    const jwt = await readIdToken(body.id_token as string);
    expect(jwt.signatureValid).toBe(true);
    expect(jwt.header).toEqual({ alg: "RS256", kid: sandbox.oauth.google.kid, typ: "JWT" });
    const now = Math.floor(Date.now() / 1000);
    expect(jwt.claims).toMatchObject({
      iss: sandbox.googleBaseUrl,
      aud: CLIENT_ID,
      azp: CLIENT_ID,
      sub: googleSub("owner@example.com"),
      email: "owner@example.com",
      email_verified: true,
      name: "Owner",
      nonce: "n-0S6_WzA2Mj",
    });
    expect(jwt.claims.sub).toMatch(/^\d{21}$/);
    expect(Math.abs((jwt.claims.iat as number) - now)).toBeLessThan(5);
    expect(jwt.claims.exp).toBe((jwt.claims.iat as number) + 3600);
  });

  it("gives the same email the same sub on every sign-in, and a different email another", async () => {
    const a = await signInWithGoogle({ login_hint: "Jane.Doe@Example.com" });
    const b = await signInWithGoogle({ login_hint: "jane.doe@example.com" });
    const c = await signInWithGoogle({ login_hint: "someone@example.com" });
    expect(a.jwt.claims.sub).toBe(b.jwt.claims.sub);
    expect(a.jwt.claims.sub).not.toBe(c.jwt.claims.sub);
    expect(a.jwt.claims).toMatchObject({ email: "jane.doe@example.com", name: "Jane Doe" });
  });

  it("omits the nonce claim when the authorization request carried none", async () => {
    const { jwt } = await signInWithGoogle({ nonce: null });
    expect(jwt.signatureValid).toBe(true);
    expect(jwt.claims).not.toHaveProperty("nonce");
  });

  it("answers userinfo for the access token it issued and refuses any other", async () => {
    const { body } = await signInWithGoogle({ login_hint: "ana@example.com", name: "Ana Lima" });
    const ok = await fetch(`${sandbox.googleBaseUrl}/oauth2/v3/userinfo`, {
      headers: { authorization: `Bearer ${body.access_token}` },
    });
    expect(await ok.json()).toMatchObject({
      sub: googleSub("ana@example.com"),
      email: "ana@example.com",
      email_verified: true,
      name: "Ana Lima",
    });
    const bad = await fetch(`${sandbox.googleBaseUrl}/oauth2/v3/userinfo`, {
      headers: { authorization: "Bearer ya29.nope" },
    });
    expect(bad.status).toBe(401);
  });

  it("shows an account page without a login_hint whose form repeats every original parameter", async () => {
    const authorize = googleAuthorizeUrl({ login_hint: null });
    const r = await get(authorize);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await r.text();
    expect(html).toContain("Choose an account");
    expect(html).toContain('name="viewport"');
    expect(html).not.toMatch(/(src|href)="https?:/);
    expect(html).toMatch(/<form method="get" action="\/google\/o\/oauth2\/v2\/auth">/);
    expect(html).toMatch(/<input[^>]+name="login_hint" value="owner@example.com"/);
    expect(html).toMatch(/<input[^>]+name="name"/);
    expect(html).toContain(">Continue</button>");

    const hidden = hiddenInputs(html);
    expect(Object.fromEntries(hidden)).toEqual(Object.fromEntries(new URL(authorize).searchParams));

    // Submit the form as a browser would.
    const submit = new URL(`${sandbox.url}/google/o/oauth2/v2/auth`);
    for (const [k, v] of hidden) submit.searchParams.append(k, v);
    submit.searchParams.set("login_hint", "maria@example.com");
    submit.searchParams.set("name", "Maria Souza");
    submit.searchParams.set("sandbox_action", "continue");
    const back = await get(submit.toString());
    expect(back.status).toBe(302);
    const location = new URL(back.headers.get("location")!);
    expect(location.searchParams.get("state")).toBe("st+/=ate&1");
  });

  it("uses the name typed on the account page in the id_token", async () => {
    const { jwt } = await signInWithGoogle({ login_hint: "maria@example.com", name: "Maria Souza" });
    expect(jwt.claims).toMatchObject({ name: "Maria Souza", given_name: "Maria", family_name: "Souza" });
  });

  it("redirects back with access_denied when the account page is cancelled", async () => {
    const r = await get(googleAuthorizeUrl({ login_hint: null, sandbox_action: "deny" }));
    expect(r.status).toBe(302);
    const location = new URL(r.headers.get("location")!);
    expect(location.searchParams.get("error")).toBe("access_denied");
    expect(location.searchParams.get("state")).toBe("st+/=ate&1");
    expect(location.searchParams.has("code")).toBe(false);
  });

  it.each([
    ["an unknown client_id", { client_id: "someone-else.apps.googleusercontent.com" }, "invalid_client"],
    ["no client_id", { client_id: null }, "invalid_request"],
    ["no redirect_uri", { redirect_uri: null }, "invalid_request"],
    ["a non-http redirect_uri", { redirect_uri: "javascript:alert(1)" }, "invalid_request"],
    ["response_type=token", { response_type: "token" }, "unsupported_response_type"],
    ["a scope without openid", { scope: "email profile" }, "invalid_scope"],
    ["no code_challenge", { code_challenge: null }, "invalid_request"],
    ["code_challenge_method=plain", { code_challenge_method: "plain" }, "invalid_request"],
    ["no code_challenge_method", { code_challenge_method: null }, "invalid_request"],
  ])(
    "refuses an authorization request with %s with a 400 page, never a redirect",
    async (_, overrides, error) => {
      const r = await get(googleAuthorizeUrl(overrides));
      expect(r.status).toBe(400);
      expect(r.headers.get("location")).toBeNull();
      expect(await r.text()).toContain(`Error 400: ${error}`);
    },
  );

  it("refuses a token exchange whose code_verifier does not match the challenge", async () => {
    const { code } = await googleCode();
    const r = await exchange(tokenForm(code, pkce().verifier));
    expect(r.status).toBe(400);
    expect(await r.json()).toEqual({ error: "invalid_grant", error_description: "Invalid code verifier." });
  });

  it("refuses a token exchange without a code_verifier", async () => {
    const { code, verifier } = await googleCode();
    const form: Record<string, string> = tokenForm(code, verifier);
    delete form.code_verifier;
    const r = await exchange(form);
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ error: "invalid_grant" });
  });

  it("refuses a code the second time it is exchanged", async () => {
    const { code, verifier } = await googleCode();
    expect((await exchange(tokenForm(code, verifier))).status).toBe(200);
    const again = await exchange(tokenForm(code, verifier));
    expect(again.status).toBe(400);
    expect(await again.json()).toMatchObject({ error: "invalid_grant" });
  });

  it("refuses a code it never issued", async () => {
    const r = await exchange(tokenForm("4/0Anever-issued", pkce().verifier));
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ error: "invalid_grant" });
  });

  it("refuses a token exchange whose redirect_uri differs from the authorization request's", async () => {
    const { code, verifier } = await googleCode();
    const r = await exchange(tokenForm(code, verifier, { redirect_uri: `${REDIRECT}/other` }));
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ error: "invalid_grant" });
  });

  it("refuses a code after ten minutes", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const { code, verifier } = await googleCode();
    vi.setSystemTime(Date.now() + 10 * 60 * 1000 + 1000);
    const r = await exchange(tokenForm(code, verifier));
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ error: "invalid_grant" });
  });

  it("refuses a wrong client_secret with 401 invalid_client and leaves the code usable", async () => {
    const { code, verifier } = await googleCode();
    const r = await exchange(tokenForm(code, verifier, { client_secret: "wrong" }));
    expect(r.status).toBe(401);
    expect(await r.json()).toMatchObject({ error: "invalid_client" });
    expect((await exchange(tokenForm(code, verifier))).status).toBe(200);
  });

  it("refuses a different client_id with 401 invalid_client", async () => {
    const { code, verifier } = await googleCode();
    const r = await exchange(tokenForm(code, verifier, { client_id: "other.apps.googleusercontent.com" }));
    expect(r.status).toBe(401);
    expect(await r.json()).toMatchObject({ error: "invalid_client" });
  });

  it("accepts client credentials in an HTTP Basic header as well as in the form", async () => {
    const { code, verifier } = await googleCode();
    const form: Record<string, string> = tokenForm(code, verifier);
    delete form.client_id;
    delete form.client_secret;
    const basic = Buffer.from(
      `${encodeURIComponent(CLIENT_ID)}:${encodeURIComponent(CLIENT_SECRET)}`,
    ).toString("base64");
    const r = await exchange(form, { authorization: `Basic ${basic}` });
    expect(r.status).toBe(200);
  });

  it("refuses grant types other than authorization_code", async () => {
    const r = await exchange({ ...tokenForm("x", "y"), grant_type: "refresh_token" });
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ error: "unsupported_grant_type" });
  });

  it("records every token exchange with its outcome", async () => {
    const { code, verifier } = await googleCode();
    await exchange(tokenForm(code, verifier, { code_verifier: pkce().verifier }));
    const second = await googleCode();
    await exchange(tokenForm(second.code, second.verifier));
    const { tokenRequests } = (await (await fetch(`${sandbox.url}/__sandbox/oauth`)).json()) as {
      tokenRequests: unknown[];
    };
    expect(tokenRequests).toMatchObject([
      { provider: "google", code, ok: false, error: expect.stringContaining("invalid_grant") },
      { provider: "google", code: second.code, ok: true, error: null },
    ]);
  });

  describe("faults, each applied to the next id_token only", () => {
    it("bad_signature signs with another key under the same kid", async () => {
      expect((await inject("google", "bad_signature")).status).toBe(200);
      const bad = await signInWithGoogle();
      expect(bad.jwt.header.kid).toBe(sandbox.oauth.google.kid);
      expect(bad.jwt.signatureValid).toBe(false);
      expect((await signInWithGoogle()).jwt.signatureValid).toBe(true);
    });

    it("wrong_nonce puts a nonce other than the requested one in a validly signed token", async () => {
      await inject("google", "wrong_nonce");
      const { jwt } = await signInWithGoogle();
      expect(jwt.signatureValid).toBe(true);
      expect(jwt.claims.nonce).toEqual(expect.any(String));
      expect(jwt.claims.nonce).not.toBe("n-0S6_WzA2Mj");
      expect((await signInWithGoogle()).jwt.claims.nonce).toBe("n-0S6_WzA2Mj");
    });

    it("wrong_audience issues a validly signed token for another client", async () => {
      await inject("google", "wrong_audience");
      const { jwt } = await signInWithGoogle();
      expect(jwt.signatureValid).toBe(true);
      expect(jwt.claims.aud).not.toBe(CLIENT_ID);
      expect((await signInWithGoogle()).jwt.claims.aud).toBe(CLIENT_ID);
    });

    it("wrong_issuer issues a validly signed token from another issuer", async () => {
      await inject("google", "wrong_issuer");
      const { jwt } = await signInWithGoogle();
      expect(jwt.signatureValid).toBe(true);
      expect(jwt.claims.iss).not.toBe(sandbox.googleBaseUrl);
      expect((await signInWithGoogle()).jwt.claims.iss).toBe(sandbox.googleBaseUrl);
    });

    it("expired issues a token that expired an hour ago", async () => {
      await inject("google", "expired");
      const { jwt } = await signInWithGoogle();
      const now = Math.floor(Date.now() / 1000);
      expect(jwt.signatureValid).toBe(true);
      expect(Math.abs((jwt.claims.iat as number) - (now - 7200))).toBeLessThan(5);
      expect(Math.abs((jwt.claims.exp as number) - (now - 3600))).toBeLessThan(5);
      expect((await signInWithGoogle()).jwt.claims.exp as number).toBeGreaterThan(now);
    });

    it("refuses unknown faults and providers", async () => {
      expect((await inject("google", "bad_code")).status).toBe(400);
      expect((await inject("github", "expired")).status).toBe(400);
    });

    it("forgets pending faults and records on reset but keeps the signing key", async () => {
      const kid = sandbox.oauth.google.kid;
      await inject("google", "bad_signature");
      await fetch(`${sandbox.url}/__sandbox/reset`, { method: "POST" });
      const { jwt } = await signInWithGoogle();
      expect(jwt.signatureValid).toBe(true);
      expect(jwt.header.kid).toBe(kid);
      await fetch(`${sandbox.url}/__sandbox/reset`, { method: "POST" });
      const records = (await (await fetch(`${sandbox.url}/__sandbox/oauth`)).json()) as { tokenRequests: [] };
      expect(records.tokenRequests).toEqual([]);
    });
  });
});

describe("fake Facebook Login", () => {
  function dialogUrl(overrides: Record<string, string | null> = {}): string {
    const u = new URL(`${sandbox.facebookDialogBaseUrl}/dialog/oauth`);
    const params: Record<string, string | null> = {
      client_id: APP_ID,
      redirect_uri: FB_REDIRECT,
      state: "fb-state/1",
      scope: "email,public_profile",
      response_type: "code",
      login_hint: "owner@example.com",
      ...overrides,
    };
    for (const [k, v] of Object.entries(params)) if (v !== null) u.searchParams.set(k, v);
    return u.toString();
  }

  async function facebookCode(overrides: Record<string, string | null> = {}) {
    const r = await get(dialogUrl(overrides));
    expect(r.status).toBe(302);
    const location = new URL(r.headers.get("location")!);
    return { code: location.searchParams.get("code")!, location };
  }

  function accessToken(code: string, overrides: Record<string, string> = {}) {
    const u = new URL(`${sandbox.graphBaseUrl}/oauth/access_token`);
    const params = {
      client_id: APP_ID,
      redirect_uri: FB_REDIRECT,
      client_secret: APP_SECRET,
      code,
      ...overrides,
    };
    for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
    return fetch(u);
  }

  const me = (query: string, init: RequestInit = {}) => fetch(`${sandbox.graphBaseUrl}/me?${query}`, init);

  async function signIn(overrides: Record<string, string | null> = {}): Promise<string> {
    const { code } = await facebookCode(overrides);
    const r = await accessToken(code);
    expect(r.status).toBe(200);
    return ((await r.json()) as { access_token: string }).access_token;
  }

  it("signs in with a login_hint: dialog, code exchange on Graph, then /me with the requested fields", async () => {
    expect(sandbox.facebookDialogBaseUrl).toBe(`${sandbox.url}/facebook/v24.0`);
    const { code, location } = await facebookCode({ login_hint: "ana.lima@example.com" });
    expect(`${location.origin}${location.pathname}`).toBe(FB_REDIRECT);
    expect(location.searchParams.get("state")).toBe("fb-state/1");

    const r = await accessToken(code);
    expect(r.status).toBe(200);
    const token = (await r.json()) as { access_token: string };
    expect(token).toEqual({
      access_token: expect.stringMatching(/^EAA/),
      token_type: "bearer",
      expires_in: 5183944,
    });

    const profile = await me(`fields=id,name,email&access_token=${encodeURIComponent(token.access_token)}`);
    expect(profile.status).toBe(200);
    expect(await profile.json()).toEqual({
      id: facebookUserId("ana.lima@example.com"),
      name: "Ana Lima",
      email: "ana.lima@example.com",
    });
    expect(facebookUserId("ana.lima@example.com")).toMatch(/^\d{17}$/);
  });

  it("answers /me with only the requested fields, id always, and accepts a Bearer header", async () => {
    const token = await signIn({ name: "Ana Lima" });
    const r = await me("fields=name", { headers: { authorization: `Bearer ${token}` } });
    expect(await r.json()).toEqual({ name: "Ana Lima", id: facebookUserId("owner@example.com") });
  });

  it("leaves email out of /me unless the email permission was asked for", async () => {
    const token = await signIn({ scope: "public_profile" });
    const r = await me(`fields=id,name,email&access_token=${token}`);
    expect(await r.json()).toEqual({ id: facebookUserId("owner@example.com"), name: "Owner" });
  });

  it("checks appsecret_proof when one is sent", async () => {
    const token = await signIn();
    const proof = createHmac("sha256", APP_SECRET).update(token).digest("hex");
    expect((await me(`fields=id&access_token=${token}&appsecret_proof=${proof}`)).status).toBe(200);
    const bad = await me(`fields=id&access_token=${token}&appsecret_proof=${"0".repeat(64)}`);
    expect(bad.status).toBe(400);
  });

  it("refuses /me with an unknown access token as Graph does (code 190)", async () => {
    const r = await me("fields=id,name,email&access_token=EAAnope");
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({
      error: { type: "OAuthException", code: 190, fbtrace_id: expect.any(String) },
    });
  });

  it("shows a Continue-as page without a login_hint whose form repeats every original parameter", async () => {
    const dialog = dialogUrl({ login_hint: null });
    const r = await get(dialog);
    expect(r.status).toBe(200);
    const html = await r.text();
    expect(html).toContain("Continue as");
    expect(html).not.toMatch(/(src|href)="https?:/);
    expect(html).toMatch(/<form method="get" action="\/facebook\/v24.0\/dialog\/oauth">/);
    expect(html).toMatch(/<input[^>]+name="login_hint"/);
    expect(html).toMatch(/<input[^>]+name="name"/);
    const hidden = hiddenInputs(html);
    expect(Object.fromEntries(hidden)).toEqual(Object.fromEntries(new URL(dialog).searchParams));
  });

  it("redirects back with Facebook's denial parameters when the page is cancelled", async () => {
    const r = await get(dialogUrl({ login_hint: null, sandbox_action: "deny" }));
    expect(r.status).toBe(302);
    const location = new URL(r.headers.get("location")!);
    expect(Object.fromEntries(location.searchParams)).toMatchObject({
      error: "access_denied",
      error_reason: "user_denied",
      state: "fb-state/1",
    });
  });

  it.each([
    ["an unknown app id", { client_id: "999" }],
    ["no app id", { client_id: null }],
    ["no redirect_uri", { redirect_uri: null }],
    ["a non-http redirect_uri", { redirect_uri: "fb123://authorize" }],
    ["response_type=token", { response_type: "token" }],
  ])("refuses a dialog request with %s with a 400 page, never a redirect", async (_, overrides) => {
    const r = await get(dialogUrl(overrides));
    expect(r.status).toBe(400);
    expect(r.headers.get("location")).toBeNull();
  });

  it("refuses a code the second time it is exchanged", async () => {
    const { code } = await facebookCode();
    expect((await accessToken(code)).status).toBe(200);
    const again = await accessToken(code);
    expect(again.status).toBe(400);
    expect(await again.json()).toMatchObject({ error: { type: "OAuthException", code: 100 } });
  });

  it("refuses a code it never issued", async () => {
    const r = await accessToken("AQnever-issued");
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ error: { type: "OAuthException", code: 100 } });
  });

  it("refuses a code exchange whose redirect_uri differs from the dialog's", async () => {
    const { code } = await facebookCode();
    const r = await accessToken(code, { redirect_uri: `${FB_REDIRECT}?x=1` });
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({
      error: { type: "OAuthException", code: 100, error_subcode: 36008 },
    });
  });

  it("refuses a code exchange with the wrong app secret", async () => {
    const { code } = await facebookCode();
    const r = await accessToken(code, { client_secret: "wrong" });
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({
      error: { type: "OAuthException", code: 100, message: "Error validating client secret." },
    });
  });

  it("refuses a code after ten minutes", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const { code } = await facebookCode();
    vi.setSystemTime(Date.now() + 10 * 60 * 1000 + 1000);
    const r = await accessToken(code);
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ error: { code: 100, error_subcode: 36007 } });
  });

  it("bad_code makes the next code exchange fail with Graph's error, then recovers", async () => {
    expect((await inject("facebook", "bad_code")).status).toBe(200);
    const { code } = await facebookCode();
    const r = await accessToken(code);
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ error: { type: "OAuthException", code: 100 } });
    expect((await accessToken(code)).status).toBe(200);
    const { tokenRequests } = (await (await fetch(`${sandbox.url}/__sandbox/oauth`)).json()) as {
      tokenRequests: unknown[];
    };
    expect(tokenRequests).toMatchObject([
      { provider: "facebook", code, ok: false, fault: "bad_code" },
      { provider: "facebook", code, ok: true },
    ]);
  });

  it("keeps the Graph messages endpoint working beside the OAuth routes", async () => {
    const r = await fetch(`${sandbox.graphBaseUrl}/123/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        messaging_product: "whatsapp",
        to: "9190000",
        type: "text",
        text: { body: "hi" },
      }),
    });
    expect(r.status).toBe(200);
  });
});
