import { AppError, newId } from "@concierge/core";
import { describe, expect, it } from "vitest";
import {
  createChannelAccount,
  findIngestTarget,
  getChannelAccount,
  getReplyConfig,
  saveReplyConfig,
} from "../src/accounts.ts";
import { listReplyConfigSummaries, listRuleLabels } from "../src/reply-config-summaries.ts";
import { saveConversationSettings } from "../src/settings.ts";
import { db, newAccount, newTenant, scalar } from "./fixtures.ts";

const canned = (text: string) => ({ kind: "canned", text }) as const;
const config = (extra: Record<string, unknown> = {}) => ({
  rules: [{ id: "hours", matcher: { kind: "static_text", keywords: ["hours"] }, response: canned("9 to 5") }],
  default_rule: { response: canned("Thanks!") },
  ...extra,
});

describe("channel accounts", () => {
  it("an external id belongs to one tenant, ever: a second connect is account_taken", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const externalId = newId("pnid");
    const acc = await createChannelAccount(db(), { tenantId: a.id, channel: "whatsapp", externalId });
    expect(await getChannelAccount(db(), acc.id)).toEqual({
      id: acc.id,
      tenantId: a.id,
      channel: "whatsapp",
      externalId,
      displayName: null,
      status: "active",
    });
    const taken = createChannelAccount(db(), { tenantId: b.id, channel: "whatsapp", externalId });
    await expect(taken).rejects.toBeInstanceOf(AppError);
    await expect(taken).rejects.toMatchObject({ status: 409, code: "account_taken" });
    // Same external id on another channel is another account.
    await createChannelAccount(db(), { tenantId: b.id, channel: "instagram", externalId });
    expect(await scalar("SELECT COUNT(*) FROM channel_accounts WHERE external_id = ?", externalId)).toBe(2);
  });

  it("findIngestTarget resolves the owner with the wait: the account's config, else the tenant's default", async () => {
    const t = await newTenant();
    const acc = await newAccount(t.id, "instagram");
    const target = () => findIngestTarget(db(), "instagram", acc.externalId);
    expect(await target()).toMatchObject({ id: acc.id, tenantId: t.id, status: "active", waitSeconds: 5 });
    await saveConversationSettings(db(), t.id, {
      idleGapMinutes: 360,
      handoffCooldownMinutes: 60,
      historyTurns: 20,
      defaultWaitSeconds: 12,
      lowBalanceThreshold: 20,
    });
    expect((await target())?.waitSeconds).toBe(12);
    await saveReplyConfig(db(), t.id, acc.id, config({ wait_seconds: 0 }));
    expect((await target())?.waitSeconds).toBe(0);
    expect(await findIngestTarget(db(), "whatsapp", acc.externalId)).toBeNull();
  });
});

