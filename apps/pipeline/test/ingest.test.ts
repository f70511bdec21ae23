import { listDurableObjectIds, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import type { InboundMessage } from "@concierge/core";
import { DEMO } from "@concierge/testing/seed";
import { graphAttempts, injectGraphFault, sentTo, uniqueCustomer } from "@concierge/testing/sandbox-client";
import { describe, expect, it, vi } from "vitest";
import { newWamid } from "@concierge/testing/meta";
import { BUFFERED, bufferedRows } from "./helpers.ts";

const ingestApi = exports.MetaIngestEntrypoint;
const operatorApi = exports.OperatorEntrypoint;

function message(over: Partial<InboundMessage> = {}): InboundMessage {
  return {
    channel: "whatsapp",
    accountExternalId: DEMO.whatsapp.phoneNumberId,
    providerMessageId: newWamid(),
    customerId: uniqueCustomer(),
    customerName: "Asha",
    sentAt: Date.now(),
    kind: "text",
    text: "hello",
    hasAttachment: false,
    ...over,
  };
}

function conversationStub(customerId: string) {
  const name = `${DEMO.tenantId}/${DEMO.whatsapp.accountId}/${customerId}`;
  return env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(name));
}

/** Milliseconds until the conversation's next alarm (Infinity when none is set). */
async function nextAlarmIn(customerId: string): Promise<number> {
  const at = await runInDurableObject(conversationStub(customerId), (_o, state) => state.storage.getAlarm());
  return at === null ? Number.POSITIVE_INFINITY : at - Date.now();
}

async function metadata(customerId: string) {
  const { results } = await env.DB.prepare(
    "SELECT direction, action, rule_id, sender_id, recipient_id, conversation_id FROM messages WHERE sender_id = ? OR recipient_id = ? ORDER BY id",
  )
    .bind(customerId, customerId)
    .all<Record<string, string>>();
  return results;
}

/** Runs `fn` with the demo account's reply buffer set to `seconds`, then puts it back to 0. */
async function withWaitSeconds(seconds: number, fn: () => Promise<void>): Promise<void> {
  const set = (n: number) =>
    env.DB.prepare("UPDATE reply_configs SET wait_seconds = ? WHERE account_id = ?")
      .bind(n, DEMO.whatsapp.accountId)
      .run();
  await set(seconds);
  try {
    await fn();
  } finally {
    await set(0);
  }
}

