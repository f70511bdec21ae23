import {
  createHash,
  createHmac,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
  randomBytes,
  sign,
} from "node:crypto";

/**
 * Fakes of Google's OpenID Connect provider and of Facebook Login that speak their wire formats:
 * the same endpoints, parameters, redirects, token responses and error bodies, so the dashboard's
 * sign-in code runs unchanged against them. Nobody types a password: the account page asks only
 * for an email (and optionally a name), and a `login_hint` skips the page for tests.
 */

export type OAuthReply = { status: number; body: unknown; headers?: Record<string, string> };

export type GoogleFault = "bad_signature" | "wrong_nonce" | "wrong_audience" | "wrong_issuer" | "expired";
export type FacebookFault = "bad_code";
export type OAuthFault =
  | { provider: "google"; fault: GoogleFault }
  | { provider: "facebook"; fault: FacebookFault };

/** One code exchange as the fake saw it, for tests that assert on what the dashboard did. */
export type TokenRequest = {
  provider: "google" | "facebook";
  code: string | null;
  ok: boolean;
  /** The error the provider answered, as "<error>: <description>"; null when ok. */
  error: string | null;
  /** The injected fault this exchange carried, if any. */
  fault: string | null;
  at: number;
};

export type OAuthIdentity = { email: string; name: string };

export type FakeOAuthOptions = {
  /** null accepts any client_id. */
  googleClientId: string | null;
  /** null accepts any client_secret. */
  googleClientSecret: string | null;
  /** null accepts any client_id (app id). */
  facebookAppId: string | null;
  /** null accepts any client_secret. */
  facebookAppSecret: string | null;
};

const CODE_TTL_MS = 10 * 60 * 1000;
const GOOGLE_TOKEN_TTL_S = 3599;
const FACEBOOK_TOKEN_TTL_S = 5183944;
const DEFAULT_EMAIL = "owner@example.com";
const GOOGLE_FAULTS: readonly string[] = [
  "bad_signature",
  "wrong_nonce",
  "wrong_audience",
  "wrong_issuer",
  "expired",
];
const FACEBOOK_FAULTS: readonly string[] = ["bad_code"];
// Google grants the short scope names as these URLs and reports them so in its responses.
const GOOGLE_SCOPE_URLS: Record<string, string> = {
  email: "https://www.googleapis.com/auth/userinfo.email",
  profile: "https://www.googleapis.com/auth/userinfo.profile",
};
const FACEBOOK_FIELDS = new Set(["id", "name", "email", "first_name", "last_name"]);

/** Google's `sub` for an email in the sandbox: stable, 21 digits, like Google's own. */
export function googleSub(email: string): string {
  return digits(`google:${email.trim().toLowerCase()}`, 21);
}

/** The Facebook (app-scoped) user id for an email in the sandbox: stable, 17 digits. */
export function facebookUserId(email: string): string {
  return digits(`facebook:${email.trim().toLowerCase()}`, 17);
}

/** Both fakes, their shared record of code exchanges, and the test-only fault switch. */
export class FakeOAuth {
  readonly tokenRequests: TokenRequest[] = [];
  readonly google: FakeGoogle;
  readonly facebook: FakeFacebook;

  constructor(opts: FakeOAuthOptions) {
    this.google = new FakeGoogle(opts.googleClientId, opts.googleClientSecret, this.tokenRequests);
    this.facebook = new FakeFacebook(opts.facebookAppId, opts.facebookAppSecret, this.tokenRequests);
  }

  /** Handles POST /__sandbox/oauth/faults: `{ provider, fault }`, applied once. */
  injectFault(input: unknown): OAuthReply {
    const { provider, fault } = (input ?? {}) as { provider?: unknown; fault?: unknown };
    if (provider === "google" && typeof fault === "string" && GOOGLE_FAULTS.includes(fault)) {
      this.google.injectFault(fault as GoogleFault);
      return { status: 200, body: { ok: true } };
    }
    if (provider === "facebook" && typeof fault === "string" && FACEBOOK_FAULTS.includes(fault)) {
      this.facebook.injectFault(fault as FacebookFault);
      return { status: 200, body: { ok: true } };
    }
    return {
      status: 400,
      body: {
        ok: false,
        error: {
          code: "invalid",
          message: `unknown fault; google: ${GOOGLE_FAULTS.join(", ")}; facebook: ${FACEBOOK_FAULTS.join(", ")}`,
        },
      },
    };
  }

