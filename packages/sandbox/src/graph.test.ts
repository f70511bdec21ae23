import { describe, expect, it } from "vitest";
import { FakeGraph, resolveFault } from "./graph.ts";
import { FakeOnboarding } from "./phone-numbers.ts";

const send = (g: FakeGraph, body: unknown, auth = "Bearer tok") =>
  g.handleSend("123", auth, JSON.stringify(body));
const text = { messaging_product: "whatsapp", to: "9190000", type: "text", text: { body: "hi" } };

describe("FakeGraph", () => {
  it("records a documented text send and answers as Graph does", () => {
    const g = new FakeGraph("tok");
    const r = send(g, text);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ messaging_product: "whatsapp", contacts: [{ wa_id: "9190000" }] });
    expect(g.sent).toMatchObject([{ phoneNumberId: "123", to: "9190000", text: "hi" }]);
  });

  it("takes a free-form send after the customer's 24 hours, marks it undeliverable (131047), but never a template", () => {
    const g = new FakeGraph(null);
    g.customerWrote("123", "9190000", Date.now() - 24 * 3600_000 - 1);
    const late = send(g, text);
    expect(late).toMatchObject({ status: 200, undeliverable: { to: "9190000", code: 131047 } });
    expect(g.sent.at(-1)).toMatchObject({ failedCode: 131047 });
    const template = send(g, {
      messaging_product: "whatsapp",
      to: "9190000",
      type: "template",
      template: { name: "hello" },
    });
    expect(template.status).toBe(200);
    expect(template).not.toHaveProperty("undeliverable");
    // An older record never moves the window back; a newer one reopens it.
    g.customerWrote("123", "9190000", Date.now() - 48 * 3600_000);
    expect(send(g, text)).toHaveProperty("undeliverable");
    g.customerWrote("123", "9190000", Date.now());
    expect(send(g, text)).not.toHaveProperty("undeliverable");
    g.reset();
    g.setLastWrote("123", "9190000", 0);
    expect(send(g, text)).toHaveProperty("undeliverable");
  });

  it("refuses a wrong token and malformed sends with Graph's error envelope", () => {
    const g = new FakeGraph("tok");
    expect(send(g, text, "Bearer nope")).toMatchObject({ status: 401, body: { error: { code: 190 } } });
    expect(send(g, { ...text, messaging_product: undefined })).toMatchObject({
      status: 400,
      body: { error: { code: 100 } },
    });
    expect(g.handleSend("123", "Bearer tok", "{not json")).toMatchObject({ status: 400 });
    expect(g.sent).toHaveLength(0);
  });

  it("plays injected faults in order, with Retry-After, then recovers", () => {
    const g = new FakeGraph(null);
    g.injectFaults({ status: 429, code: 130429, message: "Rate limit hit", retryAfter: 3 });
    const r = send(g, text);
    expect(r).toMatchObject({
      status: 429,
      headers: { "retry-after": "3" },
      body: { error: { code: 130429 } },
    });
    expect(send(g, text).status).toBe(200);
    expect(g.attempts).toBe(2);
  });
});

describe("Meta's rate-limit presets", () => {
  it("answers a pair-rate preset in Meta's wire format, for its recipient only", () => {
    const g = new FakeGraph(null);
    const fault = resolveFault({ preset: "pair_rate_limit", to: "15550001" });
    expect(fault).not.toBeNull();
    g.injectFaults(fault!);
    expect(send(g, { ...text, to: "15550002" }).status).toBe(200);
    const r = send(g, { ...text, to: "15550001" });
    expect(r.status).toBe(429);
    expect(r.headers).toBeUndefined();
    expect(r.body).toMatchObject({
      error: {
        message: "(#131056) (Business Account, Consumer Account) pair rate limit hit",
        type: "OAuthException",
        code: 131056,
        error_data: { messaging_product: "whatsapp" },
      },
    });
    expect(send(g, { ...text, to: "15550001" }).status).toBe(200);
  });

  it("keeps the throughput preset's Retry-After, and refuses unknown presets and partial faults", () => {
    expect(resolveFault({ preset: "throughput", retryAfter: 4 })).toMatchObject({
      status: 429,
      code: 130429,
      retryAfter: 4,
    });
    expect(resolveFault({ preset: "nope" })).toBeNull();
    expect(resolveFault({ preset: "toString" })).toBeNull();
    expect(resolveFault({ status: 500 })).toBeNull();
  });
});