describe("MetaIngestEntrypoint.ingest", () => {
  it("accepts a message, then its turn sends the matching canned reply and records metadata only", async () => {
    const m = message({ text: "Hi! What are your HOURS today? canary-7f3a" });
    expect(await ingestApi.ingest([m])).toEqual({
      ok: true,
      results: [{ providerMessageId: m.providerMessageId, status: "accepted" }],
    });

    await vi.waitUntil(async () => (await sentTo(env.SANDBOX_URL, m.customerId)).length > 0, {
      timeout: 5000,
    });
    const sent = await sentTo(env.SANDBOX_URL, m.customerId);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      phoneNumberId: DEMO.whatsapp.phoneNumberId,
      text: DEMO.replyConfig.rules[0].response.text,
      contextMessageId: m.providerMessageId,
    });

    await vi.waitUntil(async () => (await metadata(m.customerId)).length === 2);
    const rows = await metadata(m.customerId);
    expect(rows.map((r) => [r.direction, r.action, r.rule_id])).toEqual([
      ["inbound", "canned_reply", "hours"],
      ["outbound", "canned_reply", "hours"],
    ]);
    expect(rows[0]!.conversation_id).toBe(rows[1]!.conversation_id);
    const all = await env.DB.prepare("SELECT * FROM messages").all();
    expect(JSON.stringify(all.results)).not.toContain("canary-7f3a");
  });

  it("falls back to the default rule when no keyword matches", async () => {
    const m = message({ text: "do you deliver to Koramangala?" });
    await ingestApi.ingest([m]);
    await vi.waitUntil(async () => (await sentTo(env.SANDBOX_URL, m.customerId)).length > 0, {
      timeout: 5000,
    });
    expect((await sentTo(env.SANDBOX_URL, m.customerId))[0]!.text).toBe(
      DEMO.replyConfig.default_rule.response.text,
    );
  });

  it("accepts the same provider message id once, however many deliveries race", async () => {
    const m = message({ text: "menu please" });
    const results = await Promise.all(Array.from({ length: 5 }, () => ingestApi.ingest([m])));
    const statuses = results.map((r) => (r.ok ? r.results[0]!.status : r.error.code)).sort();
    expect(statuses).toEqual(["accepted", "duplicate", "duplicate", "duplicate", "duplicate"]);
    await vi.waitUntil(async () => (await sentTo(env.SANDBOX_URL, m.customerId)).length > 0, {
      timeout: 5000,
    });
    // Give a wrongly doubled turn the time to show itself.
    await new Promise((r) => setTimeout(r, 300));
    expect(await sentTo(env.SANDBOX_URL, m.customerId)).toHaveLength(1);
  });

  it("reports an unknown account and stores nothing for it", async () => {
    const before = await listDurableObjectIds(env.CONVERSATIONS);
    const m = message({ accountExternalId: "999999999" });
    expect(await ingestApi.ingest([m])).toMatchObject({ ok: true, results: [{ status: "unknown_account" }] });
    expect(await listDurableObjectIds(env.CONVERSATIONS)).toHaveLength(before.length);
  });

  it("rejects a malformed batch with a clear error and accepts nothing", async () => {
    const bad = { ...message(), channel: "fax" } as unknown as InboundMessage;
    const before = await listDurableObjectIds(env.CONVERSATIONS);
    const r = await ingestApi.ingest([message(), bad]);
    expect(r).toMatchObject({ ok: false, error: { code: "invalid_message" } });
    expect(r.ok ? "" : r.error.message).toMatch(/channel/);
    expect(await ingestApi.ingest([])).toMatchObject({ ok: false, error: { code: "invalid_message" } });
    // The valid message in the rejected batch was not accepted either.
    expect(await listDurableObjectIds(env.CONVERSATIONS)).toHaveLength(before.length);
  });

  it("keeps pending text encrypted in the conversation object until the turn runs", async () => {
    await withWaitSeconds(30, async () => {
      const m = message({ text: "are you open? canary-51c2" });
      await ingestApi.ingest([m]);
      const stored = await runInDurableObject(conversationStub(m.customerId), async (_obj, state) => {
        const rows = bufferedRows(state);
        return JSON.stringify(rows);
      });
      expect(stored).toContain(m.providerMessageId);
      expect(stored).not.toContain("canary-51c2");
      expect(stored).not.toContain("Asha");
      expect(await sentTo(env.SANDBOX_URL, m.customerId)).toHaveLength(0);
      expect(await runDurableObjectAlarm(conversationStub(m.customerId))).toBe(true);
      expect(await sentTo(env.SANDBOX_URL, m.customerId)).toHaveLength(1);
      const left = await runInDurableObject(conversationStub(m.customerId), (_o, state) =>
        state.storage.sql.exec(`SELECT COUNT(*) AS n FROM state WHERE ${BUFFERED}`).one(),
      );
      expect(left.n).toBe(0);
    });
  });

  it("buffers a burst inside the wait window into one turn with one reply", async () => {
    await withWaitSeconds(30, async () => {
      const customerId = uniqueCustomer();
      for (const text of ["hi", "I wanted to ask", "what's on the menu?"]) {
        await ingestApi.ingest([message({ customerId, text })]);
      }
      expect(await runDurableObjectAlarm(conversationStub(customerId))).toBe(true);
      const sent = await sentTo(env.SANDBOX_URL, customerId);
      expect(sent).toHaveLength(1);
      expect(sent[0]!.text).toBe(DEMO.replyConfig.rules[1].response.text);
      expect((await metadata(customerId)).filter((r) => r.direction === "inbound")).toHaveLength(3);
    });
  });
});

