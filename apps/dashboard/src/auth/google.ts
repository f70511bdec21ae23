import * as jose from "jose";
import * as v from "valibot";
import type { Identity } from "../users.ts";

/**
 * Google sign-in: OpenID Connect authorization code flow with PKCE (S256), `state` and `nonce`.
 * Every endpoint comes from the discovery document under GOOGLE_OAUTH_BASE_URL, so tests and the
 * sandbox can play Google.
 */

const DiscoverySchema = v.object({
  issuer: v.pipe(v.string(), v.url()),
  authorization_endpoint: v.pipe(v.string(), v.url()),
  token_endpoint: v.pipe(v.string(), v.url()),
  jwks_uri: v.pipe(v.string(), v.url()),
});
type Discovery = v.InferOutput<typeof DiscoverySchema>;

const TokenResponseSchema = v.object({ id_token: v.string() });

const IdTokenClaimsSchema = v.object({
  sub: v.pipe(v.string(), v.minLength(1)),
  nonce: v.string(),
  email: v.optional(v.string()),
  email_verified: v.optional(v.boolean()),
  name: v.optional(v.string()),
});

const DISCOVERY_TTL_MS = 3600_000;
/** Issuers and key sets an isolate remembers: a deployment has one of each. */
const MAX_CACHED = 8;
const discoveries = new Map<string, { at: number; doc: Discovery }>();
const keySets = new Map<string, ReturnType<typeof jose.createRemoteJWKSet>>();

export class SignInError extends Error {
  override name = "SignInError";
}

async function discover(base: string): Promise<Discovery> {
  const cached = discoveries.get(base);
  if (cached && Date.now() - cached.at < DISCOVERY_TTL_MS) return cached.doc;
  const res = await fetch(`${base.replace(/\/$/, "")}/.well-known/openid-configuration`);
  if (!res.ok) throw new SignInError(`discovery answered ${res.status}`);
  const doc = v.parse(DiscoverySchema, await res.json());
  // Keyed by configured issuers (one in practice); bounded all the same.
  if (discoveries.size >= MAX_CACHED) discoveries.clear();
  discoveries.set(base, { at: Date.now(), doc });
  return doc;
}

function keySet(uri: string) {
  let set = keySets.get(uri);
  if (!set) {
    // jose caches the keys and refetches when a token names a kid it has not seen (key rotation).
    set = jose.createRemoteJWKSet(new URL(uri));
    if (keySets.size >= MAX_CACHED) keySets.clear();
    keySets.set(uri, set);
  }
  return set;
}

export async function googleAuthorizeUrl(
  env: Env,
  p: { redirectUri: string; state: string; nonce: string; challenge: string },
): Promise<string> {
  const doc = await discover(env.GOOGLE_OAUTH_BASE_URL);
  const url = new URL(doc.authorization_endpoint);
  url.search = new URLSearchParams({
    client_id: env.GOOGLE_CLIENT_ID,
    redirect_uri: p.redirectUri,
    response_type: "code",
    scope: "openid email profile",
    state: p.state,
    nonce: p.nonce,
    code_challenge: p.challenge,
    code_challenge_method: "S256",
    prompt: "select_account",
  }).toString();
  return url.toString();
}

/**
 * Exchanges the code (with the PKCE verifier) and verifies the ID token: signature against the
 * provider's published keys, issuer, audience, expiry, and our nonce.
 */
export async function googleIdentity(
  env: Env,
  p: { code: string; redirectUri: string; verifier: string; nonce: string },
): Promise<Identity> {
  const doc = await discover(env.GOOGLE_OAUTH_BASE_URL);
  const res = await fetch(doc.token_endpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code: p.code,
      redirect_uri: p.redirectUri,
      client_id: env.GOOGLE_CLIENT_ID,
      client_secret: env.GOOGLE_CLIENT_SECRET,
      code_verifier: p.verifier,
    }),
  });
  if (!res.ok) throw new SignInError(`token endpoint answered ${res.status}`);
  const tokens = v.safeParse(TokenResponseSchema, await res.json());
  if (!tokens.success) throw new SignInError("no id_token in the token response");
  let payload: jose.JWTPayload;
  try {
    ({ payload } = await jose.jwtVerify(tokens.output.id_token, keySet(doc.jwks_uri), {
      issuer: doc.issuer,
      audience: env.GOOGLE_CLIENT_ID,
      algorithms: ["RS256"],
      requiredClaims: ["sub", "iat", "exp"],
    }));
  } catch (err) {
    throw new SignInError(`id_token refused: ${(err as Error).name}`);
  }
  const claims = v.safeParse(IdTokenClaimsSchema, payload);
  if (!claims.success) throw new SignInError("id_token lacks sub or nonce");
  if (claims.output.nonce !== p.nonce) throw new SignInError("id_token nonce mismatch");
  const verifiedEmail = claims.output.email_verified ? (claims.output.email ?? null) : null;
  return {
    provider: "google",
    subject: claims.output.sub,
    email: verifiedEmail,
    name: claims.output.name ?? null,
  };
}
