import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { personaHash } from "@concierge/prompt";
import {
  createChannelAccount,
  grantCredits,
  recordPersonaVerdict,
  saveReplyConfig,
  savePersona,
  setNotifyDiscordChannel,
  setNotifyEmail,
} from "@concierge/storage";
import { signedMetaRequest, whatsappWebhook } from "@concierge/testing/meta";
import { sentTo, uniqueCustomer } from "@concierge/testing/sandbox-client";
import { DEMO } from "@concierge/testing/seed";
import { TEST_SECRETS } from "@concierge/testing/secrets";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type Stack, startStack } from "../scripts/stack.ts";

// Every path that holds message text (pending turns, AI history, held drafts, handoff) driven
// through the real webhook with a canary in every message, then every byte of local state and
// every log line searched for it.
const CANARY = `canary-${Math.random().toString(36).slice(2, 10)}`;
let stack: Stack;
let persistDir: string;
const output: string[] = [];

beforeAll(async () => {
  persistDir = mkdtempSync(path.join(os.tmpdir(), "concierge-e2e-ai-"));
  stack = await startStack({ persistDir, demoWaitSeconds: 0, onLog: (l) => output.push(l) });
  const persona = { kind: "raw", prompt: "You are Chai & Co.'s assistant." } as const;
  const hash = await personaHash(persona);
  await savePersona(stack.db, DEMO.tenantId, persona, hash);
  await recordPersonaVerdict(stack.db, DEMO.tenantId, hash, "approved", null);
  await grantCredits(stack.db, { tenantId: DEMO.tenantId, amount: 20, source: "grant", reference: "e2e-ai" });
  await setNotifyDiscordChannel(stack.db, DEMO.tenantId, "1300000000000000077");
  await setNotifyEmail(stack.db, DEMO.tenantId, "owner@chai.example");
});

afterAll(async () => {
  await stack?.dispose();
  rmSync(persistDir, { recursive: true, force: true });
});

async function aiAccount(externalId: string, approval: "auto" | "always") {
  const acc = await createChannelAccount(stack.db, {
    tenantId: DEMO.tenantId,
    channel: "whatsapp",
    externalId,
  });
  await saveReplyConfig(stack.db, DEMO.tenantId, acc.id, {
    wait_seconds: 0,
    rules: [],
    default_rule: { response: { kind: "prompt", text: "Answer kindly." }, approval },
  });
  return acc;
}

async function post(phoneNumberId: string, from: string, text: string) {
  const signed = await signedMetaRequest(
    TEST_SECRETS.metaAppSecret,
    whatsappWebhook([{ phoneNumberId, from, name: `${CANARY}-name`, text }]),
  );
  const res = await fetch(`${stack.urls["meta-webhooks"]}/webhook/whatsapp`, {
    method: "POST",
    headers: signed.headers,
    body: signed.body,
  });
  expect(res.status).toBe(200);
}

describe("message text at rest and in logs, on the AI path", () => {
  it("leaves no plaintext anywhere after AI replies, a held draft and a handoff", async () => {
    const auto = await aiAccount("660000000001", "auto");
    const always = await aiAccount("660000000002", "always");
    const a = uniqueCustomer();
    const b = uniqueCustomer();

    await post(auto.externalId, a, `Do you deliver? ${CANARY} 🙂`);
    await vi.waitUntil(async () => (await sentTo(stack.urls.sandbox, a)).length === 1, { timeout: 10_000 });
    await post(auto.externalId, a, `Can I talk to a human? ${CANARY}`);
    await vi.waitUntil(async () => (await sentTo(stack.urls.sandbox, a)).length === 2, { timeout: 10_000 });
    await post(always.externalId, b, `Please hold this one ${CANARY}`);
    await vi.waitUntil(() => output.some((l) => l.includes("turn.held_for_approval")), { timeout: 10_000 });
    await vi.waitUntil(() => stack.sandbox.discord.messages.length > 0, { timeout: 10_000 });

    // The handoff page, in Discord and by email, carries no customer words.
    expect(stack.sandbox.discord.messages[0]!.content).not.toContain(CANARY);
    // The email page went through the EMAIL binding, which checks the MIME it is given.
    await vi.waitUntil(
      () => output.some((l) => l.includes("notify.email_sent") && l.includes('"kind":"handoff"')),
      {
        timeout: 10_000,
      },
    );
    expect(output.some((l) => l.includes("notify.email_failed"))).toBe(false);
    const files = readdirSync(persistDir, { withFileTypes: true, recursive: true })
      .filter((e) => e.isFile())
      .map((e) => path.join(e.parentPath, e.name));
    expect(files.some((f) => f.includes("ConversationDO"))).toBe(true);
    expect(files.filter((f) => readFileSync(f).includes(CANARY))).toEqual([]);
    expect(output.join("\n")).toContain("turn.replied");
    expect(output.join("\n")).not.toContain(CANARY);
  });
});
