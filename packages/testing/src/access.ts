// Cloudflare Access, for tests and the sandbox: a fixed RSA test key (its public half is what the
// sandbox's JWKS serves in test runs), the key set document, and tokens shaped as Access issues
// them (developers.cloudflare.com, "Application token"), good or deliberately bad.
import { exportJWK, generateKeyPair, importJWK, type JWK, SignJWT, base64url } from "jose";

export type { JWK as AccessJwk };

/** The Access application's Audience (AUD) tag in tests and locally (Access's are 64 hex digits). */
export const TEST_ACCESS_AUD = "c0ffee5e7e5700000000000000000000000000000000000000000000000000a1";

/** The test key's id, as Access names its keys (64 hex digits). */
export const TEST_ACCESS_KID = "7e57ac0e55000000000000000000000000000000000000000000000000000001";

/**
 * A fixed RS256 private key, for tests only (generated once with jose's generateKeyPair). The
 * dashboard's tests sign with it inside workerd while the sandbox, a separate Node process,
 * publishes its public half, so both must have the same one.
 */
export const TEST_ACCESS_KEY: JWK = {
  kty: "RSA",
  n: "uv0c85c-BSkOYcUhFKGk1oVfEbqUmbOA4XwWoqU_Wb_wpHvFoykJ9f89lLLvq8f-Vfm5T5KHOabsCEtGre9VOERjaPGvnKRZcfvJKoT-QHMsdCUn7hjUB48wW9Zd3LhYAjb6bxD3AEG5QHMv0vRT9tz8uyFUP4j8gta7qHK5QxPx4g4LxdK5NF3LgPQstVzSyc04EOocZL4RoGhwR5vwgpRUxh4WJUe3PmGaQNFVOeD3ZLi1WExDbVTTxneyFQ2zUckYgpnsrnkxw8x7k1siuzNWMuW9txSrFVuhKgFZ6MQhUREv4IvZhWzwJUOai6HF7hEVw0E1KrQxWGw_JJBAwQ",
  e: "AQAB",
  d: "EPHtFLoI-ci9r-iAVfFMEdCmS-H_o2ob7NMk7fpRol19fjplL6MBbxSBTR9mDsgh6UKnI2ng7T2OODYyIoME0wOHirQUOPq_zE-H7F1--PI2_hN76dzAIis8s6Xafa0K9LBsw3HjIFfUZN3LYK-ZiE6AbKjZjKRqVaUF_n7fAQ_--WbCdn_u0HAzUsuwb8Ffx1vRwwhiP_gyNrVSRbG2_2SF8jGSCr2QmRjh0jBOCWumWDNSXb1lpg7nYvsJAMLYQhA0qhlczGXl6KmDVyVIhIs9oen6SoTDr8scjsn7069InRGcYxrGbxbsu83DEu9eMqdeyZIwU5JAs1bOeJqzQQ",
  p: "4K3EtZOBegXPMU23DgygImFZc7TYKIO6-N29e9JgZWhx30Xyt-wjrly3iTVmz2v8GusUYssEVF_seMIpFhkMZhsRsEs7HYcnwHQMrKLsZ5f5VhUbkt33QI-lA2TYOCI9JJKPeyFn98vvh9h2IttYFGKtaI2sbuWuYBLQG4EoZHk",
  q: "1Q5HiDrr2b1y-3zylNVm4ydsmz5zZpDcYXB8njRRMf_nhR3pPCgspB3nfp08C743ofz_NM6NUOGAxt7JoaPRq3z1GhjZ1cJLF801nSrxLlJDsQMf5OkavBiJjnjif-NGA-1wL5CUctJNhoc7Qs_dXX0u8LbPh-g8a27A1GTPXIk",
  dp: "T36sHuK16QqtKHCq2Bm3fvKax8mwwYT6Xpt2M51X5glyYOFK47B1X3gGqFFwsusuJAgRCnNycLgP3xozl1H9hRMGyy2TGPt9ISbuZRawNmcbHU4Sl4BZv0oTxIOlzRawM4R3p8VGF_LcKWB5TBP3sh7H5DpcTFCPxgZiA5lLRWE",
  dq: "RCEt1K1q0BUZ2LvK4rcfEJKB0170Dh9SqcILx5dZQ5Demx3GgJskM1LwvPdQxTyNk7pQbbWDURLbWDzT42F8Yccypaa-ufFIjBLuCxU5TKO3y7oBD_VOvEloa2vSmiy2LflWf49POSxw6A0EcUgBNK0cPpNm58Hm2D_xX7ng6Wk",
  qi: "psucddrxcjbDqxmAZ5MYPMZxb7dxNHxP1tC7P971KmDtJ4bLRzQQJS5rbOrYCDk_T6KDFabqISoL1mvU4MvaU51mCIhX2rji8G--pU5jecnb2LTXi69--4umDZo22pfk9ueZz1A7mOp8Mhc6oYB27vcbMSgSigqrytZ8f483fgE",
  kid: TEST_ACCESS_KID,
  alg: "RS256",
};

