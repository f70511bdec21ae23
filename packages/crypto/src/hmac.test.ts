import { describe, expect, it } from "vitest";
import { utf8 } from "./encoding.ts";
import { hmacSha256Hex, signMeta, timingSafeEqualString, verifyMetaSignature } from "./hmac.ts";

describe("Meta signatures", () => {
  it("matches the RFC 4231 HMAC-SHA256 test vector", async () => {
    // RFC 4231 test case 2: key "Jefe".
    expect(await hmacSha256Hex("Jefe", utf8("what do ya want for nothing?"))).toBe(
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    );
  });

  it("accepts its own signature and rejects a changed byte, a wrong secret and malformed headers", async () => {
    const body = utf8('{"object":"whatsapp_business_account"}');
    const header = await signMeta("app-secret", body);
    expect(await verifyMetaSignature("app-secret", body, header)).toBe(true);
    expect(await verifyMetaSignature("other-secret", body, header)).toBe(false);
    const changed = utf8('{"object":"whatsapp_business_account" }');
    expect(await verifyMetaSignature("app-secret", changed, header)).toBe(false);
    for (const bad of [null, "", header.slice(7), "sha1=abcd", "sha256=zz", `${header}00`]) {
      expect(await verifyMetaSignature("app-secret", body, bad)).toBe(false);
    }
  });

  it("compares strings in constant time and still gets the answer right", () => {
    expect(timingSafeEqualString("token", "token")).toBe(true);
    expect(timingSafeEqualString("token", "tokem")).toBe(false);
    expect(timingSafeEqualString("token", "token2")).toBe(false);
    expect(timingSafeEqualString("", "")).toBe(true);
  });
});