  /** Forgets faults and records; keeps the signing key so cached JWKS stay valid. */
  reset(): void {
    this.tokenRequests.length = 0;
    this.google.reset();
    this.facebook.reset();
  }
}

type GoogleGrant = {
  clientId: string;
  redirectUri: string;
  scope: string;
  nonce: string | null;
  codeChallenge: string;
  identity: OAuthIdentity;
};

type AccessGrant = { identity: OAuthIdentity; scope: string; expiresAt: number };

/** Google's OpenID Connect provider: discovery, authorize (code + PKCE S256), token, JWKS, userinfo. */
export class FakeGoogle {
  /** `${sandbox}/google`; set once the server knows its port. */
  issuer = "";
  readonly kid: string;
  private readonly clientId: string | null;
  private readonly clientSecret: string | null;
  private readonly log: TokenRequest[];
  private readonly privateKey: KeyObject;
  private readonly publicJwk: JsonWebKey;
  private rogueKey: KeyObject | null = null;
  private faults: GoogleFault[] = [];
  private readonly codes = new CodeStore<GoogleGrant>();
  private readonly tokens = new Map<string, AccessGrant>();

  constructor(clientId: string | null, clientSecret: string | null, log: TokenRequest[]) {
    this.clientId = clientId;
    this.clientSecret = clientSecret;
    this.log = log;
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    this.privateKey = privateKey;
    this.publicJwk = publicKey.export({ format: "jwk" });
    // Derived from the key (RFC 7638 thumbprint) so a restarted sandbox gets a new kid and
    // verifiers that cache the JWKS refetch instead of trusting a stale key.
    const { e, kty, n } = this.publicJwk;
    this.kid = createHash("sha256").update(JSON.stringify({ e, kty, n })).digest("hex").slice(0, 40);
  }

  /** The next id_token issued carries this fault; faults queue, one per token. */
  injectFault(fault: GoogleFault): void {
    this.faults.push(fault);
  }

  reset(): void {
    this.faults = [];
  }

  discovery(): OAuthReply {
    const base = this.issuer;
    return {
      status: 200,
      body: {
        issuer: base,
        authorization_endpoint: `${base}/o/oauth2/v2/auth`,
        token_endpoint: `${base}/token`,
        userinfo_endpoint: `${base}/oauth2/v3/userinfo`,
        jwks_uri: `${base}/oauth2/v3/certs`,
        response_types_supported: ["code"],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: ["RS256"],
        scopes_supported: ["openid", "email", "profile"],
        token_endpoint_auth_methods_supported: ["client_secret_post", "client_secret_basic"],
        claims_supported: [
          "aud",
          "email",
          "email_verified",
          "exp",
          "family_name",
          "given_name",
          "iat",
          "iss",
          "name",
          "sub",
        ],
        code_challenge_methods_supported: ["plain", "S256"],
        grant_types_supported: ["authorization_code"],
      },
    };
  }

  jwks(): OAuthReply {
    const { kty, n, e } = this.publicJwk;
    return {
      status: 200,
      body: { keys: [{ kty, alg: "RS256", use: "sig", kid: this.kid, n, e }] },
      headers: { "cache-control": "public, max-age=300" },
    };
  }