describe("sending", () => {
  it("retries a 5xx from Graph later and sends exactly once when it recovers", async () => {
    await withWaitSeconds(30, async () => {
      const m = message({ text: "opening hours?" });
      await ingestApi.ingest([m]);
      await injectGraphFault(env.SANDBOX_URL, { status: 500, code: 1, message: "An unknown error occurred" });
      const before = await graphAttempts(env.SANDBOX_URL);
      expect(await runDurableObjectAlarm(conversationStub(m.customerId))).toBe(true);
      expect(await sentTo(env.SANDBOX_URL, m.customerId)).toHaveLength(0);
      expect(await graphAttempts(env.SANDBOX_URL)).toBe(before + 1);
      // The retry is scheduled; run it now instead of waiting for the backoff.
      expect(await runDurableObjectAlarm(conversationStub(m.customerId))).toBe(true);
      expect(await sentTo(env.SANDBOX_URL, m.customerId)).toHaveLength(1);
      // No retry is left: the only alarm is the end of the idle gap, hours away.
      expect(await nextAlarmIn(m.customerId)).toBeGreaterThan(5 * 3600_000);
      expect(await sentTo(env.SANDBOX_URL, m.customerId)).toHaveLength(1);
    });
  });

  it("keeps a retried turn to its own messages: a message arriving meanwhile gets its own turn", async () => {
    await withWaitSeconds(30, async () => {
      const customerId = uniqueCustomer();
      await ingestApi.ingest([message({ customerId, text: "opening hours?" })]);
      await injectGraphFault(env.SANDBOX_URL, {
        status: 503,
        code: 2,
        message: "Service temporarily unavailable",
      });
      expect(await runDurableObjectAlarm(conversationStub(customerId))).toBe(true);
      const backoff = await nextAlarmIn(customerId);
      await ingestApi.ingest([message({ customerId, text: "and the menu?" })]);
      // The new message does not pull the retry forward.
      expect(await nextAlarmIn(customerId)).toBeGreaterThan(backoff - 1000);
      expect(await runDurableObjectAlarm(conversationStub(customerId))).toBe(true);
      expect(await runDurableObjectAlarm(conversationStub(customerId))).toBe(true);
      const sent = await sentTo(env.SANDBOX_URL, customerId);
      expect(sent.map((s) => s.text)).toEqual([
        DEMO.replyConfig.rules[0].response.text,
        DEMO.replyConfig.rules[1].response.text,
      ]);
    });
  });

  it("does not retry a permanent Graph error", async () => {
    await withWaitSeconds(30, async () => {
      const m = message({ text: "hours?" });
      await ingestApi.ingest([m]);
      await injectGraphFault(env.SANDBOX_URL, {
        status: 400,
        code: 131026,
        message: "Message undeliverable",
      });
      const before = await graphAttempts(env.SANDBOX_URL);
      expect(await runDurableObjectAlarm(conversationStub(m.customerId))).toBe(true);
      expect(await nextAlarmIn(m.customerId)).toBeGreaterThan(5 * 3600_000);
      expect(await graphAttempts(env.SANDBOX_URL)).toBe(before + 1);
      expect(await sentTo(env.SANDBOX_URL, m.customerId)).toHaveLength(0);
    });
  });
});

describe("HTTP", () => {
  it("answers every request with 404: the pipeline is reached over RPC only", async () => {
    const res = await exports.default.fetch("https://pipeline.test/anything", {
      method: "POST",
      body: "{}",
    });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ ok: false, error: { code: "not_found" } });
  });
});

describe("tenant key rotation", () => {
  it("seals new text with the new key version and still opens text sealed before the rotation", async () => {
    await withWaitSeconds(30, async () => {
      const customerId = uniqueCustomer();
      await ingestApi.ingest([message({ customerId, text: "first, sealed with v1: hours?" })]);
      const t = await env.DB.prepare("SELECT MAX(version) AS v FROM tenant_keys WHERE tenant_id = ?")
        .bind(DEMO.tenantId)
        .first<{ v: number }>();
      const rotated = await operatorApi.rotateTenantKey({ email: "ops@example.test" }, DEMO.tenantId);
      expect(rotated).toEqual({ ok: true, version: t!.v + 1 });
      await ingestApi.ingest([message({ customerId, text: "second, sealed with the new key" })]);
      const versions = await runInDurableObject(conversationStub(customerId), (_o, state) =>
        bufferedRows(state).map((r) => r.sealed.split(".")[0]),
      );
      expect(versions).toEqual([`v${t!.v}`, `v${t!.v + 1}`]);
      expect(await runDurableObjectAlarm(conversationStub(customerId))).toBe(true);
      expect((await sentTo(env.SANDBOX_URL, customerId))[0]!.text).toBe(
        DEMO.replyConfig.rules[0].response.text,
      );
    });
    expect(await operatorApi.rotateTenantKey({ email: "ops@example.test" }, "t_nobody")).toMatchObject({
      ok: false,
      error: { code: "not_found" },
    });
  });
});
