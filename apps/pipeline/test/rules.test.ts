import { env } from "cloudflare:workers";
import { createTenant, creditBalance, getReplyConfig, grantCredits } from "@concierge/storage";
import { graphAttempts, uniqueCustomer } from "@concierge/testing/sandbox-client";
import { TEST_SECRETS } from "@concierge/testing/secrets";
import { describe, expect, it } from "vitest";
import {
  approvePersona,
  inboundText,
  ingestApi,
  newBareAccount,
  repliesTo,
  tenantApi,
  tenantId,
} from "./helpers.ts";

const account = newBareAccount;

const intentRules = {
  wait_seconds: 0,
  rules: [
    {
      id: "hours",
      matcher: { kind: "static_text", keywords: ["hours"] },
      response: { kind: "canned", text: "7 to 7." },
    },
    {
      id: "booking",
      label: "Booking requests",
      matcher: { kind: "prompt", description: "book a table reservation for dinner", threshold: 0.5 },
      response: { kind: "canned", text: "Booked! (canned)" },
    },
    {
      id: "catering",
      matcher: { kind: "prompt", description: "catering for an office party event", threshold: 0.5 },
      response: { kind: "prompt", text: "Ask for the date and headcount." },
    },
  ],
  default_rule: { response: { kind: "canned", text: "Thanks!" } },
};

describe("saving reply rules (RPC)", () => {
  it("embeds intent rules once at save time, with the model that made the vectors", async () => {
    const acc = await account();
    expect(await tenantApi.saveReplyConfig(tenantId, acc.id, intentRules)).toMatchObject({ ok: true });
    const stored = await getReplyConfig(env.DB, acc.id);
    expect(stored!.embeddings.model).toBe("offline/lexical-256");
    expect(Object.keys(stored!.embeddings.rules).sort()).toEqual(["booking", "catering"]);
    expect(stored!.embeddings.rules.booking!.vector).toHaveLength(256);
  });

  it("answers a message by the intent rule it is closest to", async () => {
    const acc = await account();
    await tenantApi.saveReplyConfig(tenantId, acc.id, intentRules);
    const customer = uniqueCustomer();
    await ingestApi.ingest([inboundText(acc.externalId, customer, "Can I book a table for dinner tonight?")]);
    expect((await repliesTo(customer))[0]!.text).toBe("Booked! (canned)");
  });

  it("refuses an invalid config with the field's path and keeps the previous one", async () => {
    const acc = await account();
    await tenantApi.saveReplyConfig(tenantId, acc.id, intentRules);
    const bad = { ...intentRules, wait_seconds: 45 };
    expect(await tenantApi.saveReplyConfig(tenantId, acc.id, bad)).toMatchObject({
      ok: false,
      error: { code: "invalid_reply_config", message: expect.stringContaining("wait_seconds") },
    });
    expect((await getReplyConfig(env.DB, acc.id))!.config.wait_seconds).toBe(0);
  });

  it("checks the editor's version in the save: of two saves from one page exactly one lands (issue 19 item 8)", async () => {
    const acc = await account();
    const [a, b] = await Promise.all([
      tenantApi.saveReplyConfig(tenantId, acc.id, intentRules, 0),
      tenantApi.saveReplyConfig(tenantId, acc.id, { ...intentRules, wait_seconds: 9 }, 0),
    ]);
    expect([a.ok, b.ok].toSorted()).toEqual([false, true]);
    expect(a.ok ? b : a).toMatchObject({ ok: false, error: { code: "stale" } });
    expect(await getReplyConfig(env.DB, acc.id)).toMatchObject({
      version: 1,
      config: { wait_seconds: a.ok ? 0 : 9 },
    });
    expect(await tenantApi.saveReplyConfig(tenantId, acc.id, intentRules, "1" as never)).toMatchObject({
      ok: false,
      error: { code: "invalid_version" },
    });
    expect(await tenantApi.saveReplyConfig(tenantId, acc.id, intentRules, 1)).toMatchObject({ ok: true });
    expect((await getReplyConfig(env.DB, acc.id))?.version).toBe(2);
  });

  it("refuses another tenant's account as if it did not exist", async () => {
    const acc = await account();
    const other = await createTenant(env.DB, TEST_SECRETS.encryptionKey, {
      name: "Other",
      id: `t_other_${Date.now()}`,
    });
    expect(await tenantApi.saveReplyConfig(other.id, acc.id, intentRules)).toMatchObject({
      ok: false,
      error: { code: "not_found" },
    });
    expect(await tenantApi.testReplyRules(other.id, acc.id, "hours?")).toMatchObject({
      ok: false,
      error: { code: "not_found" },
    });
    expect(await getReplyConfig(env.DB, acc.id)).toBeNull();
  });
});

