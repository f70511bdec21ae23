import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { signMeta, utf8 } from "@concierge/crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "./server.ts";

const SECRET = "sandbox-app-secret";
const PHONE = { id: "106540352242922", display: "+1 555-078-3881", business: "Chai & Co." };

// Stands in for meta-webhooks: keeps each body as sent, and answers with `answer`.
type Received = { body: string; signature: string | undefined };
let received: Received[] = [];
let answer = 200;
let hook: Server;
let sandbox: Sandbox;

beforeAll(async () => {
  hook = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({
        body: Buffer.concat(chunks).toString("utf8"),
        signature: req.headers["x-hub-signature-256"] as string | undefined,
      });
      res.writeHead(answer).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, "127.0.0.1", r));
  sandbox = await startSandbox({
    appSecret: SECRET,
    whatsappWebhookUrl: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/webhook/whatsapp`,
    phoneNumbers: [PHONE],
  });
});

afterAll(async () => {
  await sandbox?.close();
  await new Promise<void>((r) => hook.close(() => r()));
});

beforeEach(async () => {
  received = [];
  answer = 200;
  await fetch(`${sandbox.url}/__sandbox/reset`, { method: "POST" });
});

const post = async (path: string, body: unknown) => {
  const r = await fetch(`${sandbox.url}${path}`, { method: "POST", body: JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
};

const sendAs = (fields: Record<string, unknown>) =>
  post("/api/whatsapp/send", { phoneNumberId: PHONE.id, from: "919800000001", name: "Asha", ...fields });

/** The one change value of the last webhook, after checking it was signed as Meta signs. */
async function lastValue() {
  const last = received.at(-1)!;
  expect(last.signature).toBe(await signMeta(SECRET, utf8(last.body)));
  const payload = JSON.parse(last.body);
  expect(payload.object).toBe("whatsapp_business_account");
  return payload.entry[0].changes[0].value;
}

/** A reply the business sent to the customer, as the fake Graph API recorded it. */
function businessReply(to = "919800000001"): string {
  const r = sandbox.graph.handleSend(
    PHONE.id,
    undefined,
    JSON.stringify({ messaging_product: "whatsapp", to, type: "text", text: { body: "Hello!" } }),
  );
  return (r.body as { messages: { id: string }[] }).messages[0]!.id;
}

describe("POST /api/whatsapp/send", () => {
  it("still sends plain text when no type is given", async () => {
    const r = await sendAs({ text: "what are your hours?" });
    expect(r.body).toMatchObject({ ok: true, webhookStatus: 200, preview: "what are your hours?" });
    const value = await lastValue();
    expect(value.metadata).toEqual({ display_phone_number: "15550783881", phone_number_id: PHONE.id });
    expect(value.contacts).toEqual([{ profile: { name: "Asha" }, wa_id: "919800000001" }]);
    expect(value.messages[0]).toMatchObject({
      id: r.body.messageId,
      type: "text",
      text: { body: "what are your hours?" },
    });
  });

  it.each([
    ["image", { caption: "your hours?" }, { image: { caption: "your hours?", mime_type: "image/jpeg" } }],
    ["video", { caption: "the queue" }, { video: { caption: "the queue", mime_type: "video/mp4" } }],
    ["audio", {}, { audio: { voice: true } }],
    ["document", { filename: "order.pdf" }, { document: { filename: "order.pdf" } }],
    ["sticker", {}, { sticker: { mime_type: "image/webp" } }],
  ])(
    "builds a %s message with a fake media id and only the captions Meta allows",
    async (type, fields, shape) => {
      const r = await sendAs({ type, ...fields, caption: (fields as { caption?: string }).caption ?? "" });
      expect(r.body.ok).toBe(true);
      const m = (await lastValue()).messages[0];
      expect(m).toMatchObject({ type, ...shape });
      expect(m[type].id).toMatch(/^\d+$/);
      if (!("caption" in fields)) expect(m[type].caption).toBeUndefined();
    },
  );

  it("builds location, contacts and unsupported messages in Meta's shapes", async () => {
    await sendAs({ type: "location", latitude: "12.9756", longitude: "77.6068", place: "MG Road" });
    expect((await lastValue()).messages[0]).toMatchObject({
      type: "location",
      location: { latitude: 12.9756, longitude: 77.6068, name: "MG Road" },
    });
    await sendAs({ type: "contacts", contactName: "Ravi Kumar", contactPhone: "+91 98450 00002" });
    expect((await lastValue()).messages[0].contacts).toEqual([
      {
        name: { formatted_name: "Ravi Kumar", first_name: "Ravi", last_name: "Kumar" },
        phones: [{ phone: "+91 98450 00002", type: "CELL", wa_id: "919845000002" }],
      },
    ]);
    await sendAs({ type: "unsupported" });
    expect((await lastValue()).messages[0]).toMatchObject({
      type: "unsupported",
      errors: [{ code: 131051 }],
    });
  });

  it("replies to the business's message with the tapped button or list title", async () => {
    const reply = businessReply();
    await sendAs({ type: "button_reply", title: "Book a table", contextId: reply });
    expect((await lastValue()).messages[0]).toMatchObject({
      context: { from: "15550783881", id: reply },
      type: "interactive",
      interactive: { type: "button_reply", button_reply: { id: "book_a_table", title: "Book a table" } },
    });
    await sendAs({ type: "list_reply", title: "See the menu", contextId: reply });
    expect((await lastValue()).messages[0]).toMatchObject({
      context: { id: reply },
      interactive: { type: "list_reply", list_reply: { id: "see_the_menu", title: "See the menu" } },
    });
  });

  it("reacts to the given reply, with the emoji escaped as Meta escapes it", async () => {
    const reply = businessReply();
    const r = await sendAs({ type: "reaction", contextId: reply, emoji: "👍" });
    expect(r.body.ok).toBe(true);
    expect(received.at(-1)!.body).toContain("\\ud83d\\udc4d");
    expect((await lastValue()).messages[0]).toMatchObject({
      type: "reaction",
      reaction: { message_id: reply, emoji: "👍" },
    });
  });

  it("refuses a request missing what its type needs, and posts nothing", async () => {
    for (const fields of [
      { type: "text" },
      { type: "location", latitude: "north" },
      { type: "contacts", contactName: "Ravi" },
      { type: "button_reply" },
      { type: "reaction", emoji: "👍" },
      { type: "poll" },
      { text: "hi", from: "not-a-number" },
    ]) {
      const r = await sendAs(fields);
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ ok: false, error: { code: "invalid" } });
    }
    expect(received).toHaveLength(0);
  });

  it("says when meta-webhooks refused the message", async () => {
    answer = 401;
    expect((await sendAs({ text: "hi" })).body).toMatchObject({ ok: false, webhookStatus: 401 });
  });
});

describe("POST /api/whatsapp/status", () => {
  it("posts Meta's signed status for a reply and shows it with the sent replies", async () => {
    const reply = businessReply();
    const r = await post("/api/whatsapp/status", { messageId: reply, status: "read" });
    expect(r.body).toEqual({ ok: true, webhookStatus: 200, status: "read" });
    const value = await lastValue();
    expect(value.messages).toBeUndefined();
    expect(value.statuses).toEqual([
      { id: reply, status: "read", timestamp: expect.stringMatching(/^\d+$/), recipient_id: "919800000001" },
    ]);
    const sent = await (await fetch(`${sandbox.url}/__sandbox/sent?to=919800000001`)).json();
    expect(sent.statuses).toEqual({ [reply]: { status: "read" } });
  });

  it("fails a reply with the chosen error code, and keeps failed as the last word", async () => {
    const reply = businessReply();
    await post("/api/whatsapp/status", { messageId: reply, status: "delivered" });
    expect((await lastValue()).statuses[0]).toMatchObject({
      status: "delivered",
      pricing: { billable: false },
    });
    const r = await post("/api/whatsapp/status", { messageId: reply, status: "failed", code: "131026" });
    expect(r.body).toMatchObject({ ok: true, status: "failed", code: 131026 });
    expect((await lastValue()).statuses[0]).toMatchObject({
      status: "failed",
      errors: [{ code: 131026, title: "Message undeliverable" }],
    });
    // Meta may still send it; the page shows what the pipeline keeps, which never leaves failed.
    await post("/api/whatsapp/status", { messageId: reply, status: "read" });
    const sent = await (await fetch(`${sandbox.url}/__sandbox/sent`)).json();
    expect(sent.statuses[reply]).toEqual({ status: "failed", code: 131026 });
  });

  it("refuses unknown replies and statuses, and records nothing meta-webhooks refused", async () => {
    expect((await post("/api/whatsapp/status", { messageId: "wamid.NOPE", status: "read" })).status).toBe(
      404,
    );
    const reply = businessReply();
    expect((await post("/api/whatsapp/status", { messageId: reply, status: "deleted" })).status).toBe(400);
    expect(
      (await post("/api/whatsapp/status", { messageId: reply, status: "failed", code: "soon" })).status,
    ).toBe(400);
    answer = 500;
    expect((await post("/api/whatsapp/status", { messageId: reply, status: "read" })).body).toMatchObject({
      ok: false,
      webhookStatus: 500,
    });
    const sent = await (await fetch(`${sandbox.url}/__sandbox/sent`)).json();
    expect(sent.statuses).toEqual({});
  });
});

describe("WhatsApp's 24-hour window, as Meta enforces it (131047)", () => {
  /** A free-form reply through the Graph route, as the pipeline sends one. */
  const reply = async (to: string) => {
    const r = await fetch(`${sandbox.url}/graph/v24.0/${PHONE.id}/messages`, {
      method: "POST",
      body: JSON.stringify({ messaging_product: "whatsapp", to, type: "text", text: { body: "Hello!" } }),
    });
    return { status: r.status, body: (await r.json()) as { messages: { id: string }[] } };
  };
  const statusesFor = async (id: string) => {
    const sent = await (await fetch(`${sandbox.url}/__sandbox/sent`)).json();
    return sent.statuses[id];
  };

  it("takes a reply to a customer who wrote 25 hours ago, then posts it failed with 131047", async () => {
    const w = await sendAs({ from: "919800000002", text: "hello, from yesterday", ageSeconds: 25 * 3600 });
    expect(w.body).toMatchObject({ ok: true });
    const message = (await lastValue()).messages[0];
    expect(Math.floor(Date.now() / 1000) - Number(message.timestamp)).toBeGreaterThanOrEqual(25 * 3600);
    received = [];
    const r = await reply("919800000002");
    // Accepted as Meta accepts it: a wamid comes back.
    expect(r.status).toBe(200);
    const id = r.body.messages[0]!.id;
    await expect.poll(() => received.length, { timeout: 5000 }).toBe(1);
    expect((await lastValue()).statuses).toEqual([
      expect.objectContaining({
        id,
        status: "failed",
        recipient_id: "919800000002",
        errors: [
          expect.objectContaining({
            code: 131047,
            title: "Re-engagement message",
            error_data: {
              details:
                "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
            },
          }),
        ],
      }),
    ]);
    expect(await statusesFor(id)).toEqual({ status: "failed", code: 131047 });
  });

  it("delivers within the window, and once the customer writes again; a test may age the window", async () => {
    await sendAs({ from: "919800000003", text: "hi" });
    received = [];
    const inside = await reply("919800000003");
    expect(await statusesFor(inside.body.messages[0]!.id)).toBeUndefined();
    const aged = await post("/__sandbox/whatsapp/window", {
      phoneNumberId: PHONE.id,
      customer: "919800000003",
      lastMessageAt: Date.now() - 24 * 3600_000 - 1000,
    });
    expect(aged).toEqual({ status: 200, body: { ok: true } });
    const late = await reply("919800000003");
    // The page shows it failed at once; the webhook follows seconds later, as Meta's does.
    expect(await statusesFor(late.body.messages[0]!.id)).toEqual({ status: "failed", code: 131047 });
    await sendAs({ from: "919800000003", text: "still there?" });
    const again = await reply("919800000003");
    expect(await statusesFor(again.body.messages[0]!.id)).toBeUndefined();
    // A customer the sandbox never saw write (a test that ingests directly) is inside the window.
    const unknown = await reply("919800000099");
    expect(await statusesFor(unknown.body.messages[0]!.id)).toBeUndefined();
  });

  it("refuses a bad age or window request and posts nothing", async () => {
    received = [];
    for (const ageSeconds of [-1, 1.5, 8 * 24 * 3600, "soon"]) {
      expect((await sendAs({ text: "hi", ageSeconds })).status).toBe(400);
    }
    expect(
      (await post("/__sandbox/whatsapp/window", { phoneNumberId: PHONE.id, customer: "1" })).status,
    ).toBe(400);
    expect(received).toHaveLength(0);
  });
});
