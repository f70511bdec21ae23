/**
 * Cloudflare Access application tokens (the `Cf-Access-Jwt-Assertion` header), verified with
 * jose as Cloudflare's "Validate JWTs" page asks: RS256, signed by one of the keys the team
 * publishes at `<team domain>/cdn-cgi/access/certs` (chosen by the token's `kid`), `aud`
 * containing the application's AUD tag, `iss` equal to the team domain, `exp` and `nbf`.
 *
 * The key set is cached in the isolate. Cloudflare rotates its signing key every six weeks and
 * keeps the previous one valid for seven days, publishing both; a token naming a `kid` we have not
 * seen makes us fetch the set again, but at most once per cooldown, so that made-up kids cannot
 * turn into a flood of requests to the team's endpoint; verifies arriving while a fetch is under
 * way wait for it. A refusal says why (for the log only: the visitor sees the same 403 whatever
 * the reason).
 */
import {
  createLocalJWKSet,
  decodeProtectedHeader,
  errors,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
  jwtVerify,
} from "jose";

/** Who Access let in: the identity's email and subject, and the token's signature segment. */
export type AccessIdentity = {
  email: string;
  sub: string;
  /** The token's third segment: unguessable, and new whenever Access issues a new token. */
  signature: string;
};

export type AccessRefusal =
  | "not_configured"
  | "no_token"
  | "malformed"
  | "bad_alg"
  | "unknown_kid"
  | "jwks_unavailable"
  | "bad_signature"
  | "expired"
  | "not_yet_valid"
  | "wrong_aud"
  | "wrong_iss"
  | "no_email";

export type AccessResult = { ok: true; identity: AccessIdentity } | { ok: false; reason: AccessRefusal };

export type AccessConfig = {
  /** `https://<team>.cloudflareaccess.com` (no trailing slash needed): the issuer and the certs' home. */
  teamDomain: string;
  /** The Access application's Audience (AUD) tag. */
  aud: string;
};

export type AccessVerifierOptions = {
  /** How the key set is fetched (default: the global fetch). */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
  /** Epoch ms (default Date.now); the key cache's clock. Token times use jose's own clock. */
  now?: () => number;
  /** A fetched key set is trusted this long before it is fetched again (default 10 minutes). */
  maxAgeMs?: number;
  /** The least time between two fetches of the key set (default 30 s). */
  refetchCooldownMs?: number;
  /** Leeway for `exp` and `nbf`, in seconds (default 60): clocks differ a little. */
  clockToleranceSec?: number;
};

export type AccessVerifier = {
  verify(token: string | null | undefined, config: AccessConfig): Promise<AccessResult>;
  /** How many times the key set was requested (successfully or not): for tests and logs. */
  readonly fetches: number;
};

const RS256 = "RS256";
const JWKS_TIMEOUT_MS = 5_000;

/** The issuer Access writes in `iss`: the team domain, without a trailing slash. */
export function normalizeTeamDomain(teamDomain: string): string {
  return teamDomain.trim().replace(/\/+$/, "");
}

export function accessCertsUrl(teamDomain: string): string {
  return `${normalizeTeamDomain(teamDomain)}/cdn-cgi/access/certs`;
}

type CachedKeys = {
  kids: Set<string>;
  getKey: JWTVerifyGetKey;
  fetchedAt: number;
};

