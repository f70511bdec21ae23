import { describe, expect, it } from "vitest";
import { instagramSenderAction, sendInstagramText } from "./instagram.ts";

function fakeFetch(status: number, body: unknown) {
  const calls: { url: string; init: RequestInit }[] = [];
  const f = (async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    return new Response(JSON.stringify(body), { status });
  }) as unknown as typeof fetch;
  return { f, calls };
}

const target = (f: typeof fetch) => ({
  baseUrl: "https://graph.test/v24.0",
  pageId: "109876543210987",
  pageToken: "EAAG-page",
  fetch: f,
});

describe("sendInstagramText", () => {
  it("posts a RESPONSE to the page's messages endpoint with the page token", async () => {
    const { f, calls } = fakeFetch(200, { recipient_id: "1789", message_id: "aWdfMID" });
    expect(await sendInstagramText(target(f), "1789", "hi")).toEqual({
      ok: true,
      providerMessageId: "aWdfMID",
    });
    expect(calls[0]!.url).toBe("https://graph.test/v24.0/109876543210987/messages");
    expect((calls[0]!.init.headers as Record<string, string>).authorization).toBe("Bearer EAAG-page");
    expect(JSON.parse(calls[0]!.init.body as string)).toEqual({
      recipient: { id: "1789" },
      messaging_type: "RESPONSE",
      message: { text: "hi" },
    });
  });

  it("tags a person's late reply HUMAN_AGENT", async () => {
    const { f, calls } = fakeFetch(200, { recipient_id: "1789", message_id: "aWdfMID" });
    await sendInstagramText(target(f), "1789", "sorry for the wait", { humanAgent: true });
    expect(JSON.parse(calls[0]!.init.body as string)).toMatchObject({
      messaging_type: "MESSAGE_TAG",
      tag: "HUMAN_AGENT",
    });
  });

  it("names a closed window (10/2018278), and a dead token (190) as permanent", async () => {
    const closed = fakeFetch(400, {
      error: { message: "(#10) outside of allowed window", code: 10, error_subcode: 2018278 },
    });
    expect(await sendInstagramText(target(closed.f), "1789", "hi")).toMatchObject({
      ok: false,
      retryable: false,
      outsideWindow: true,
    });
    const dead = fakeFetch(401, { error: { message: "Error validating access token", code: 190 } });
    expect(await sendInstagramText(target(dead.f), "1789", "hi")).toMatchObject({
      ok: false,
      retryable: false,
      code: 190,
    });
  });

  it("treats an undocumented success answer as not retryable (it may be out)", async () => {
    const { f } = fakeFetch(200, { ok: true });
    expect(await sendInstagramText(target(f), "1789", "hi")).toMatchObject({ ok: false, retryable: false });
  });
});

describe("instagramSenderAction", () => {
  it("sends the action alone, as the Send API requires", async () => {
    const { f, calls } = fakeFetch(200, { recipient_id: "1789" });
    expect(await instagramSenderAction(target(f), "1789", "typing_on")).toEqual({ ok: true });
    expect(JSON.parse(calls[0]!.init.body as string)).toEqual({
      recipient: { id: "1789" },
      sender_action: "typing_on",
    });
  });
});