describe("the rules test panel (RPC)", () => {
  it("shows the matched rule and its reply without sending anything or spending a credit", async () => {
    await approvePersona({ kind: "raw", prompt: "You are the voice of Chai & Co." });
    await grantCredits(env.DB, { tenantId, amount: 3, source: "grant", reference: `panel-${Date.now()}` });
    const acc = await account();
    await tenantApi.saveReplyConfig(tenantId, acc.id, intentRules);
    const attempts = await graphAttempts(env.SANDBOX_URL);
    const balance = await creditBalance(env.DB, tenantId);

    expect(await tenantApi.testReplyRules(tenantId, acc.id, "what are your HOURS")).toEqual({
      ok: true,
      ruleId: "hours",
      label: "",
      via: "keyword",
      score: null,
      closest: null,
      reply: { kind: "canned", text: "7 to 7." },
    });

    const intent = await tenantApi.testReplyRules(tenantId, acc.id, "we need catering for our office party");
    expect(intent).toMatchObject({
      ok: true,
      ruleId: "catering",
      via: "embedding",
      reply: { kind: "prompt" },
    });
    if (!intent.ok || intent.reply.kind !== "prompt") throw new Error("expected an AI rule");
    expect(intent.score).toBeGreaterThanOrEqual(0.5);
    expect(intent.reply.envelope).toContain("You are the voice of Chai & Co.");
    expect(intent.reply.envelope).toContain("For this message: Ask for the date and headcount.");
    expect(intent.reply.personaStatus).toBe("approved");

    expect(await tenantApi.testReplyRules(tenantId, acc.id, "zzz")).toMatchObject({
      ok: true,
      via: "default",
    });
    expect(await graphAttempts(env.SANDBOX_URL)).toBe(attempts);
    expect(await creditBalance(env.DB, tenantId)).toBe(balance);
  });

  it("explains a miss: the closest intent, its score and the threshold it did not reach (issue 19 item 10)", async () => {
    const acc = await account();
    const strict = {
      ...intentRules,
      rules: intentRules.rules.map((r) =>
        r.matcher.kind === "prompt" ? { ...r, matcher: { ...r.matcher, threshold: 0.95 } } : r,
      ),
    };
    expect(await tenantApi.saveReplyConfig(tenantId, acc.id, strict)).toMatchObject({ ok: true });
    // Close to "book a table reservation for dinner", but not 0.95 close.
    const miss = await tenantApi.testReplyRules(tenantId, acc.id, "a table for dinner please");
    expect(miss).toMatchObject({
      ok: true,
      via: "default",
      closest: { ruleId: "booking", label: "Booking requests", threshold: 0.95 },
    });
    if (!miss.ok || !miss.closest) throw new Error("expected a near miss");
    expect(miss.closest.score).toBeGreaterThan(0);
    expect(miss.closest.score).toBeLessThan(0.95);
    // Lowered below that score, the same message matches the rule.
    const lowered = {
      ...strict,
      rules: strict.rules.map((r) =>
        r.id === "booking" && r.matcher.kind === "prompt"
          ? { ...r, matcher: { ...r.matcher, threshold: Math.floor(miss.closest!.score * 100) / 100 } }
          : r,
      ),
    };
    // The offline embedder is deterministic: this message scores well above the 0.5 minimum.
    expect(miss.closest.score).toBeGreaterThanOrEqual(0.5);
    await tenantApi.saveReplyConfig(tenantId, acc.id, lowered);
    expect(await tenantApi.testReplyRules(tenantId, acc.id, "a table for dinner please")).toMatchObject({
      via: "embedding",
      ruleId: "booking",
      closest: null,
    });
  });

  it("asks for a message when given none", async () => {
    const acc = await account();
    expect(await tenantApi.testReplyRules(tenantId, acc.id, "  ")).toMatchObject({
      ok: false,
      error: { code: "invalid_text" },
    });
  });
});
