import { env, exports } from "cloudflare:workers";
import { signMeta, utf8 } from "@concierge/crypto";
import { metaJson, newWamid, signedMetaRequest, whatsappWebhook } from "@concierge/testing/meta";
import { sentTo, uniqueCustomer } from "@concierge/testing/sandbox-client";
import { DEMO } from "@concierge/testing/seed";
import { TEST_SECRETS } from "@concierge/testing/secrets";
import { describe, expect, it, vi } from "vitest";

const URL_ = "https://meta-webhooks.test/webhook/whatsapp";

function post(body: string | Uint8Array, headers: Record<string, string>) {
  return exports.default.fetch(new Request(URL_, { method: "POST", body, headers }));
}

async function postSigned(payload: unknown) {
  const signed = await signedMetaRequest(TEST_SECRETS.metaAppSecret, payload);
  return post(signed.body, signed.headers);
}

function textFrom(customerId: string, text: string, id = newWamid()) {
  return whatsappWebhook([
    { phoneNumberId: DEMO.whatsapp.phoneNumberId, from: customerId, name: "Ravi", text, id },
  ]);
}

async function repliesTo(customerId: string, atLeast = 1) {
  await vi.waitUntil(async () => (await sentTo(env.SANDBOX_URL, customerId)).length >= atLeast, {
    timeout: 8000,
    interval: 50,
  });
  return sentTo(env.SANDBOX_URL, customerId);
}

/** Long enough for a wrongly accepted message to have produced a reply (wait_seconds is 0 here). */
const settle = () => new Promise((r) => setTimeout(r, 400));

async function inboundRows(customerId: string) {
  const r = await env.DB.prepare("SELECT COUNT(*) AS n FROM messages WHERE sender_id = ?")
    .bind(customerId)
    .first<{ n: number }>();
  return r!.n;
}

describe("GET /webhook/whatsapp", () => {
  it("echoes hub.challenge when the verify token matches", async () => {
    const res = await exports.default.fetch(
      `${URL_}?hub.mode=subscribe&hub.verify_token=${TEST_SECRETS.whatsappVerifyToken}&hub.challenge=1158201444`,
    );
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("1158201444");
  });

  it("answers 403 for a wrong token or a mode other than subscribe", async () => {
    for (const q of [
      "hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1",
      `hub.mode=unsubscribe&hub.verify_token=${TEST_SECRETS.whatsappVerifyToken}&hub.challenge=1`,
      "hub.challenge=1",
    ]) {
      const res = await exports.default.fetch(`${URL_}?${q}`);
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ ok: false, error: { code: "verification_failed" } });
    }
  });
});