  /** GET /o/oauth2/v2/auth: an error page, the account page, or the redirect back with a code. */
  authorize(params: URLSearchParams, path: string): OAuthReply {
    const p = (k: string) => params.get(k) ?? "";
    const refuse = (error: string, description: string) =>
      googleErrorPage(error, description, params, p("client_id"));
    if (!p("client_id")) return refuse("invalid_request", "Missing required parameter: client_id");
    if (this.clientId !== null && p("client_id") !== this.clientId) {
      return refuse("invalid_client", "The OAuth client was not found.");
    }
    if (!p("redirect_uri")) return refuse("invalid_request", "Missing required parameter: redirect_uri");
    if (!isHttpUrl(p("redirect_uri"))) {
      return refuse("invalid_request", `Invalid parameter value for redirect_uri: ${p("redirect_uri")}`);
    }
    if (!p("response_type")) return refuse("invalid_request", "Required parameter is missing: response_type");
    if (p("response_type") !== "code") {
      return refuse(
        "unsupported_response_type",
        `Invalid response_type: ${p("response_type")} (the sandbox fakes the code flow only)`,
      );
    }
    if (!p("scope")) return refuse("invalid_request", "Missing required parameter: scope");
    const requested = p("scope").split(/\s+/).filter(Boolean);
    const invalid = requested.filter(
      (s) => s !== "openid" && !(s in GOOGLE_SCOPE_URLS) && !s.startsWith("https://www.googleapis.com/auth/"),
    );
    if (invalid.length) {
      return refuse("invalid_scope", `Some requested scopes were invalid. {invalid=[${invalid.join(", ")}]}`);
    }
    if (!requested.includes("openid")) {
      return refuse("invalid_scope", "scope must include openid: the sandbox fakes OpenID Connect sign-in");
    }
    if (!p("code_challenge")) {
      return refuse(
        "invalid_request",
        "Missing required parameter: code_challenge (the sandbox requires PKCE)",
      );
    }
    if (p("code_challenge_method") !== "S256") {
      return refuse("invalid_request", "Invalid code_challenge_method: the sandbox requires S256");
    }
    if (!/^[A-Za-z0-9._~-]{43,128}$/.test(p("code_challenge"))) {
      return refuse("invalid_request", "Invalid parameter value for code_challenge.");
    }

    const redirectUri = p("redirect_uri");
    const state = params.get("state");
    if (params.get("sandbox_action") === "deny") {
      return redirect(redirectUri, { error: "access_denied", state, iss: this.issuer });
    }
    const login = readIdentity(params);
    if (!login.identity) {
      return { status: 200, body: googleAccountPage(params, path, login.error), headers: NO_STORE };
    }
    const scope = [...new Set(requested.map((s) => (s === "openid" ? s : (GOOGLE_SCOPE_URLS[s] ?? s))))].join(
      " ",
    );
    const code = `4/0A${randomToken(60)}`;
    this.codes.issue(code, {
      clientId: p("client_id"),
      redirectUri,
      scope,
      nonce: params.get("nonce"),
      codeChallenge: p("code_challenge"),
      identity: login.identity,
    });
    return redirect(redirectUri, { state, iss: this.issuer, code, scope, authuser: "0", prompt: "none" });
  }

  /** POST /token: the authorization_code grant, answered and refused as Google does. */
  token(contentType: string | undefined, authorization: string | undefined, raw: string): OAuthReply {
    const form = new URLSearchParams(raw);
    const code = form.get("code");
    const fail = (status: number, error: string, description: string): OAuthReply => {
      this.log.push({
        provider: "google",
        code,
        ok: false,
        error: `${error}: ${description}`,
        fault: null,
        at: Date.now(),
      });
      return { status, body: { error, error_description: description }, headers: NO_STORE };
    };
    if (!(contentType ?? "").toLowerCase().startsWith("application/x-www-form-urlencoded")) {
      return fail(
        400,
        "invalid_request",
        "Invalid Content-Type; expected application/x-www-form-urlencoded.",
      );
    }
    // client_secret_basic and client_secret_post, as the discovery document advertises.
    const basic = parseBasicAuth(authorization);
    const clientId = basic?.id ?? form.get("client_id");
    const clientSecret = basic?.secret ?? form.get("client_secret");
    if (!clientId) return fail(400, "invalid_request", "Could not determine client ID from request.");
    if (this.clientId !== null && clientId !== this.clientId) {
      return fail(401, "invalid_client", "The OAuth client was not found.");
    }
    if (this.clientSecret !== null && clientSecret !== this.clientSecret) {
      return fail(401, "invalid_client", "Unauthorized");
    }
    const grantType = form.get("grant_type");
    if (grantType !== "authorization_code") {
      return fail(400, "unsupported_grant_type", `Invalid grant_type: ${grantType ?? ""}`);
    }
    if (!code) return fail(400, "invalid_request", "Missing required parameter: code");
    const taken = this.codes.take(code);
    if (!taken.grant) {
      return fail(400, "invalid_grant", taken.error === "unknown" ? "Malformed auth code." : "Bad Request");
    }
    const grant = taken.grant;
    if (grant.clientId !== clientId) return fail(400, "invalid_grant", "Unauthorized");
    if (form.get("redirect_uri") !== grant.redirectUri) {
      return fail(400, "invalid_grant", "redirect_uri does not match the authorization request");
    }
    const verifier = form.get("code_verifier");
    if (!verifier) return fail(400, "invalid_grant", "Missing code verifier.");
    if (createHash("sha256").update(verifier).digest("base64url") !== grant.codeChallenge) {
      return fail(400, "invalid_grant", "Invalid code verifier.");
    }

    const accessToken = `ya29.a0${randomToken(120)}`;
    this.tokens.set(accessToken, {
      identity: grant.identity,
      scope: grant.scope,
      expiresAt: Date.now() + GOOGLE_TOKEN_TTL_S * 1000,
    });
    const fault = this.faults.shift() ?? null;
    const idToken = this.idToken(grant, clientId, accessToken, fault);
    this.log.push({ provider: "google", code, ok: true, error: null, fault, at: Date.now() });
    return {
      status: 200,
      body: {
        access_token: accessToken,
        expires_in: GOOGLE_TOKEN_TTL_S,
        scope: grant.scope,
        token_type: "Bearer",
        id_token: idToken,
      },
      headers: NO_STORE,
    };
  }

