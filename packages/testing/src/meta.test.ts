import { utf8, verifyMetaSignature } from "@concierge/crypto";
import { describe, expect, it } from "vitest";
import { metaJson, signedMetaRequest, whatsappWebhook } from "./meta.ts";

describe("metaJson", () => {
  it("escapes non-ASCII and slashes the way Meta does and still parses to the same value", () => {
    const value = { text: "héllo 👋 مرحبا a/b" };
    const raw = metaJson(value);
    expect(raw).toBe('{"text":"h\\u00e9llo \\ud83d\\udc4b \\u0645\\u0631\\u062d\\u0628\\u0627 a\\/b"}');
    expect(JSON.parse(raw)).toEqual(value);
  });

  it("signs exactly the bytes it returns", async () => {
    const payload = whatsappWebhook([{ phoneNumberId: "1", from: "2", text: "😀" }]);
    const req = await signedMetaRequest("s3cret", payload);
    expect(await verifyMetaSignature("s3cret", utf8(req.body), req.headers["x-hub-signature-256"])).toBe(
      true,
    );
    expect(
      await verifyMetaSignature("s3cret", utf8(JSON.stringify(payload)), req.headers["x-hub-signature-256"]),
    ).toBe(false);
  });
});
