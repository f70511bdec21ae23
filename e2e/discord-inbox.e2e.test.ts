import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { DEMO_EMAIL } from "@concierge/testing/seed";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "../scripts/stack.ts";

// The Discord inbox as `npm start` runs it: the demo tenant's bot sits in the sandbox's guild, an
// email routed to "relay" becomes an inbox embed, and a person answers it with the sandbox's
// buttons, which send signed interactions to discord-interactions exactly as Discord would.
let stack: Stack;
let persistDir: string;

beforeAll(async () => {
  persistDir = mkdtempSync(path.join(os.tmpdir(), "concierge-e2e-discord-"));
  stack = await startStack({ persistDir, demoWaitSeconds: 0, demoDiscord: true, quiet: true });
});

afterAll(async () => {
  await stack?.dispose();
  rmSync(persistDir, { recursive: true, force: true });
});

type InboxMessage = {
  id: string;
  channelId: string;
  embeds: { title?: string; description?: string; fields?: { name: string; value: string }[] }[];
  components: unknown[];
  edits: unknown[];
};
type Mail = { envelopeTo: string; from: string; subject: string; text: string; inReplyTo: string | null };

async function poll<T>(read: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 150; i++) {
    const v = await read();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const inbox = async () =>
  ((await (await fetch(`${stack.urls.sandbox}/__sandbox/discord`)).json()) as { messages: InboxMessage[] })
    .messages;

const outbox = async () =>
  (
    (await (await fetch(`${stack.urls.sandbox}/__sandbox/email/outbox/parsed`)).json()) as {
      messages: Mail[];
    }
  ).messages;

const press = async (body: unknown) => {
  const r = await fetch(`${stack.urls.sandbox}/__sandbox/discord/press`, {
    method: "POST",
    body: JSON.stringify(body),
  });
  return { status: r.status, body: (await r.json()) as { ok: boolean; status?: number } };
};

describe("the sandbox's Discord inbox", () => {
  it("relays an invoice email to the inbox, and a person's Reply from Discord reaches the customer by email, threaded", async () => {
    const from = `ravi${Date.now()}@customer.example`;
    const subject = `Invoice ${Date.now()} looks wrong`;
    const sent = (await (
      await fetch(`${stack.urls.sandbox}/api/email/send`, {
        method: "POST",
        body: JSON.stringify({
          from,
          fromName: "Ravi",
          to: `accounts@${DEMO_EMAIL.domain}`,
          subject,
          body: "I was charged twice for one order.",
        }),
      })
    ).json()) as { ok: boolean };
    expect(sent.ok).toBe(true);

    const item = await poll(
      async () => (await inbox()).find((m) => JSON.stringify(m.embeds).includes(subject)),
      "the inbox embed",
    );
    expect(JSON.stringify(item.components)).toContain("relay:reply:");
    expect(JSON.stringify(item.components)).not.toContain("relay:approve:");
    // Relayed, not answered automatically.
    expect((await outbox()).filter((m) => m.envelopeTo === from)).toEqual([]);

    const opened = await press({ messageId: item.id, action: "reply" });
    expect(opened.status).toBe(200);
    const submitted = await press({
      messageId: item.id,
      action: "submit",
      text: "Sorry about that, we've refunded the second charge.",
      user: { id: "200000000000000002", name: "Meera" },
    });
    expect(submitted.status).toBe(200);

    const reply = await poll(
      async () => (await outbox()).find((m) => m.envelopeTo === from),
      "the reply in the outbox",
    );
    expect(reply.subject).toBe(`Re: ${subject}`);
    expect(reply.from).toContain(`accounts@${DEMO_EMAIL.domain}`);
    expect(reply.text).toContain("refunded the second charge");
    expect(reply.inReplyTo).toMatch(/^<.+>$/);

    const handled = await poll(async () => {
      const m = (await inbox()).find((x) => x.id === item.id);
      return m && m.edits.length > 0 && JSON.stringify(m.embeds).includes("Meera") ? m : undefined;
    }, "the edited embed");
    expect(JSON.stringify(handled.components ?? [])).not.toContain("relay:reply:");

    // A second submit finds the item handled and sends nothing more.
    await press({ messageId: item.id, action: "submit", text: "again", user: { id: "3", name: "Kiran" } });
    await new Promise((r) => setTimeout(r, 500));
    expect((await outbox()).filter((m) => m.envelopeTo === from)).toHaveLength(1);
  });
});