  /** GET /oauth2/v3/userinfo with the access token as a Bearer credential. */
  userinfo(authorization: string | undefined): OAuthReply {
    const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? "")?.[1];
    const grant = token ? this.tokens.get(token) : undefined;
    if (!grant || grant.expiresAt <= Date.now()) {
      return {
        status: 401,
        body: { error: "invalid_request", error_description: "Invalid Credentials" },
        headers: { "www-authenticate": 'Bearer realm="https://accounts.google.com/", error="invalid_token"' },
      };
    }
    return { status: 200, body: { sub: googleSub(grant.identity.email), ...profileClaims(grant) } };
  }

  private idToken(
    grant: GoogleGrant,
    clientId: string,
    accessToken: string,
    fault: GoogleFault | null,
  ): string {
    const now = Math.floor(Date.now() / 1000);
    const iat = fault === "expired" ? now - 7200 : now;
    const aud = fault === "wrong_audience" ? "sandbox-other-client.apps.googleusercontent.com" : clientId;
    const nonce = fault === "wrong_nonce" ? `sandbox-wrong-${randomToken(12)}` : grant.nonce;
    const claims = {
      iss: fault === "wrong_issuer" ? "https://accounts.sandbox.invalid" : this.issuer,
      azp: aud,
      aud,
      sub: googleSub(grant.identity.email),
      ...profileClaims({ identity: grant.identity, scope: grant.scope }),
      at_hash: createHash("sha256").update(accessToken).digest().subarray(0, 16).toString("base64url"),
      ...(nonce === null ? {} : { nonce }),
      iat,
      exp: iat + 3600,
    };
    if (fault === "bad_signature" && !this.rogueKey) {
      this.rogueKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
    }
    const key = fault === "bad_signature" ? this.rogueKey! : this.privateKey;
    const input = `${b64json({ alg: "RS256", kid: this.kid, typ: "JWT" })}.${b64json(claims)}`;
    return `${input}.${sign("sha256", Buffer.from(input), key).toString("base64url")}`;
  }
}

type FacebookGrant = {
  appId: string;
  /** null for codes the JavaScript SDK hands the page (Embedded Signup): no redirect to match. */
  redirectUri: string | null;
  scope: string[];
  identity: OAuthIdentity;
};

/** Facebook Login: the OAuth dialog, and the Graph API's code exchange and /me. */
export class FakeFacebook {
  private readonly appId: string | null;
  private readonly appSecret: string | null;
  private readonly log: TokenRequest[];
  private faults: FacebookFault[] = [];
  private readonly codes = new CodeStore<FacebookGrant>();
  private readonly tokens = new Map<string, AccessGrant>();

  constructor(appId: string | null, appSecret: string | null, log: TokenRequest[]) {
    this.appId = appId;
    this.appSecret = appSecret;
    this.log = log;
  }