/** One per isolate: the cache lives as long as it does. */
export function createAccessVerifier(opts: AccessVerifierOptions = {}): AccessVerifier {
  const doFetch = opts.fetch ?? ((url: string, init: RequestInit) => fetch(url, init));
  const now = opts.now ?? Date.now;
  const maxAgeMs = opts.maxAgeMs ?? 10 * 60_000;
  const cooldownMs = opts.refetchCooldownMs ?? 30_000;
  const clockTolerance = opts.clockToleranceSec ?? 60;
  const cache = new Map<string, CachedKeys>();
  /** When each key set was last asked for, whatever the answer: the cooldown counts from there. */
  const lastAttempt = new Map<string, number>();
  /**
   * The fetch under way per URL: a verify that needs the keys while it runs waits for it instead
   * of finding no keys yet (or not the rotated one) and refusing a valid token.
   */
  const inFlight = new Map<string, Promise<void>>();
  let fetches = 0;

  const mayFetch = (url: string) => {
    const last = lastAttempt.get(url);
    return last === undefined || now() - last >= cooldownMs;
  };

  /** Joins the fetch under way for `url`, or starts one when the cooldown allows it. */
  function refresh(url: string): Promise<void> | null {
    const running = inFlight.get(url);
    // Started by another request: should that one be cancelled, the Workers runtime may never
    // settle its fetch for us, so a joiner waits no longer than the fetch itself may take.
    if (running) return settledWithin(running, JWKS_TIMEOUT_MS);
    if (!mayFetch(url)) return null;
    const started = fetchKeys(url).finally(() => inFlight.delete(url));
    inFlight.set(url, started);
    return started;
  }

  /** Fetches the key set; a failure keeps whatever was cached before. */
  async function fetchKeys(url: string): Promise<void> {
    lastAttempt.set(url, now());
    fetches += 1;
    try {
      const res = await doFetch(url, {
        headers: { accept: "application/json" },
        signal: AbortSignal.timeout(JWKS_TIMEOUT_MS),
      });
      if (!res.ok) return;
      const jwks = (await res.json()) as JSONWebKeySet;
      // createLocalJWKSet checks the document's shape (throws on anything but { keys: [...] }).
      const getKey = createLocalJWKSet(jwks);
      const kids = new Set(jwks.keys.flatMap((k) => (typeof k.kid === "string" ? [k.kid] : [])));
      cache.set(url, { kids, getKey, fetchedAt: now() });
    } catch {
      // Unreachable, not JSON or not a key set: the previous keys (if any) stay in use.
    }
  }

  /** The key set that knows `kid`, fetching it when missing, stale or ignorant of the kid. */
  async function keysFor(url: string, kid: string): Promise<CachedKeys | AccessRefusal> {
    let keys = cache.get(url);
    const stale = !keys || now() - keys.fetchedAt >= maxAgeMs;
    if (stale || !keys?.kids.has(kid)) {
      const refreshing = refresh(url);
      if (refreshing) {
        await refreshing;
        keys = cache.get(url);
      }
    }
    if (!keys) return "jwks_unavailable";
    if (!keys.kids.has(kid)) return "unknown_kid";
    return keys;
  }

  return {
    get fetches() {
      return fetches;
    },
    async verify(token, config) {
      const teamDomain = normalizeTeamDomain(config.teamDomain ?? "");
      const aud = (config.aud ?? "").trim();
      if (!teamDomain || !aud) return { ok: false, reason: "not_configured" };
      if (!token) return { ok: false, reason: "no_token" };
      const parts = token.split(".");
      if (parts.length !== 3 || !parts[2]) return { ok: false, reason: "malformed" };
      let header: ReturnType<typeof decodeProtectedHeader>;
      try {
        header = decodeProtectedHeader(token);
      } catch {
        return { ok: false, reason: "malformed" };
      }
      // Only Access's algorithm: never `none`, never an HMAC keyed with something public.
      if (header.alg !== RS256) return { ok: false, reason: "bad_alg" };
      if (typeof header.kid !== "string" || !header.kid) return { ok: false, reason: "unknown_kid" };
      const keys = await keysFor(accessCertsUrl(teamDomain), header.kid);
      if (typeof keys === "string") return { ok: false, reason: keys };
      let payload: Awaited<ReturnType<typeof jwtVerify>>["payload"];
      try {
        ({ payload } = await jwtVerify(token, keys.getKey, {
          algorithms: [RS256],
          issuer: teamDomain,
          audience: aud,
          clockTolerance,
          requiredClaims: ["exp", "sub"],
        }));
      } catch (err) {
        return { ok: false, reason: refusalOf(err) };
      }
      const email = typeof payload.email === "string" ? payload.email.trim().toLowerCase() : "";
      // A service token (no identity) carries no email: the panel is for people only.
      if (!email.includes("@")) return { ok: false, reason: "no_email" };
      return { ok: true, identity: { email, sub: String(payload.sub), signature: parts[2] } };
    },
  };
}

/** `p`, or nothing once `ms` have passed, whichever comes first. */
async function settledWithin(p: Promise<void>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([p, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** jose's error, as the reason a token was refused. */
export function refusalOf(err: unknown): AccessRefusal {
  if (err instanceof errors.JWTExpired) return "expired";
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === "nbf") return "not_yet_valid";
    if (err.claim === "aud") return "wrong_aud";
    if (err.claim === "iss") return "wrong_iss";
    return "malformed";
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return "bad_signature";
  if (err instanceof errors.JOSEAlgNotAllowed) return "bad_alg";
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) {
    return "unknown_kid";
  }
  return "malformed";
}