describe("FakeGraph read receipts and scoped faults", () => {
  const read = (g: FakeGraph, body: Record<string, unknown>) =>
    g.handleSend(
      "123",
      "Bearer tok",
      JSON.stringify({ messaging_product: "whatsapp", status: "read", ...body }),
    );

  it("records read receipts and typing indicators apart from sends, without counting them as attempts", () => {
    const g = new FakeGraph("tok");
    expect(read(g, { message_id: "wamid.A", typing_indicator: { type: "text" } })).toEqual({
      status: 200,
      body: { success: true },
    });
    expect(read(g, { message_id: "wamid.B" }).status).toBe(200);
    expect(g.reads).toMatchObject([
      { phoneNumberId: "123", messageId: "wamid.A", typing: true },
      { messageId: "wamid.B", typing: false },
    ]);
    expect(g.sent).toHaveLength(0);
    expect(g.attempts).toBe(0);
    expect(read(g, { message_id: "wamid.C", typing_indicator: { type: "audio" } })).toMatchObject({
      status: 400,
    });
  });

  it("answers faults with Meta's documented error body, scoped to a recipient or to read receipts", () => {
    const g = new FakeGraph(null);
    g.injectFaults({
      status: 400,
      code: 131026,
      message: "(#131026) Message Undeliverable",
      details: "Message failed to send because the recipient is not a WhatsApp user.",
      to: "9190001",
    });
    g.injectFaults({ status: 500, code: 131000, message: "(#131000) Something went wrong", target: "read" });
    g.injectFaults({
      status: 429,
      code: 130429,
      message: "(#130429) Rate limit hit",
      retryAfter: "Sat, 21 Nov 2026 10:00:30 GMT",
      to: "9190002",
    });
    // Another recipient and a read receipt for it go through untouched by the send faults.
    expect(send(g, text).status).toBe(200);
    const failed = send(g, { ...text, to: "9190001" });
    expect(failed).toMatchObject({
      status: 400,
      body: {
        error: {
          message: "(#131026) Message Undeliverable",
          type: "OAuthException",
          code: 131026,
          error_data: {
            messaging_product: "whatsapp",
            details: "Message failed to send because the recipient is not a WhatsApp user.",
          },
          fbtrace_id: expect.any(String),
        },
      },
    });
    expect(read(g, { message_id: "wamid.A" })).toMatchObject({
      status: 500,
      body: { error: { code: 131000 } },
    });
    expect(send(g, { ...text, to: "9190002" })).toMatchObject({
      status: 429,
      headers: { "retry-after": "Sat, 21 Nov 2026 10:00:30 GMT" },
    });
    expect(g.attemptsTo.get("9190001")).toBe(1);
    expect(g.attemptsTo.get("9190002")).toBe(1);
    expect(g.attempts).toBe(3);
  });
});

describe("FakeOnboarding: proof of control and release of a number", () => {
  const ok = (t: string) => t === "tok";
  const auth = "Bearer tok";
  const q = (o: Record<string, string>) => new URLSearchParams(o);

  it("sends one code per number and accepts only that code, once; a wrong code is Meta's 136025", () => {
    const o = new FakeOnboarding();
    expect(
      o.requestCode("123", q({ code_method: "SMS", language: "en_US" }), "Bearer nope", ok, true),
    ).toMatchObject({
      body: { error: { code: 190 } },
    });
    expect(o.requestCode("999", q({ code_method: "SMS", language: "en" }), auth, ok, false)).toMatchObject({
      status: 400,
      body: { error: { code: 100, error_subcode: 33 } },
    });
    expect(o.requestCode("123", q({ code_method: "FAX", language: "en" }), auth, ok, true)).toMatchObject({
      body: { error: { code: 100 } },
    });
    expect(o.requestCode("123", q({ code_method: "VOICE", language: "en" }), auth, ok, true)).toEqual({
      status: 200,
      body: { success: true },
    });
    const code = o.codes.get("123")!.code;
    expect(code).toMatch(/^\d{6}$/);
    const wrong = code === "000000" ? "000001" : "000000";
    expect(o.verifyCode("123", q({ code: wrong }), auth, ok, true)).toMatchObject({
      status: 400,
      body: { error: { code: 136025, message: "Verify code error", fbtrace_id: expect.any(String) } },
    });
    expect(o.verifyCode("123", q({ code }), auth, ok, true)).toEqual({
      status: 200,
      body: { success: true },
    });
    // Used once: the same code again is refused.
    expect(o.verifyCode("123", q({ code }), auth, ok, true)).toMatchObject({
      body: { error: { code: 136025 } },
    });
  });

  it("records deregistrations and unsubscriptions, and plays injected 5xx faults first", () => {
    const o = new FakeOnboarding();
    o.injectReleaseFault({ target: "deregister", status: 503 });
    expect(o.deregister("123", auth, ok, true)).toMatchObject({
      status: 503,
      body: { error: { code: 131000 } },
    });
    expect(o.deregistrations).toEqual([]);
    expect(o.deregister("123", auth, ok, true)).toEqual({ status: 200, body: { success: true } });
    expect(o.unsubscribe("555", auth, ok)).toEqual({ status: 200, body: { success: true } });
    expect(o.deregistrations).toEqual(["123"]);
    expect(o.unsubscriptions).toEqual(["555"]);
  });
});