  /** The next code exchange fails with this fault; the code itself stays unused. */
  injectFault(fault: FacebookFault): void {
    this.faults.push(fault);
  }

  reset(): void {
    this.faults = [];
  }

  /** GET /{version}/dialog/oauth on www.facebook.com. */
  dialog(params: URLSearchParams, path: string): OAuthReply {
    const p = (k: string) => params.get(k) ?? "";
    if (!p("client_id") || (this.appId !== null && p("client_id") !== this.appId)) {
      return facebookErrorPage(
        "Invalid App ID",
        "The provided app ID does not look like a valid app ID.",
        params,
      );
    }
    if (!isHttpUrl(p("redirect_uri"))) {
      return facebookErrorPage(
        "URL blocked",
        "This redirect failed because the redirect URI is missing or not an http(s) URL.",
        params,
      );
    }
    if (params.has("response_type") && p("response_type") !== "code") {
      return facebookErrorPage(
        "Unsupported response_type",
        `The sandbox fakes response_type=code only, not ${p("response_type")}.`,
        params,
      );
    }
    const redirectUri = p("redirect_uri");
    const state = params.get("state");
    if (params.get("sandbox_action") === "deny") {
      return redirect(
        redirectUri,
        {
          error_reason: "user_denied",
          error: "access_denied",
          error_description: "Permissions error.",
          state,
        },
        "#_=_",
      );
    }
    const login = readIdentity(params);
    if (!login.identity) {
      return { status: 200, body: facebookAccountPage(params, path, login.error), headers: NO_STORE };
    }
    const code = `AQ${randomToken(180)}`;
    this.codes.issue(code, {
      appId: p("client_id"),
      redirectUri,
      // public_profile is always granted; anything else (email) only when asked for.
      scope: [
        ...new Set([
          "public_profile",
          ...p("scope")
            .split(/[\s,]+/)
            .filter(Boolean),
        ]),
      ],
      identity: login.identity,
    });
    // Facebook appends "#_=_" to the redirect; harmless, since fragments never reach the server.
    return redirect(redirectUri, { code, state }, "#_=_");
  }

  /** GET graph.facebook.com/{version}/oauth/access_token: code for a user access token. */
  accessToken(params: URLSearchParams): OAuthReply {
    const code = params.get("code");
    const fail = (errorCode: number, message: string, subcode?: number, fault: string | null = null) => {
      this.log.push({
        provider: "facebook",
        code,
        ok: false,
        error: `OAuthException: (#${errorCode}) ${message}`,
        fault,
        at: Date.now(),
      });
      return graphError(400, errorCode, message, subcode);
    };
    const appId = params.get("client_id");
    if (!appId || (this.appId !== null && appId !== this.appId)) {
      return fail(101, "Error validating application. Invalid application ID.");
    }
    if (!params.get("client_secret")) return fail(100, "Missing client_secret parameter.");
    if (this.appSecret !== null && params.get("client_secret") !== this.appSecret) {
      return fail(100, "Error validating client secret.");
    }
    if (!code) return fail(100, "Missing code parameter.");
    const fault = this.faults.shift();
    if (fault) return fail(100, "Invalid verification code format.", undefined, fault);
    const taken = this.codes.take(code);
    if (!taken.grant) {
      if (taken.error === "used") return fail(100, "This authorization code has been used.", 36009);
      if (taken.error === "expired") return fail(100, "This authorization code has expired.", 36007);
      return fail(100, "Invalid verification code format.");
    }
    const grant = taken.grant;
    if (grant.appId !== appId) return fail(100, "Invalid verification code format.");
    if (grant.redirectUri !== null && !params.get("redirect_uri")) {
      return fail(100, "Missing redirect_uri parameter.");
    }
    if (grant.redirectUri !== null && grant.redirectUri !== params.get("redirect_uri")) {
      return fail(
        100,
        "Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request",
        36008,
      );
    }
    const accessToken = `EAA${randomBytes(120)
      .toString("base64")
      .replace(/[^A-Za-z0-9]/g, "")}`;
    this.tokens.set(accessToken, {
      identity: grant.identity,
      scope: grant.scope.join(","),
      expiresAt: Date.now() + FACEBOOK_TOKEN_TTL_S * 1000,
    });
    this.log.push({ provider: "facebook", code, ok: true, error: null, fault: null, at: Date.now() });
    return {
      status: 200,
      body: { access_token: accessToken, token_type: "bearer", expires_in: FACEBOOK_TOKEN_TTL_S },
    };
  }

