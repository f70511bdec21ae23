import { describe, expect, it } from "vitest";
import { FakeGraph } from "./graph.ts";

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
