import { describe, expect, it } from "vitest";
import { toBase64Url, utf8 } from "./encoding.ts";
import { makeSignedRequest, parseSignedRequest, signedRequestIsFresh } from "./signed-request.ts";

const secret = "app-secret";
const payload = { algorithm: "HMAC-SHA256", user_id: "1234567890", issued_at: 1_700_000_000 };

describe("signed_request", () => {
  it("round-trips a payload signed with the app secret", async () => {
    expect(await parseSignedRequest(secret, await makeSignedRequest(secret, payload))).toEqual(payload);
  });

  it("refuses another secret, a changed payload, another algorithm and junk", async () => {
    const signed = await makeSignedRequest(secret, payload);
    expect(await parseSignedRequest("other", signed)).toBeNull();
    const [sig] = signed.split(".");
    const forged = `${sig}.${toBase64Url(utf8(JSON.stringify({ ...payload, user_id: "999" })))}`;
    expect(await parseSignedRequest(secret, forged)).toBeNull();
    expect(
      await parseSignedRequest(secret, await makeSignedRequest(secret, { ...payload, algorithm: "none" })),
    ).toBeNull();
    for (const junk of ["", ".", "abc", "a.b.c", "!!!.???", `${sig}.`]) {
      expect(await parseSignedRequest(secret, junk)).toBeNull();
    }
  });

  it("is fresh only within 5 minutes of issued_at (a minute of clock skew ahead), never without it", () => {
    const at = payload.issued_at * 1000;
    expect(signedRequestIsFresh(payload, at)).toBe(true);
    expect(signedRequestIsFresh(payload, at + 300_000)).toBe(true);
    expect(signedRequestIsFresh(payload, at + 301_000)).toBe(false);
    expect(signedRequestIsFresh(payload, at - 60_000)).toBe(true);
    expect(signedRequestIsFresh(payload, at - 61_000)).toBe(false);
    const { issued_at: _i, ...without } = payload;
    expect(signedRequestIsFresh(without, at)).toBe(false);
    expect(signedRequestIsFresh({ ...payload, issued_at: Number.NaN }, at)).toBe(false);
  });
});