  /**
   * What Embedded Signup's popup gives the page that opened it: a code the server exchanges without
   * a redirect_uri (the JavaScript SDK carried it, not a redirect).
   */
  issueSdkCode(appId: string | null, identity: OAuthIdentity): string {
    const code = `AQ${randomToken(180)}`;
    this.codes.issue(code, {
      appId: appId ?? this.appId ?? "",
      redirectUri: null,
      scope: ["whatsapp_business_management", "whatsapp_business_messaging"],
      identity,
    });
    return code;
  }

  /** Whether a token came from a code exchange here and is still valid. */
  knowsToken(token: string): boolean {
    const grant = this.tokens.get(token);
    return grant !== undefined && grant.expiresAt > Date.now();
  }

  /** The app-scoped user id behind a valid token from a code exchange here; null otherwise. */
  userIdOf(token: string): string | null {
    const grant = this.tokens.get(token);
    return grant && grant.expiresAt > Date.now() ? facebookUserId(grant.identity.email) : null;
  }

  /** GET graph.facebook.com/{version}/me?fields=…: the requested fields of the token's user. */
  me(params: URLSearchParams, authorization: string | undefined): OAuthReply {
    const token =
      params.get("access_token") ?? /^(?:Bearer|OAuth)\s+(\S+)$/i.exec(authorization ?? "")?.[1] ?? null;
    if (!token) {
      return graphError(
        400,
        2500,
        "An active access token must be used to query information about the current user.",
      );
    }
    const grant = this.tokens.get(token);
    if (!grant) return graphError(400, 190, "Invalid OAuth access token - Cannot parse access token");
    if (grant.expiresAt <= Date.now()) {
      return graphError(400, 190, "Error validating access token: Session has expired.", 463);
    }
    const proof = params.get("appsecret_proof");
    if (proof !== null && this.appSecret !== null) {
      const expected = createHmac("sha256", this.appSecret).update(token).digest("hex");
      if (proof !== expected) {
        return graphError(400, 100, "Invalid appsecret_proof provided in the API argument");
      }
    }
    // Graph answers id and name when no fields are asked for.
    const fields = (params.get("fields") ?? "id,name")
      .split(",")
      .map((f) => f.trim())
      .filter(Boolean);
    const unknown = fields.find((f) => !FACEBOOK_FIELDS.has(f));
    if (unknown) {
      return graphError(
        400,
        100,
        `(#100) Tried accessing nonexisting field (${unknown}) on node type (User)`,
      );
    }
    const { email, name } = grant.identity;
    const [first, ...rest] = name.split(" ");
    const values: Record<string, string> = {
      id: facebookUserId(email),
      name,
      first_name: first ?? name,
      last_name: rest.join(" "),
    };
    // Facebook leaves email out, silently, unless the user granted the email permission.
    if (grant.scope.split(",").includes("email")) values.email = email;
    const body: Record<string, string> = {};
    for (const f of fields) if (values[f] !== undefined) body[f] = values[f];
    body.id = values.id!;
    return { status: 200, body };
  }
}

/** Authorization codes: single use, ten minutes. */
class CodeStore<T> {
  private readonly codes = new Map<string, { grant: T; expiresAt: number; used: boolean }>();

  issue(code: string, grant: T): void {
    const now = Date.now();
    // Keep used and expired codes a while so a replay is told apart from garbage, then forget them.
    for (const [c, entry] of this.codes) if (entry.expiresAt + CODE_TTL_MS < now) this.codes.delete(c);
    this.codes.set(code, { grant, expiresAt: now + CODE_TTL_MS, used: false });
  }

  take(
    code: string,
  ): { grant: T; error?: undefined } | { grant?: undefined; error: "unknown" | "used" | "expired" } {
    const entry = this.codes.get(code);
    if (!entry) return { error: "unknown" };
    if (entry.used) return { error: "used" };
    entry.used = true;
    if (entry.expiresAt <= Date.now()) return { error: "expired" };
    return { grant: entry.grant };
  }
}