describe("reply configs", () => {
  it("stores validated config with defaults filled and reads it back with its embeddings", async () => {
    const t = await newTenant();
    const acc = await newAccount(t.id);
    const embeddings = { model: "m1", rules: { hours: { description: "d", vector: [0.5, 0.25] } } };
    const saved = await saveReplyConfig(db(), t.id, acc.id, config(), embeddings);
    expect(saved).toMatchObject({ enabled: true, wait_seconds: 5 });
    expect(await getReplyConfig(db(), acc.id)).toEqual({ config: saved, embeddings, version: 1 });
    // Saving again replaces (one row per account).
    await saveReplyConfig(db(), t.id, acc.id, config({ enabled: false, wait_seconds: 9 }));
    const again = await getReplyConfig(db(), acc.id);
    expect(again?.config).toMatchObject({ enabled: false, wait_seconds: 9 });
    expect(again?.embeddings).toEqual({ model: null, rules: {} });
    expect(await scalar("SELECT wait_seconds FROM reply_configs WHERE account_id = ?", acc.id)).toBe(9);
  });

  it("checks the editor's version inside the save: of two saves from one page exactly one lands (issue 19 item 8)", async () => {
    const t = await newTenant();
    const acc = await newAccount(t.id);
    // Nothing saved yet: a first save claiming another version (a junk -1, a made-up 5) is stale.
    for (const claimed of [-1, 5])
      await expect(saveReplyConfig(db(), t.id, acc.id, config(), undefined, claimed)).rejects.toMatchObject({
        code: "stale",
      });
    expect(await getReplyConfig(db(), acc.id)).toBeNull();
    // Version 0. Two first saves at once: one inserts, the other is stale.
    const first = await Promise.allSettled([
      saveReplyConfig(db(), t.id, acc.id, config({ wait_seconds: 1 }), undefined, 0),
      saveReplyConfig(db(), t.id, acc.id, config({ wait_seconds: 2 }), undefined, 0),
    ]);
    expect(first.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(first.find((r) => r.status === "rejected")).toMatchObject({
      reason: { status: 409, code: "stale" },
    });
    const v1 = await getReplyConfig(db(), acc.id);
    expect(v1?.version).toBe(1);
    // From version 1: two saves at once, one lands (version 2), the other changes nothing.
    const second = await Promise.allSettled(
      [3, 4].map((w) => saveReplyConfig(db(), t.id, acc.id, config({ wait_seconds: w }), undefined, 1)),
    );
    const landed = second.findIndex((r) => r.status === "fulfilled");
    expect(second.filter((r) => r.status === "rejected")).toHaveLength(1);
    const v2 = await getReplyConfig(db(), acc.id);
    expect(v2).toMatchObject({ version: 2, config: { wait_seconds: [3, 4][landed] } });
    // A stale version after that, or -1 (a form without one), is refused and writes nothing.
    for (const stale of [1, 0, -1, 3])
      await expect(
        saveReplyConfig(db(), t.id, acc.id, config({ wait_seconds: 9 }), undefined, stale),
      ).rejects.toMatchObject({ code: "stale" });
    expect(await getReplyConfig(db(), acc.id)).toEqual(v2);
    // Another tenant's account is not found, whatever the version.
    const other = await newTenant();
    await expect(saveReplyConfig(db(), other.id, acc.id, config(), undefined, 2)).rejects.toMatchObject({
      code: "not_found",
    });
    // No version (callers without a form): saved, and still counted.
    await saveReplyConfig(db(), t.id, acc.id, config({ wait_seconds: 7 }));
    expect((await getReplyConfig(db(), acc.id))?.version).toBe(3);
  });

  it("invalid input changes nothing and names the field", async () => {
    const t = await newTenant();
    const acc = await newAccount(t.id);
    await saveReplyConfig(db(), t.id, acc.id, config());
    await expect(saveReplyConfig(db(), t.id, acc.id, config({ wait_seconds: 31 }))).rejects.toMatchObject({
      status: 400,
      code: "invalid_reply_config",
      message: expect.stringContaining("wait_seconds"),
    });
    expect((await getReplyConfig(db(), acc.id))?.config.wait_seconds).toBe(5);
  });

  it("another tenant's account is not_found and gets no config", async () => {
    const t = await newTenant();
    const other = await newTenant();
    const acc = await newAccount(t.id);
    await expect(saveReplyConfig(db(), other.id, acc.id, config())).rejects.toMatchObject({
      status: 404,
      code: "not_found",
    });
    expect(await getReplyConfig(db(), acc.id)).toBeNull();
  });

  it("summaries list the customer accounts with rule count and switch, unconfigured ones as enabled with 0 rules", async () => {
    const t = await newTenant();
    const wa = await newAccount(t.id, "whatsapp");
    const ig = await newAccount(t.id, "instagram");
    await newAccount(t.id, "discord");
    await saveReplyConfig(db(), t.id, ig.id, config({ enabled: false }));
    const summaries = await listReplyConfigSummaries(db(), t.id);
    expect(summaries.map((s) => [s.id, s.configured, s.enabled, s.ruleCount])).toEqual([
      [ig.id, true, false, 1],
      [wa.id, false, true, 0],
    ]);
    expect(await listReplyConfigSummaries(db(), (await newTenant()).id)).toEqual([]);
  });
});

describe("rule labels", () => {
  it("names each rule id by the first label given to it across the tenant's accounts, never another tenant's", async () => {
    const t = (await newTenant()).id;
    const [a, b] = [await newAccount(t, "whatsapp"), await newAccount(t, "instagram")];
    // The second account is the later one even when both were made in the same millisecond (the
    // order is by creation, then by id, which is random).
    await db()
      .prepare("UPDATE channel_accounts SET created_at = created_at + 1 WHERE id = ?")
      .bind(b.id)
      .run();
    const canned = { kind: "canned" as const, text: "x" };
    const rule = (id: string, label: string, keyword: string) => ({
      id,
      label,
      matcher: { kind: "static_text" as const, keywords: [keyword] },
      response: canned,
    });
    await saveReplyConfig(db(), t, a.id, {
      rules: [rule("hours", "Opening hours", "hours"), rule("menu", "", "menu")],
      default_rule: { response: canned },
    });
    await saveReplyConfig(db(), t, b.id, {
      rules: [rule("hours", "Hours (Instagram)", "open"), rule("menu", "Menu", "menu")],
      default_rule: { response: canned },
    });
    const other = await newTenant();
    await saveReplyConfig(db(), other.id, (await newAccount(other.id)).id, {
      rules: [rule("secret", "Another tenant's rule", "x")],
      default_rule: { response: canned },
    });
    expect(Object.fromEntries(await listRuleLabels(db(), t))).toEqual({
      hours: "Opening hours",
      menu: "Menu",
    });
  });
});