const PRIVATE_PARTS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] as const;

/** The public half of an RSA key, as Access publishes it in its certs (`use`, `alg`, `kid`). */
export function publicAccessJwk(key: JWK): JWK {
  const pub: JWK = { ...key, alg: "RS256", use: "sig" };
  for (const part of PRIVATE_PARTS) delete (pub as Record<string, unknown>)[part];
  return pub;
}

/** The certs document (`<team domain>/cdn-cgi/access/certs`): the public keys of `keys`. */
export function accessJwks(keys: JWK[] = [TEST_ACCESS_KEY]): { keys: JWK[] } {
  return { keys: keys.map(publicAccessJwk) };
}

/** A new RS256 key with a random 64-hex kid (the sandbox's per-process key, "another key"). */
export async function generateAccessKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair("RS256", { extractable: true });
  const kid = [...crypto.getRandomValues(new Uint8Array(32))]
    .map((b) => b.toString(16).padStart(2, "0"))
    .join("");
  return { ...(await exportJWK(privateKey)), kid, alg: "RS256" };
}

/** The team domain the sandbox plays Access under (`iss`, and the certs' home). */
export function accessTeamDomain(sandboxUrl: string): string {
  return `${sandboxUrl.replace(/\/+$/, "")}/access`;
}

export type AccessTokenOptions = {
  /** The issuer: the team domain (`accessTeamDomain(sandboxUrl)` in tests). */
  iss: string;
  /** null leaves the claim out (a service token has none). */
  email?: string | null;
  /** Default [TEST_ACCESS_AUD]; Access writes an array. */
  aud?: string | string[];
  sub?: string;
  /** Epoch seconds; default now, now, now + 24 h. */
  iat?: number;
  nbf?: number;
  exp?: number;
  /** Default: the key's own kid. */
  kid?: string;
  /**
   * RS256 (Access's); HS256 keyed with the RSA key's public modulus (the algorithm confusion
   * attack); none (no signature at all).
   */
  alg?: "RS256" | "HS256" | "none";
  /** The signing key (private JWK); default TEST_ACCESS_KEY. */
  key?: JWK;
  /** More claims, or overrides of the ones above. */
  claims?: Record<string, unknown>;
};

/** A token shaped as Access issues them: good by default, bad in exactly the ways asked. */
export async function signAccessToken(opts: AccessTokenOptions): Promise<string> {
  const key = opts.key ?? TEST_ACCESS_KEY;
  const now = Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = {
    aud: Array.isArray(opts.aud) ? opts.aud : [opts.aud ?? TEST_ACCESS_AUD],
    ...(opts.email === null ? {} : { email: opts.email ?? "operator@example.com" }),
    exp: opts.exp ?? now + 24 * 3600,
    iat: opts.iat ?? now,
    nbf: opts.nbf ?? now,
    iss: opts.iss,
    type: "app",
    identity_nonce: base64url.encode(crypto.getRandomValues(new Uint8Array(12))),
    sub: opts.sub ?? crypto.randomUUID(),
    country: "IN",
    ...opts.claims,
  };
  const kid = opts.kid ?? key.kid;
  const alg = opts.alg ?? "RS256";
  if (alg === "none") {
    const header = base64url.encode(JSON.stringify({ alg: "none", kid, typ: "JWT" }));
    return `${header}.${base64url.encode(JSON.stringify(payload))}.`;
  }
  const signer = new SignJWT(payload).setProtectedHeader({ alg, kid, typ: "JWT" });
  if (alg === "HS256") return signer.sign(new TextEncoder().encode(String(key.n)));
  return signer.sign(await importJWK({ ...key, alg: "RS256" }, "RS256"));
}
