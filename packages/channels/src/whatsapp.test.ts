import { describe, expect, it } from "vitest";
import { sendWhatsAppText } from "./whatsapp.ts";

function fakeFetch(status: number, body: unknown, headers: Record<string, string> = {}) {
  const calls: { url: string; init: RequestInit }[] = [];
  const f = (async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    return new Response(JSON.stringify(body), { status, headers });
  }) as unknown as typeof fetch;
  return { f, calls };
}

const target = (f: typeof fetch) => ({
  baseUrl: "https://graph.test/v24.0",
  token: "tok",
  phoneNumberId: "123",
  fetch: f,
});

describe("sendWhatsAppText", () => {
  it("posts the documented text payload with the platform token and returns the wamid", async () => {
    const { f, calls } = fakeFetch(200, {
      messaging_product: "whatsapp",
      contacts: [{ input: "15550001", wa_id: "15550001" }],
      messages: [{ id: "wamid.ABC" }],
    });
    const r = await sendWhatsAppText(target(f), "15550001", "hi there", "wamid.IN");
    expect(r).toEqual({ ok: true, providerMessageId: "wamid.ABC" });
    expect(calls[0]!.url).toBe("https://graph.test/v24.0/123/messages");
    expect((calls[0]!.init.headers as Record<string, string>).authorization).toBe("Bearer tok");
    expect(JSON.parse(calls[0]!.init.body as string)).toEqual({
      messaging_product: "whatsapp",
      recipient_type: "individual",
      to: "15550001",
      type: "text",
      text: { preview_url: false, body: "hi there" },
      context: { message_id: "wamid.IN" },
    });
  });

  it("marks 5xx and throttling retryable, honouring Retry-After, and permanent errors not", async () => {
    const e500 = await sendWhatsAppText(target(fakeFetch(500, {}).f), "1", "x");
    expect(e500).toMatchObject({ ok: false, retryable: true, status: 500 });
    const e429 = await sendWhatsAppText(
      target(fakeFetch(429, { error: { message: "slow", code: 130429 } }, { "retry-after": "7" }).f),
      "1",
      "x",
    );
    expect(e429).toMatchObject({ ok: false, retryable: true, retryAfterSeconds: 7, code: 130429 });
    const e400 = await sendWhatsAppText(
      target(fakeFetch(400, { error: { message: "Invalid parameter", code: 100 } }).f),
      "1",
      "x",
    );
    expect(e400).toMatchObject({ ok: false, retryable: false, code: 100, reason: "Invalid parameter" });
  });

  it("treats a network failure as retryable", async () => {
    const f = (async () => {
      throw new TypeError("connection refused");
    }) as unknown as typeof fetch;
    expect(await sendWhatsAppText(target(f), "1", "x")).toMatchObject({
      ok: false,
      retryable: true,
      status: 0,
    });
  });
});

describe("a send that timed out", () => {
  it("is reported as an unknown outcome, never as retryable: the message may be out", async () => {
    const f = (async () => {
      throw new DOMException("The operation was aborted due to timeout", "TimeoutError");
    }) as unknown as typeof fetch;
    expect(await sendWhatsAppText(target(f), "1", "x")).toMatchObject({
      ok: false,
      retryable: false,
      unknown: true,
    });
  });
});
