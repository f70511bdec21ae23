import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { verifyMetaSignature } from "@concierge/crypto";
import { afterAll, describe, expect, it } from "vitest";
import { FakeInstagram, isSendApiBody } from "./instagram.ts";
import { startSandbox } from "./server.ts";

const dm = { recipient: { id: "1780" }, messaging_type: "RESPONSE", message: { text: "hi" } };
const send = (f: FakeInstagram, body: unknown, auth = "Bearer EAAG-page") =>
  f.handleSend("1098", auth, JSON.stringify(body));

describe("FakeInstagram", () => {
  it("records a documented DM with its page and token, and sender actions apart", () => {
    const f = new FakeInstagram();
    const r = send(f, dm);
    expect(r).toMatchObject({ status: 200, body: { recipient_id: "1780" } });
    expect(send(f, { recipient: { id: "1780" }, sender_action: "mark_seen" }).status).toBe(200);
    expect(f.sent).toMatchObject([
      { pageId: "1098", to: "1780", text: "hi", tag: null, pageToken: "EAAG-page" },
    ]);
    expect(f.actions).toMatchObject([{ to: "1780", action: "mark_seen" }]);
    expect(f.attemptsTo.get("1780")).toBe(1);
  });

  it("refuses no token, a tag-less MESSAGE_TAG and an action with a message", () => {
    const f = new FakeInstagram();
    expect(send(f, dm, "")).toMatchObject({ status: 401, body: { error: { code: 190 } } });
    expect(send(f, { ...dm, messaging_type: "MESSAGE_TAG" })).toMatchObject({ status: 400 });
    expect(send(f, { ...dm, sender_action: "typing_on" })).toMatchObject({ status: 400 });
    expect(f.sent).toHaveLength(0);
  });

  it("plays a fault for one recipient, then recovers", () => {
    const f = new FakeInstagram();
    f.injectFaults({ status: 400, code: 10, error_subcode: 2018278, message: "outside window", to: "1780" });
    expect(send(f, dm)).toMatchObject({ status: 400, body: { error: { code: 10, error_subcode: 2018278 } } });
    expect(send(f, dm).status).toBe(200);
  });

  it("tells the Send API's bodies from WhatsApp's on the shared /{id}/messages path", () => {
    expect(isSendApiBody(JSON.stringify(dm))).toBe(true);
    expect(isSendApiBody(JSON.stringify({ messaging_product: "whatsapp", to: "1", type: "text" }))).toBe(
      false,
    );
    expect(isSendApiBody("{nope")).toBe(false);
  });
});

describe("the Instagram mode of the customer page", () => {
  const received: { body: string; signature: string }[] = [];
  const hook = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      received.push({ body, signature: String(req.headers["x-hub-signature-256"]) });
      res.end("{}");
    });
  });
  afterAll(() => new Promise<void>((r) => hook.close(() => r())));

  it("posts a signed object: instagram webhook, and serves the page", async () => {
    await new Promise<void>((r) => hook.listen(0, "127.0.0.1", r));
    const sandbox = await startSandbox({ appSecret: "s3cret" });
    try {
      sandbox.setInstagramWebhookUrl(
        `http://127.0.0.1:${(hook.address() as AddressInfo).port}/webhook/instagram`,
      );
      const r = await fetch(`${sandbox.url}/api/instagram/send`, {
        method: "POST",
        body: JSON.stringify({
          accountId: "17841400000000001",
          from: "1780",
          type: "story_reply",
          text: "nice",
        }),
      });
      expect(await r.json()).toMatchObject({ ok: true, preview: "[replied to your story] nice" });
      const payload = JSON.parse(received[0]!.body);
      expect(payload).toMatchObject({
        object: "instagram",
        entry: [
          { id: "17841400000000001", messaging: [{ sender: { id: "1780" }, message: { text: "nice" } }] },
        ],
      });
      expect(payload.entry[0].messaging[0].message.reply_to.story.id).toBeTruthy();
      expect(
        await verifyMetaSignature(
          "s3cret",
          new TextEncoder().encode(received[0]!.body),
          received[0]!.signature,
        ),
      ).toBe(true);
      const page = await fetch(`${sandbox.url}/instagram`);
      expect(await page.text()).toContain("Instagram, as a customer");
    } finally {
      await sandbox.close();
    }
  });
});
