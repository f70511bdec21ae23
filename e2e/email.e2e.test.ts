import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { DEMO, DEMO_EMAIL } from "@concierge/testing/seed";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "../scripts/stack.ts";

// The sandbox's email page, as `npm start` runs it: a customer's mail goes through Miniflare's
// local email() trigger into email-inbound, the pipeline answers, the answer shows in the outbox.
let stack: Stack;
let persistDir: string;

beforeAll(async () => {
  persistDir = mkdtempSync(path.join(os.tmpdir(), "concierge-e2e-email-"));
  stack = await startStack({ persistDir, demoWaitSeconds: 0, quiet: true });
});

afterAll(async () => {
  await stack?.dispose();
  rmSync(persistDir, { recursive: true, force: true });
});

type View = { envelopeTo: string; from: string; subject: string; text: string; inReplyTo: string | null };

async function outboxFor(to: string): Promise<View[]> {
  for (let i = 0; i < 100; i++) {
    const r = (await (await fetch(`${stack.urls.sandbox}/__sandbox/email/outbox/parsed`)).json()) as {
      messages: View[];
    };
    const mine = r.messages.filter((m) => m.envelopeTo === to);
    if (mine.length) return mine;
    await new Promise((res) => setTimeout(res, 100));
  }
  return [];
}

const send = async (body: unknown) =>
  (await (
    await fetch(`${stack.urls.sandbox}/api/email/send`, { method: "POST", body: JSON.stringify(body) })
  ).json()) as { ok: boolean; outcome: string; rejectReason: string | null };

describe("the sandbox's email page", () => {
  it("serves the form with an address on the demo subdomain", async () => {
    const html = await (await fetch(`${stack.urls.sandbox}/email`)).text();
    expect(html).toContain(`hello@${DEMO_EMAIL.domain}`);
  });

  it("delivers a customer's mail into email() and shows the threaded auto-reply in the outbox", async () => {
    const from = `asha${Date.now()}@customer.example`;
    const r = await send({
      from,
      fromName: "Asha",
      to: `hello@${DEMO_EMAIL.domain}`,
      subject: "Opening hours?",
      body: "When are you open?",
      attachment: {
        filename: "note.txt",
        contentType: "text/plain",
        base64: Buffer.from("hi").toString("base64"),
      },
    });
    expect(r).toMatchObject({ ok: true, outcome: "ok" });
    const [reply] = await outboxFor(from);
    expect(reply).toBeDefined();
    expect(reply!.subject).toBe("Re: Opening hours?");
    expect(reply!.from).toContain(`hello@${DEMO_EMAIL.domain}`);
    expect(reply!.text).toBe(DEMO.replyConfig.rules[0].response.text);
  });

  it("a forged sender (Cloudflare's verdict: fail) gets no auto-reply; the mail is still accepted", async () => {
    const from = `forged${Date.now()}@bank.example`;
    const r = await send({
      from,
      to: `hello@${DEMO_EMAIL.domain}`,
      subject: "Opening hours?",
      body: "When are you open?",
      authentication: "fail",
    });
    expect(r).toMatchObject({ ok: true, outcome: "ok" });
    await new Promise((res) => setTimeout(res, 1500));
    expect(await outboxFor(from)).toEqual([]);
  });

  it("shows the handler's rejection for a subdomain nobody owns", async () => {
    const r = await send({
      from: "a@customer.example",
      to: "hello@nobody.cncg.email",
      subject: "x",
      body: "y",
    });
    expect(r.ok).toBe(false);
    expect(r.rejectReason).toMatch(/no such mailbox/i);
  });
});
