import { exports } from "cloudflare:workers";
import worker from "../src/index.ts";
import { describe, expect, it } from "vitest";

describe("email-inbound", () => {
  it("refuses mail at SMTP time with a clear reason while the email channel is not enabled", async () => {
    const raw =
      "From: a@example.com\r\nTo: hello@acme.cncg.email\r\nSubject: hi\r\nMessage-ID: <1@example.com>\r\n\r\nhello\r\n";
    let rejected: string | null = null;
    const message = {
      from: "a@example.com",
      to: "hello@acme.cncg.email",
      headers: new Headers({ subject: "hi" }),
      raw: new Response(raw).body!,
      rawSize: raw.length,
      setReject: (reason: string) => {
        rejected = reason;
      },
      forward: async () => ({ messageId: "x" }),
      reply: async () => ({ messageId: "x" }),
    } as unknown as ForwardableEmailMessage;
    await worker.email(message);
    expect(rejected).toBe("This address does not accept mail yet.");
  });

  it("reports its health", async () => {
    expect(await (await exports.default.fetch("https://email.test/healthz")).json()).toEqual({ ok: true });
  });
});