describe("POST /webhook/whatsapp", () => {
  it("answers a signed text message with exactly the matching canned reply", async () => {
    const customer = uniqueCustomer();
    const res = await postSigned(textFrom(customer, "Are you open on Sunday?"));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, accepted: 1 });
    const sent = await repliesTo(customer);
    await settle();
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      phoneNumberId: DEMO.whatsapp.phoneNumberId,
      to: customer,
      type: "text",
      text: DEMO.replyConfig.rules[0].response.text,
    });
  });

  it("verifies and answers a payload with emoji and Arabic in Meta's escaped-unicode form", async () => {
    const customer = uniqueCustomer();
    const payload = textFrom(customer, "مرحبا 👋 what's the price of chai? 😊");
    const signed = await signedMetaRequest(TEST_SECRETS.metaAppSecret, payload);
    expect(signed.body).toContain("\\u0645\\u0631\\u062d\\u0628\\u0627 \\ud83d\\udc4b");
    const res = await post(signed.body, signed.headers);
    expect(res.status).toBe(200);
    const sent = await repliesTo(customer);
    expect(sent[0]!.text).toBe(DEMO.replyConfig.rules[1].response.text);
  });

  it("sends exactly one reply when Meta delivers the same message 5 times at once", async () => {
    const customer = uniqueCustomer();
    const signed = await signedMetaRequest(TEST_SECRETS.metaAppSecret, textFrom(customer, "menu?"));
    const responses = await Promise.all(Array.from({ length: 5 }, () => post(signed.body, signed.headers)));
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    const accepted = await Promise.all(
      responses.map(async (r) => ((await r.json()) as { accepted: number }).accepted),
    );
    expect(accepted.reduce((a, b) => a + b, 0)).toBe(1);
    await repliesTo(customer);
    await settle();
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(1);
    expect(await inboundRows(customer)).toBe(1);
  });

  it("answers 200 for a phone number no tenant owns, and sends and stores nothing", async () => {
    const customer = uniqueCustomer();
    const payload = whatsappWebhook([{ phoneNumberId: "555000111222", from: customer, text: "hours?" }]);
    const res = await postSigned(payload);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, accepted: 0 });
    await settle();
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(0);
    expect(await inboundRows(customer)).toBe(0);
  });

  describe("refuses what Meta did not send, and then nothing is stored or sent", () => {
    const cases: [string, (customer: string) => Promise<Response>, number, string][] = [
      [
        "a forged signature",
        async (c) => {
          const body = metaJson(textFrom(c, "hours?"));
          return post(body, { "x-hub-signature-256": await signMeta("not-the-app-secret", utf8(body)) });
        },
        401,
        "invalid_signature",
      ],
      [
        "a missing signature",
        async (c) => post(metaJson(textFrom(c, "hours?")), {}),
        401,
        "missing_signature",
      ],
      [
        "a signature over re-serialized JSON",
        async (c) => {
          const payload = textFrom(c, "hours? ☕ café");
          const reserialized = JSON.stringify(payload); // what a careless parser-then-verify would sign
          return post(metaJson(payload), {
            "x-hub-signature-256": await signMeta(TEST_SECRETS.metaAppSecret, utf8(reserialized)),
          });
        },
        401,
        "invalid_signature",
      ],
      [
        "a signature that is not hex",
        async (c) => post(metaJson(textFrom(c, "hours?")), { "x-hub-signature-256": "sha256=zzzz" }),
        401,
        "invalid_signature",
      ],
      [
        "malformed JSON, even when signed",
        async () => {
          const body = '{"object":"whatsapp_business_account","entry":[';
          return post(body, {
            "x-hub-signature-256": await signMeta(TEST_SECRETS.metaAppSecret, utf8(body)),
          });
        },
        400,
        "malformed_json",
      ],
      [
        "JSON that is not a WhatsApp webhook",
        async () => {
          const body = JSON.stringify({ object: "page", entry: [] });
          return post(body, {
            "x-hub-signature-256": await signMeta(TEST_SECRETS.metaAppSecret, utf8(body)),
          });
        },
        400,
        "invalid_payload",
      ],
      [
        "a body over the size limit",
        async (c) => {
          const body = metaJson(textFrom(c, `hours? ${"x".repeat(300 * 1024)}`));
          return post(body, {
            "x-hub-signature-256": await signMeta(TEST_SECRETS.metaAppSecret, utf8(body)),
          });
        },
        413,
        "payload_too_large",
      ],
      [
        "a body over the size limit without a Content-Length",
        async (c) => {
          const body = utf8(metaJson(textFrom(c, `hours? ${"x".repeat(300 * 1024)}`)));
          const stream = new ReadableStream({
            start(ctl) {
              for (let i = 0; i < body.length; i += 16 * 1024) ctl.enqueue(body.slice(i, i + 16 * 1024));
              ctl.close();
            },
          });
          return exports.default.fetch(
            new Request(URL_, {
              method: "POST",
              body: stream,
              headers: { "x-hub-signature-256": await signMeta(TEST_SECRETS.metaAppSecret, body) },
            }),
          );
        },
        413,
        "payload_too_large",
      ],
    ];

    for (const [what, send, status, code] of cases) {
      it(`answers ${status} ${code} to ${what}`, async () => {
        const customer = uniqueCustomer();
        const res = await send(customer);
        expect(res.status).toBe(status);
        expect(await res.json()).toMatchObject({ ok: false, error: { code } });
        await settle();
        expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(0);
        expect(await inboundRows(customer)).toBe(0);
      });
    }
  });

  it("acknowledges status updates and other fields without sending anything", async () => {
    const customer = uniqueCustomer();
    const payload = {
      object: "whatsapp_business_account",
      entry: [
        {
          id: "102290129340398",
          changes: [
            {
              field: "messages",
              value: {
                messaging_product: "whatsapp",
                metadata: {
                  display_phone_number: "15550783881",
                  phone_number_id: DEMO.whatsapp.phoneNumberId,
                },
                statuses: [
                  { id: newWamid(), status: "delivered", timestamp: "1749416383", recipient_id: customer },
                ],
                some_future_field: { whatever: true },
              },
            },
          ],
        },
      ],
    };
    const res = await postSigned(payload);
    expect(res.status).toBe(200);
    await settle();
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(0);
  });
});

describe("other routes", () => {
  it("answers unknown paths with the error envelope", async () => {
    const res = await exports.default.fetch("https://meta-webhooks.test/nope");
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ ok: false, error: { code: "not_found", message: "No such route." } });
  });
});
