import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { conversationKey } from "@concierge/core";
import { personaHash } from "@concierge/prompt";
import {
  createChannelAccount,
  creditBalance,
  grantCredits,
  recordPersonaVerdict,
  savePersona,
} from "@concierge/storage";
import { sentTo, uniqueCustomer } from "@concierge/testing/sandbox-client";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  approvePersona,
  inboundText,
  ingestApi,
  newAccount,
  setBalance,
  tenantApi,
  tenantId,
} from "../helpers.ts";

// The dashboard's AI preview and tenant deletion against a real HTTP model server (the sandbox's),
// whose failures and latency are set per test.
async function configureAi(settings: Record<string, number>) {
  await fetch(`${env.SANDBOX_URL}/__sandbox/ai`, { method: "POST", body: JSON.stringify(settings) });
}

const aiRules = (waitSeconds: number) => ({
  wait_seconds: waitSeconds,
  rules: [],
  default_rule: { response: { kind: "prompt", text: "Answer kindly." } },
});

beforeAll(() => approvePersona({ kind: "raw", prompt: "You are Chai & Co.'s friendly assistant." }));

beforeEach(async () => {
  await configureAi({ generateLatencyMs: 0, classifyLatencyMs: 0, failNext: 0 });
  await setBalance(10);
});

describe("AI preview (OpenAI-compatible provider)", () => {
  it("gives the credit back when generation fails, and a new preview then works", async () => {
    const acc = await newAccount(aiRules(0));
    const id = crypto.randomUUID();
    await configureAi({ failNext: 1 });
    expect(await tenantApi.previewAiReply(tenantId, acc.id, "do you deliver?", id)).toMatchObject({
      ok: false,
      error: { code: "ai_unavailable" },
    });
    expect(await creditBalance(env.DB, tenantId)).toBe(10);
    const { results } = await env.DB.prepare(
      // The debit is `preview:<id>:<MAC of the text>` (src/replies/preview.ts), and its restore.
      `SELECT delta FROM credit_ledger WHERE tenant_id = ?1
          AND (substr(reference, 1, length(?2)) = ?2 OR substr(reference, 1, length(?3)) = ?3) ORDER BY id`,
    )
      .bind(tenantId, `preview:${id}:`, `restore:preview:${id}:`)
      .all<{ delta: number }>();
    expect(results.map((r) => r.delta)).toEqual([-1, 1]);
    // That id is spent; a new click is a new preview.
    expect(await tenantApi.previewAiReply(tenantId, acc.id, "do you deliver?", id)).toMatchObject({
      ok: false,
      error: { code: "preview_id_used" },
    });
    expect(
      await tenantApi.previewAiReply(tenantId, acc.id, "do you deliver?", crypto.randomUUID()),
    ).toMatchObject({ ok: true, reply: expect.stringMatching(/^\[sandbox AI\]/), balance: 9 });
  });
});

describe("deleteTenant while a turn is in flight", () => {
  it("leaves the purged conversation empty: the turn neither writes, sends, nor re-arms", async () => {
    const created = await tenantApi.createTenant({ name: "Mid-flight" });
    if (!created.ok) throw new Error(created.error.message);
    const tid = created.tenantId;
    const account = await createChannelAccount(env.DB, {
      tenantId: tid,
      channel: "whatsapp",
      externalId: `66${String(Date.now() % 1e10).padStart(10, "0")}`,
    });
    expect(await tenantApi.saveReplyConfig(tid, account.id, aiRules(0))).toMatchObject({ ok: true });
    const persona = { kind: "raw", prompt: "You are Mid-flight's assistant." } as const;
    const hash = await personaHash(persona);
    await savePersona(env.DB, tid, persona, hash);
    await recordPersonaVerdict(env.DB, tid, hash, "approved", null);
    await grantCredits(env.DB, { tenantId: tid, amount: 3, source: "purchase", reference: "pay_mid" });

    // A first turn, so the deletion finds this conversation through its metadata.
    const customer = uniqueCustomer();
    await ingestApi.ingest([inboundText(account.externalId, customer, "hello")]);
    const deadline = Date.now() + 8000;
    while ((await sentTo(env.SANDBOX_URL, customer)).length < 1 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(1);

    // The second turn waits on a slow model while the tenant is deleted.
    await configureAi({ generateLatencyMs: 1500, classifyLatencyMs: 1500 });
    await ingestApi.ingest([inboundText(account.externalId, customer, "are you there?")]);
    await new Promise((r) => setTimeout(r, 400));
    expect(await tenantApi.deleteTenant(tid)).toMatchObject({ ok: true, deleted: { conversations: 1 } });
    await new Promise((r) => setTimeout(r, 2000));

    const stub = env.CONVERSATIONS.get(
      env.CONVERSATIONS.idFromName(conversationKey(tid, account.id, customer)),
    );
    const contents = await runInDurableObject(stub, async (_o, state) => {
      const tables = state.storage.sql
        .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
        .toArray()
        .map((r) => r.name)
        .filter((n) => !n.startsWith("sqlite_") && !n.startsWith("_cf_"));
      const rows = tables.flatMap((t) => state.storage.sql.exec(`SELECT * FROM "${t}"`).toArray());
      return { rows, kv: [...(await state.storage.list()).keys()], alarm: await state.storage.getAlarm() };
    });
    expect(contents).toEqual({ rows: [], kv: [], alarm: null });
    // The turn really was in flight: the model was asked (and answered after the purge).
    const calls = (
      (await (await fetch(`${env.SANDBOX_URL}/__sandbox/ai`)).json()) as {
        calls: { kind: string; userText: string }[];
      }
    ).calls;
    expect(calls.some((c) => c.kind === "generate" && c.userText.includes("are you there?"))).toBe(true);
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(1);
    const left = await env.DB.prepare(
      "SELECT (SELECT COUNT(*) FROM messages WHERE account_id = ?) + (SELECT COUNT(*) FROM credit_ledger WHERE tenant_id = ?) AS n",
    )
      .bind(account.id, tid)
      .first<{ n: number }>();
    expect(left!.n).toBe(0);
  });
});
