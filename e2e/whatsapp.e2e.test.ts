import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { signedMetaRequest, whatsappWebhook } from "@concierge/testing/meta";
import { sentTo, uniqueCustomer } from "@concierge/testing/sandbox-client";
import { DEMO, DEMO_AI } from "@concierge/testing/seed";
import { TEST_SECRETS } from "@concierge/testing/secrets";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type Stack, startStack } from "../scripts/stack.ts";

// The five Workers from their real wrangler.jsonc files in one runtime, joined by their real
// service bindings, with the sandbox as Meta: exactly what `npm start` runs.
let stack: Stack;
let persistDir: string;

// Every line the five Workers log is kept, to be searched for message text.
const output: string[] = [];

beforeAll(async () => {
  persistDir = mkdtempSync(path.join(os.tmpdir(), "concierge-e2e-"));
  stack = await startStack({ persistDir, demoWaitSeconds: 0, onLog: (line) => output.push(line) });
});

afterAll(async () => {
  await stack?.dispose();
  rmSync(persistDir, { recursive: true, force: true });
});

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

const CANARY = `canary-${Math.random().toString(36).slice(2, 10)}`;

async function postWebhook(payload: unknown): Promise<Response> {
  const signed = await signedMetaRequest(TEST_SECRETS.metaAppSecret, payload);
  return fetch(`${stack.urls["meta-webhooks"]}/webhook/whatsapp`, {
    method: "POST",
    headers: signed.headers,
    body: signed.body,
  });
}

async function waitForReplies(customer: string, n = 1) {
  await vi.waitUntil(async () => (await sentTo(stack.urls.sandbox, customer)).length >= n, {
    timeout: 10_000,
    interval: 100,
  });
  return sentTo(stack.urls.sandbox, customer);
}

describe("a WhatsApp message, end to end across Workers", () => {
  it("travels from a signed webhook through the pipeline to a canned reply at the Graph API", async () => {
    const customer = uniqueCustomer();
    const payload = whatsappWebhook([
      {
        phoneNumberId: DEMO.whatsapp.phoneNumberId,
        from: customer,
        name: "Meera",
        text: `When are you open? ${CANARY}`,
      },
    ]);
    const res = await postWebhook(payload);
    expect(res.status).toBe(200);
    const [reply] = await waitForReplies(customer);
    expect(reply).toMatchObject({ to: customer, text: DEMO.replyConfig.rules[0].response.text });

    const rows = await stack.db
      .prepare("SELECT * FROM messages WHERE sender_id = ? OR recipient_id = ? ORDER BY id")
      .bind(customer, customer)
      .all<Record<string, unknown>>();
    expect(rows.results.map((r) => r.direction)).toEqual(["inbound", "outbound"]);
    expect(JSON.stringify(rows.results)).not.toContain(CANARY);
  });

  it("is what the sandbox's customer page does: sign, post, and show the reply", async () => {
    const customer = uniqueCustomer();
    const res = await fetch(`${stack.urls.sandbox}/api/whatsapp/send`, {
      method: "POST",
      body: JSON.stringify({
        phoneNumberId: DEMO.whatsapp.phoneNumberId,
        from: customer,
        text: "price list?",
      }),
    });
    expect(await res.json()).toMatchObject({ ok: true, webhookStatus: 200 });
    const [reply] = await waitForReplies(customer);
    expect(reply!.text).toBe(DEMO.replyConfig.rules[1].response.text);
  });

  it("leaves no plaintext of the message in any local state (D1, Durable Objects) or any log", async () => {
    const customer = uniqueCustomer();
    const canaryName = `${CANARY}-name`;
    const payload = whatsappWebhook([
      {
        phoneNumberId: DEMO.whatsapp.phoneNumberId,
        from: customer,
        name: canaryName,
        text: `menu ${CANARY} 🙂 مرحبا`,
      },
    ]);
    expect((await postWebhook(payload)).status).toBe(200);
    await waitForReplies(customer);
    const files = filesUnder(persistDir);
    expect(files.some((f) => f.includes("D1DatabaseObject"))).toBe(true);
    expect(files.some((f) => f.includes("ConversationDO"))).toBe(true);
    const hits = files.filter((f) => readFileSync(f).includes(CANARY));
    expect(hits).toEqual([]);
    expect(output.join("").includes("turn.replied")).toBe(true);
    expect(output.join("")).not.toContain(CANARY);
  });

  it("lets the demo tenant answer with the AI from the first run: credits, an approved persona, AI rules", async () => {
    const before = await stack.db
      .prepare("SELECT COALESCE(SUM(remaining), 0) AS n FROM credit_lots WHERE tenant_id = ?")
      .bind(DEMO.tenantId)
      .first<{ n: number }>();
    expect(before?.n).toBeGreaterThanOrEqual(DEMO_AI.credits - 5);
    const customer = uniqueCustomer();
    await postWebhook(
      whatsappWebhook([
        { phoneNumberId: DEMO.whatsapp.phoneNumberId, from: customer, text: "What would you recommend?" },
      ]),
    );
    const [reply] = await waitForReplies(customer);
    expect(reply?.text).toBeTruthy();
    const row = await stack.db
      .prepare("SELECT action, rule_id FROM messages WHERE recipient_id = ? AND direction = 'outbound'")
      .bind(customer)
      .first<{ action: string; rule_id: string }>();
    expect(row).toEqual({ rule_id: "recommend", action: "ai_reply" });

    // The catering rule always waits for a person: a held draft shows in approvals.
    const held = uniqueCustomer();
    await postWebhook(
      whatsappWebhook([
        { phoneNumberId: DEMO.whatsapp.phoneNumberId, from: held, text: "Do you do catering?" },
      ]),
    );
    await vi.waitUntil(
      async () =>
        (await stack.db
          .prepare(
            "SELECT 1 FROM approvals WHERE tenant_id = ? AND rule_id = 'catering' AND status = 'pending'",
          )
          .bind(DEMO.tenantId)
          .first()) !== null,
      { timeout: 10_000, interval: 100 },
    );
    expect(await sentTo(stack.urls.sandbox, held)).toHaveLength(0);
  });

  it("serves every public Worker's health check", async () => {
    for (const app of ["dashboard", "meta-webhooks", "discord-interactions", "email-inbound"] as const) {
      const res = await fetch(`${stack.urls[app]}/healthz`);
      expect(await res.json()).toEqual({ ok: true });
    }
  });

  it("answers Meta 200 for a number no tenant owns, sends nothing, and logs it", async () => {
    const customer = uniqueCustomer();
    const payload = whatsappWebhook([{ phoneNumberId: "555000999888", from: customer, text: "hours?" }]);
    const res = await postWebhook(payload);
    expect(res.status).toBe(200);
    await vi.waitUntil(() =>
      output.some((l) => l.includes("ingest.unknown_account") && l.includes("555000999888")),
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(await sentTo(stack.urls.sandbox, customer)).toHaveLength(0);
  });
});
