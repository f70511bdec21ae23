import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { randomBytes, randomToken, sha256, sha256Base64Url, sha256Hex } from "./digest.ts";
import { fromBase64Url, toHex, utf8 } from "./encoding.ts";

describe("sha256", () => {
  it("matches the known vectors", async () => {
    expect(await sha256Hex("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(await sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(await sha256Base64Url("abc")).toBe("ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
  });

  it("hashes text as its UTF-8 bytes (FIPS 180-2 two-block vector, non-ASCII text)", async () => {
    expect(await sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")).toBe(
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    );
    expect(await sha256Hex("नमस्ते ₹1,00,000 🙂")).toBe(
      "96d13c995fd38319efed545622aa5ce2adf9c826299504ec84537220dfab1249",
    );
  });

  it("gives one digest in every encoding, the same for text and its bytes", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: "grapheme" }), async (text) => {
        const raw = await sha256(text);
        expect(raw).toHaveLength(32);
        expect(await sha256(utf8(text))).toEqual(raw);
        expect(await sha256Hex(text)).toBe(toHex(raw));
        expect(fromBase64Url(await sha256Base64Url(text))).toEqual(raw);
      }),
    );
  });
});

describe("random tokens", () => {
  it("have the length and alphabet of their encoding", () => {
    expect(randomToken()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(randomToken(16, "hex")).toMatch(/^[0-9a-f]{32}$/);
    expect(randomToken(12, "base64url")).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(randomBytes(7)).toHaveLength(7);
  });

  it("do not repeat", () => {
    const seen = new Set(Array.from({ length: 1000 }, () => randomToken(16, "hex")));
    expect(seen.size).toBe(1000);
  });

  it("refuse a size that is not a positive whole number of bytes", () => {
    for (const n of [0, -1, 1.5, 65537, Number.NaN]) expect(() => randomBytes(n)).toThrow(RangeError);
  });
});
