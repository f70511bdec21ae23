import { exports } from "cloudflare:workers";
import { newWamid, signedMetaRequest, whatsappWebhook } from "@concierge/testing/meta";
import { uniqueCustomer } from "@concierge/testing/sandbox-client";
import { DEMO } from "@concierge/testing/seed";
import { TEST_SECRETS } from "@concierge/testing/secrets";
import { afterEach, describe, expect, it, vi } from "vitest";
import { metaVerifyKey } from "../src/signed-body.ts";

// The app secret's HMAC key is imported once per isolate, not once per webhook.

const URL_ = "https://meta-webhooks.test/webhook/whatsapp";

async function signedWebhook(secret: string = TEST_SECRETS.metaAppSecret) {
  const payload = whatsappWebhook([
    {
      phoneNumberId: DEMO.whatsapp.phoneNumberId,
      from: uniqueCustomer(),
      name: "Ravi",
      text: "hi",
      id: newWamid(),
    },
  ]);
  const signed = await signedMetaRequest(secret, payload);
  return new Request(URL_, { method: "POST", body: signed.body, headers: signed.headers });
}

afterEach(() => vi.restoreAllMocks());

describe("the webhook signature key", () => {
  it("is imported once: later webhooks verify with the same key", async () => {
    expect((await exports.default.fetch(await signedWebhook())).status).toBe(200);
    // Signed before counting: the test's own signing imports keys too.
    const requests = [await signedWebhook(), await signedWebhook()];
    const imports = vi.spyOn(crypto.subtle, "importKey");
    for (const r of requests) expect((await exports.default.fetch(r)).status).toBe(200);
    expect(imports).not.toHaveBeenCalled();
  });

  it("still refuses a body signed with another secret", async () => {
    const forged = await signedWebhook("not-the-app-secret");
    const res = await exports.default.fetch(forged);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ ok: false, error: { code: "invalid_signature" } });
  });

  it("keeps one key per secret: a rotated secret gets its own, the old one is dropped", async () => {
    const a = await metaVerifyKey("secret-a");
    expect(await metaVerifyKey("secret-a")).toBe(a);
    const b = await metaVerifyKey("secret-b");
    expect(b).not.toBe(a);
    expect(await metaVerifyKey("secret-a")).not.toBe(a);
  });
});