const NO_STORE = { "cache-control": "no-cache, no-store, max-age=0, must-revalidate", pragma: "no-cache" };

function profileClaims(grant: { identity: OAuthIdentity; scope: string }): Record<string, string | boolean> {
  // As Google: email claims only with the email scope, name claims only with the profile scope.
  const scopes = grant.scope.split(" ");
  const { email, name } = grant.identity;
  const [given, ...family] = name.split(" ");
  return {
    ...(scopes.includes(GOOGLE_SCOPE_URLS.email!) ? { email, email_verified: true } : {}),
    ...(scopes.includes(GOOGLE_SCOPE_URLS.profile!)
      ? {
          name,
          ...(given ? { given_name: given } : {}),
          ...(family.length ? { family_name: family.join(" ") } : {}),
        }
      : {}),
  };
}

function readIdentity(params: URLSearchParams): { identity?: OAuthIdentity; error?: string } {
  const hint = params.get("login_hint");
  if (hint === null) return {};
  const email = hint.trim().toLowerCase();
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) return { error: "Enter a valid email address." };
  const name = params.get("name")?.trim() || nameFromEmail(email);
  return { identity: { email, name } };
}

/** "jane.doe@example.com" → "Jane Doe". */
function nameFromEmail(email: string): string {
  return email
    .split("@")[0]!
    .split(/[._+-]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join(" ");
}

function digits(seed: string, count: number): string {
  return BigInt(`0x${createHash("sha256").update(seed).digest("hex")}`)
    .toString()
    .slice(0, count);
}

function randomToken(length: number): string {
  return randomBytes(Math.ceil((length * 3) / 4))
    .toString("base64url")
    .slice(0, length);
}

function b64json(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

function isHttpUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return u.protocol === "http:" || u.protocol === "https:";
  } catch {
    return false;
  }
}

function redirect(uri: string, params: Record<string, string | null>, fragment = ""): OAuthReply {
  const target = new URL(uri);
  for (const [k, v] of Object.entries(params)) if (v !== null) target.searchParams.append(k, v);
  target.hash = "";
  return { status: 302, body: "", headers: { location: `${target.toString()}${fragment}` } };
}

