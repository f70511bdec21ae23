import { base64url, exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { accessCertsUrl, createAccessVerifier, normalizeTeamDomain } from "./access-jwt.ts";

const TEAM = "https://team.cloudflareaccess.com";
const AUD = "4714c1358e65fe4b408ad6d432a5f878f08194bdb4752441fd56faefa9b2b6f2";
const CONFIG = { teamDomain: TEAM, aud: AUD };

type Pair = { privateKey: CryptoKey; jwk: JWK };
let current: Pair;
let other: Pair;

async function pair(kid: string): Promise<Pair> {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" } };
}

beforeAll(async () => {
  current = await pair("kid-current");
  other = await pair("kid-other");
});

const nowSec = () => Math.floor(Date.now() / 1000);

function sign(
  claims: Record<string, unknown> = {},
  opts: { kid?: string; key?: CryptoKey; exp?: number; nbf?: number } = {},
) {
  const t = nowSec();
  // Access's claim shapes (developers.cloudflare.com, "Application token"); `claims` overrides.
  const payload = {
    aud: [AUD],
    email: "Ops@Example.com",
    exp: opts.exp ?? t + 3600,
    iat: t,
    nbf: opts.nbf ?? t,
    iss: TEAM,
    type: "app",
    identity_nonce: "6ei69kawdKzMIAPF",
    sub: "7335d417-61da-459d-899c-0a01c76a2f94",
    country: "IN",
    ...claims,
  };
  return new SignJWT(payload)
    .setProtectedHeader({ alg: "RS256", kid: opts.kid ?? "kid-current", typ: "JWT" })
    .sign(opts.key ?? current.privateKey);
}

/** A JWKS endpoint that counts its requests and answers what `serve` says. */
function endpoint(serve: () => Response = () => Response.json({ keys: [current.jwk] })) {
  const calls: string[] = [];
  return {
    calls,
    fetch: async (url: string) => {
      calls.push(url);
      return serve();
    },
  };
}

describe("normalizeTeamDomain / accessCertsUrl", () => {
  it("drops trailing slashes and appends Access's certs path", () => {
    expect(normalizeTeamDomain(" https://team.cloudflareaccess.com/ ")).toBe(TEAM);
    expect(accessCertsUrl(`${TEAM}/`)).toBe(`${TEAM}/cdn-cgi/access/certs`);
  });
});

describe("createAccessVerifier", () => {
  it("accepts a valid token: the email (lowercased), the subject and the signature segment", async () => {
    const ep = endpoint();
    const v = createAccessVerifier({ fetch: ep.fetch });
    const token = await sign();
    const r = await v.verify(token, CONFIG);
    expect(r).toEqual({
      ok: true,
      identity: {
        email: "ops@example.com",
        sub: "7335d417-61da-459d-899c-0a01c76a2f94",
        signature: token.split(".")[2],
      },
    });
    expect(ep.calls).toEqual([`${TEAM}/cdn-cgi/access/certs`]);
    // The key set is cached: a second token costs no fetch.
    expect((await v.verify(await sign(), CONFIG)).ok).toBe(true);
    expect(ep.calls).toHaveLength(1);
  });

  it("refuses without configuration or token, before fetching anything", async () => {
    const ep = endpoint();
    const v = createAccessVerifier({ fetch: ep.fetch });
    const token = await sign();
    expect(await v.verify(token, { teamDomain: "", aud: AUD })).toEqual({
      ok: false,
      reason: "not_configured",
    });
    expect(await v.verify(token, { teamDomain: TEAM, aud: " " })).toEqual({
      ok: false,
      reason: "not_configured",
    });
    expect(await v.verify(null, CONFIG)).toEqual({ ok: false, reason: "no_token" });
    expect(await v.verify("", CONFIG)).toEqual({ ok: false, reason: "no_token" });
    expect(await v.verify("a.b", CONFIG)).toEqual({ ok: false, reason: "malformed" });
    expect(await v.verify("!!.??.xx", CONFIG)).toEqual({ ok: false, reason: "malformed" });
    expect(ep.calls).toEqual([]);
  });

  it.each([
    ["expired", { exp: nowSec() - 3600 }, "expired"],
    ["not yet valid", { nbf: nowSec() + 3600 }, "not_yet_valid"],
  ] as const)("refuses a token that is %s", async (_, times, reason) => {
    const v = createAccessVerifier({ fetch: endpoint().fetch });
    expect(await v.verify(await sign({}, times), CONFIG)).toEqual({ ok: false, reason });
  });

  it("allows a minute of clock skew on exp and nbf, no more", async () => {
    const v = createAccessVerifier({ fetch: endpoint().fetch });
    expect((await v.verify(await sign({}, { exp: nowSec() - 30 }), CONFIG)).ok).toBe(true);
    expect((await v.verify(await sign({}, { nbf: nowSec() + 30 }), CONFIG)).ok).toBe(true);
    expect((await v.verify(await sign({}, { exp: nowSec() - 120 }), CONFIG)).ok).toBe(false);
  });

  it("refuses another application's audience and another issuer", async () => {
    const v = createAccessVerifier({ fetch: endpoint().fetch });
    expect(await v.verify(await sign({ aud: ["someone-else"] }), CONFIG)).toEqual({
      ok: false,
      reason: "wrong_aud",
    });
    expect(await v.verify(await sign({ iss: "https://evil.cloudflareaccess.com" }), CONFIG)).toEqual({
      ok: false,
      reason: "wrong_iss",
    });
    // aud is an array in Access's tokens; ours only has to be among its members.
    expect((await v.verify(await sign({ aud: ["other", AUD] }), CONFIG)).ok).toBe(true);
  });

  it("refuses HS256 (even keyed with the public key) and alg none", async () => {
    const v = createAccessVerifier({ fetch: endpoint().fetch });
    const hs = await new SignJWT({ email: "ops@example.com" })
      .setProtectedHeader({ alg: "HS256", kid: "kid-current" })
      .setIssuer(TEAM)
      .setAudience([AUD])
      .setSubject("x")
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode(String(current.jwk.n)));
    expect(await v.verify(hs, CONFIG)).toEqual({ ok: false, reason: "bad_alg" });
    const b64 = (o: unknown) => base64url.encode(JSON.stringify(o));
    const payload = { email: "ops@example.com", iss: TEAM, aud: [AUD], sub: "x", exp: nowSec() + 60 };
    for (const none of [
      `${b64({ alg: "none", kid: "kid-current" })}.${b64(payload)}.`,
      `${b64({ alg: "none", kid: "kid-current" })}.${b64(payload)}.c2ln`,
    ]) {
      expect((await v.verify(none, CONFIG)).ok).toBe(false);
    }
  });

  it("refuses a signature by another key under a known kid", async () => {
    const v = createAccessVerifier({ fetch: endpoint().fetch });
    expect(await v.verify(await sign({}, { key: other.privateKey }), CONFIG)).toEqual({
      ok: false,
      reason: "bad_signature",
    });
  });

  it("refuses a token without an email (a service token)", async () => {
    const v = createAccessVerifier({ fetch: endpoint().fetch });
    expect(await v.verify(await sign({ email: undefined, common_name: "svc" }), CONFIG)).toEqual({
      ok: false,
      reason: "no_email",
    });
  });

  it("refetches once on an unknown kid, then refuses; made-up kids wait out the cooldown", async () => {
    let t = 1_000_000;
    const ep = endpoint();
    const v = createAccessVerifier({ fetch: ep.fetch, now: () => t, refetchCooldownMs: 30_000 });
    expect((await v.verify(await sign(), CONFIG)).ok).toBe(true);
    expect(ep.calls).toHaveLength(1);
    t += 30_000;
    const unknown = await sign({}, { kid: "kid-made-up", key: other.privateKey });
    expect(await v.verify(unknown, CONFIG)).toEqual({ ok: false, reason: "unknown_kid" });
    expect(ep.calls).toHaveLength(2);
    // A flood of made-up kids within the cooldown costs nothing more.
    for (let i = 0; i < 5; i++) {
      const flood = await sign({}, { kid: `made-up-${i}`, key: other.privateKey });
      expect(await v.verify(flood, CONFIG)).toEqual({ ok: false, reason: "unknown_kid" });
    }
    expect(ep.calls).toHaveLength(2);
    expect(v.fetches).toBe(2);
  });

  it("finds a rotated key by refetching on its unknown kid", async () => {
    let t = 1_000_000;
    let keys = [current.jwk];
    const ep = endpoint(() => Response.json({ keys }));
    const v = createAccessVerifier({ fetch: ep.fetch, now: () => t, refetchCooldownMs: 30_000 });
    expect((await v.verify(await sign(), CONFIG)).ok).toBe(true);
    // Access rotates: the new key signs, the old one is still published.
    keys = [other.jwk, current.jwk];
    t += 31_000;
    const rotated = await sign({}, { kid: "kid-other", key: other.privateKey });
    expect((await v.verify(rotated, CONFIG)).ok).toBe(true);
    expect((await v.verify(await sign(), CONFIG)).ok).toBe(true);
    expect(ep.calls).toHaveLength(2);
  });

  it("lets verifies that arrive while the first fetch is under way wait for it: one fetch, all pass", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const calls: string[] = [];
    const v = createAccessVerifier({
      fetch: async (url) => {
        calls.push(url);
        await gate;
        return Response.json({ keys: [current.jwk] });
      },
      now: () => 1_000_000,
    });
    const tokens = await Promise.all([sign(), sign({ email: "b@example.com" }), sign()]);
    const pending = tokens.map((t) => v.verify(t, CONFIG));
    // Every verify has reached the key set before it arrives.
    await new Promise((resolve) => setTimeout(resolve, 10));
    release();
    expect((await Promise.all(pending)).map((r) => r.ok)).toEqual([true, true, true]);
    expect(calls).toHaveLength(1);
  });

  it("lets concurrent tokens under a rotated kid wait for the one refetch, not refuse", async () => {
    let t = 1_000_000;
    let keys = [current.jwk];
    let release: () => void = () => {};
    let gate: Promise<void> = Promise.resolve();
    const calls: string[] = [];
    const v = createAccessVerifier({
      fetch: async (url) => {
        calls.push(url);
        await gate;
        return Response.json({ keys });
      },
      now: () => t,
      refetchCooldownMs: 30_000,
    });
    expect((await v.verify(await sign(), CONFIG)).ok).toBe(true);
    keys = [other.jwk, current.jwk];
    t += 31_000;
    gate = new Promise<void>((resolve) => (release = resolve));
    const rotated = await Promise.all(
      [0, 1, 2].map((i) => sign({ sub: `s${i}` }, { kid: "kid-other", key: other.privateKey })),
    );
    const pending = rotated.map((token) => v.verify(token, CONFIG));
    await new Promise((resolve) => setTimeout(resolve, 10));
    release();
    expect((await Promise.all(pending)).map((r) => r.ok)).toEqual([true, true, true]);
    expect(calls).toHaveLength(2);
    // Made-up kids arriving while a refetch is under way wait for it, then are refused.
    t += 31_000;
    gate = new Promise<void>((resolve) => (release = resolve));
    const madeUp = await sign({}, { kid: "made-up", key: other.privateKey });
    const both = [v.verify(madeUp, CONFIG), v.verify(madeUp, CONFIG)];
    await new Promise((resolve) => setTimeout(resolve, 10));
    release();
    expect(await Promise.all(both)).toEqual([
      { ok: false, reason: "unknown_kid" },
      { ok: false, reason: "unknown_kid" },
    ]);
    expect(calls).toHaveLength(3);
  });

  it("fetches again once the cached set is older than its max age", async () => {
    let t = 0;
    const ep = endpoint();
    const v = createAccessVerifier({ fetch: ep.fetch, now: () => t, maxAgeMs: 600_000 });
    await v.verify(await sign(), CONFIG);
    t += 599_000;
    await v.verify(await sign(), CONFIG);
    expect(ep.calls).toHaveLength(1);
    t += 2_000;
    await v.verify(await sign(), CONFIG);
    expect(ep.calls).toHaveLength(2);
  });

  it("fails closed when the key set cannot be had, and keeps known keys when a refresh fails", async () => {
    let t = 0;
    let answer: () => Response = () => new Response("oops", { status: 500 });
    const ep = endpoint(() => answer());
    const v = createAccessVerifier({ fetch: ep.fetch, now: () => t, maxAgeMs: 600_000 });
    expect(await v.verify(await sign(), CONFIG)).toEqual({ ok: false, reason: "jwks_unavailable" });
    t += 31_000;
    answer = () => Response.json({ not: "a key set" });
    expect(await v.verify(await sign(), CONFIG)).toEqual({ ok: false, reason: "jwks_unavailable" });
    t += 31_000;
    answer = () => Response.json({ keys: [current.jwk] });
    expect((await v.verify(await sign(), CONFIG)).ok).toBe(true);
    // Stale, and the refresh fails: Cloudflare's previous keys stay valid for days, so do ours.
    t += 700_000;
    answer = () => {
      throw new TypeError("network down");
    };
    expect((await v.verify(await sign(), CONFIG)).ok).toBe(true);
    expect(ep.calls).toHaveLength(4);
  });

  it("does not fetch again within the cooldown after a failed fetch", async () => {
    let t = 0;
    const ep = endpoint(() => new Response("down", { status: 503 }));
    const v = createAccessVerifier({ fetch: ep.fetch, now: () => t, refetchCooldownMs: 30_000 });
    for (let i = 0; i < 3; i++) {
      expect(await v.verify(await sign(), CONFIG)).toEqual({ ok: false, reason: "jwks_unavailable" });
    }
    expect(ep.calls).toHaveLength(1);
    t += 30_000;
    await v.verify(await sign(), CONFIG);
    expect(ep.calls).toHaveLength(2);
  });
});