function parseBasicAuth(header: string | undefined): { id: string; secret: string } | null {
  const m = /^Basic\s+(\S+)$/i.exec(header ?? "");
  if (!m) return null;
  const decoded = Buffer.from(m[1]!, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return null;
  // RFC 6749 §2.3.1: both halves are form-urlencoded before joining.
  const unform = (s: string) => decodeURIComponent(s.replace(/\+/g, " "));
  return { id: unform(decoded.slice(0, colon)), secret: unform(decoded.slice(colon + 1)) };
}

function graphError(status: number, code: number, message: string, subcode?: number): OAuthReply {
  return {
    status,
    body: {
      error: {
        message,
        type: "OAuthException",
        code,
        ...(subcode === undefined ? {} : { error_subcode: subcode }),
        fbtrace_id: `Sandbox${randomToken(11)}`,
      },
    },
  };
}

// ---- pages: plain HTML, no external resources, fine at 375 px ----

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

const OWN_INPUTS = new Set(["login_hint", "name", "sandbox_action"]);

/** Every original parameter as a hidden input, so submitting the page repeats the request. */
function hiddenInputs(params: URLSearchParams): string {
  return [...params]
    .filter(([k]) => !OWN_INPUTS.has(k))
    .map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`)
    .join("\n    ");
}

function hostOf(uri: string | null): string {
  try {
    return new URL(uri ?? "").host;
  } catch {
    return "the app";
  }
}

function shell(title: string, accent: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>
  *{box-sizing:border-box} body{margin:0;font:16px/1.45 system-ui,sans-serif;background:#f0f2f5;color:#1f1f1f}
  main{max-width:420px;margin:8vh auto 24px;padding:32px 24px;background:#fff;border-radius:16px;box-shadow:0 1px 3px #0002}
  .brand{font-weight:600;color:${accent};margin:0 0 16px} h1{font-size:24px;font-weight:500;margin:0 0 4px}
  p{margin:0 0 20px;color:#444} label{display:block;font-size:14px;margin:0 0 4px}
  input[type=email],input[type=text]{width:100%;padding:12px;font:inherit;border:1px solid #c4c7c5;border-radius:8px;margin:0 0 16px}
  .row{display:flex;justify-content:flex-end;gap:8px;margin-top:8px}
  button{padding:10px 22px;font:inherit;font-weight:500;border:0;border-radius:20px;cursor:pointer}
  .primary{background:${accent};color:#fff} .secondary{background:transparent;color:${accent}}
  .err{color:#b3261e;margin:0 0 16px} .note{font-size:12px;color:#666;margin:20px 0 0}
  dl{font-size:13px;color:#444;overflow-wrap:anywhere} dt{font-weight:600}
</style></head>
<body><main>
${body}
</main></body></html>`;
}

function accountForm(params: URLSearchParams, path: string, error: string | undefined): string {
  const email = params.get("login_hint") ?? DEFAULT_EMAIL;
  return `<form method="get" action="${esc(path)}">
    ${hiddenInputs(params)}
    ${error ? `<p class="err" role="alert">${esc(error)}</p>` : ""}
    <label for="login_hint">Email</label>
    <input id="login_hint" type="email" name="login_hint" value="${esc(email)}" required autocomplete="email">
    <label for="name">Name <span style="color:#666">(optional)</span></label>
    <input id="name" type="text" name="name" value="${esc(params.get("name") ?? "")}" autocomplete="name" placeholder="From the email when empty">
    <div class="row">
      <button class="secondary" type="submit" name="sandbox_action" value="deny" formnovalidate>Cancel</button>
      <button class="primary" type="submit" name="sandbox_action" value="continue">Continue</button>
    </div>
  </form>
  <p class="note">Sandbox: no password, nothing leaves this machine.</p>`;
}

function googleAccountPage(params: URLSearchParams, path: string, error?: string): string {
  return shell(
    "Sign in - Google Accounts (sandbox)",
    "#0b57d0",
    `<p class="brand">Google · sandbox</p>
  <h1>Choose an account</h1>
  <p>to continue to ${esc(hostOf(params.get("redirect_uri")))}</p>
  ${accountForm(params, path, error)}`,
  );
}

function facebookAccountPage(params: URLSearchParams, path: string, error?: string): string {
  const email = params.get("login_hint") ?? DEFAULT_EMAIL;
  return shell(
    "Log in with Facebook (sandbox)",
    "#1877f2",
    `<p class="brand">facebook · sandbox</p>
  <h1>Continue as ${esc(params.get("name")?.trim() || nameFromEmail(email) || "you")}?</h1>
  <p>${esc(hostOf(params.get("redirect_uri")))} will receive your name${
    (params.get("scope") ?? "").includes("email") ? " and email address" : ""
  }.</p>
  ${accountForm(params, path, error)}`,
  );
}

function requestDetails(params: URLSearchParams): string {
  return `<dl>${[...params]
    .filter(([k]) => !OWN_INPUTS.has(k))
    .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`)
    .join("")}</dl>`;
}

function googleErrorPage(
  error: string,
  description: string,
  params: URLSearchParams,
  app: string,
): OAuthReply {
  return {
    status: 400,
    body: shell(
      `Error 400: ${error}`,
      "#0b57d0",
      `<p class="brand">Google · sandbox</p>
  <h1>Access blocked: Authorization Error</h1>
  <p>${esc(app || "The app")} sent an invalid request.</p>
  <p><strong>Error 400: ${esc(error)}</strong><br>${esc(description)}</p>
  <p>Request details:</p>${requestDetails(params)}`,
    ),
    headers: NO_STORE,
  };
}

function facebookErrorPage(title: string, description: string, params: URLSearchParams): OAuthReply {
  return {
    status: 400,
    body: shell(
      `Error - ${title}`,
      "#1877f2",
      `<p class="brand">facebook · sandbox</p>
  <h1>${esc(title)}</h1>
  <p>${esc(description)}</p>${requestDetails(params)}`,
    ),
    headers: NO_STORE,
  };
}
