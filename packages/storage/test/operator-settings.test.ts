import { DEFAULT_DEMO_SETTINGS, newId } from "@concierge/core";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createArchetypeStatement, recordArchetypeVerdict } from "../src/archetypes.ts";
import { getDemoSettings, saveDemoSettingsStatement } from "../src/demo-settings.ts";
import { type MessageMeta, recordMessages } from "../src/messages.ts";
import { savePersona } from "../src/personas.ts";
import { listStalePendingSafety } from "../src/safety-sweep.ts";
import { recordPersonaVerdict } from "../src/personas.ts";
import {
  inboundTrafficLastHour,
  listCronRuns,
  recordCronRun,
  safetyBacklog,
} from "../src/platform-health.ts";
import { db, newAccount, newTenant } from "./fixtures.ts";

const NOW = 1_900_000_000_000;

describe("demo settings", () => {
  it("starts with the defaults, saves by whom, and falls back to the defaults without a row", async () => {
    expect(await getDemoSettings(db())).toEqual({ ...DEFAULT_DEMO_SETTINGS, updatedAt: 0, updatedBy: null });
    const next = {
      business: "salon" as const,
      perVisitorPerHour: 4,
      totalPerDay: 50,
      maxChars: 120,
      maxTurns: 2,
    };
    expect((await saveDemoSettingsStatement(db(), next, "ops@example.test", NOW).run()).meta.changes).toBe(1);
    expect(await getDemoSettings(db())).toEqual({ ...next, updatedAt: NOW, updatedBy: "ops@example.test" });
    // The same settings again change nothing, not even who saved them last (no audit row follows).
    const same = await saveDemoSettingsStatement(db(), next, "other@example.test", NOW + 1).run();
    expect(same.meta.changes).toBe(0);
    expect(await getDemoSettings(db())).toEqual({ ...next, updatedAt: NOW, updatedBy: "ops@example.test" });
    for (const changed of [
      { business: "cafe" as const },
      { perVisitorPerHour: 5 },
      { totalPerDay: 51 },
      { maxChars: 121 },
      { maxTurns: 3 },
    ]) {
      const r = await saveDemoSettingsStatement(db(), { ...next, ...changed }, "ops@example.test", NOW).run();
      expect(r.meta.changes, JSON.stringify(changed)).toBe(1);
      await saveDemoSettingsStatement(db(), next, "ops@example.test", NOW).run();
    }
    // The table refuses limits out of range.
    await expect(
      saveDemoSettingsStatement(db(), { ...next, maxTurns: 99 }, "ops@example.test", NOW).run(),
    ).rejects.toThrow(/CHECK/);
    await env.DB.prepare("DELETE FROM demo_settings").run();
    expect(await getDemoSettings(db())).toEqual({ ...DEFAULT_DEMO_SETTINGS, updatedAt: 0, updatedBy: null });
  });
});

describe("platform health reads", () => {
  it("records each cron's last run and whether it completed; one never run is null", async () => {
    expect(await listCronRuns(db(), ["a", "b"])).toEqual([
      { name: "a", lastRunAt: null, ok: null },
      { name: "b", lastRunAt: null, ok: null },
    ]);
    await recordCronRun(db(), "a", NOW, true);
    await recordCronRun(db(), "a", NOW + 1, false);
    await recordCronRun(db(), "b", NOW + 2, true);
    expect(await listCronRuns(db(), ["b", "a", "c"])).toEqual([
      { name: "b", lastRunAt: NOW + 2, ok: true },
      { name: "a", lastRunAt: NOW + 1, ok: false },
      { name: "c", lastRunAt: null, ok: null },
    ]);
  });

  it("counts pending and needs-review verdicts over personas and archetypes", async () => {
    const base = await safetyBacklog(db());
    const t1 = (await newTenant()).id;
    const t2 = (await newTenant()).id;
    await savePersona(db(), t1, { kind: "raw", prompt: "x" }, "h");
    await savePersona(db(), t2, { kind: "raw", prompt: "y" }, "h");
    await recordPersonaVerdict(db(), t2, "h", "needs_review", null);
    await createArchetypeStatement(
      db(),
      { id: "backlog-a", name: "A", description: "A", prompt: "A", sortOrder: 1, hash: "ha" },
      NOW,
    ).run();
    await createArchetypeStatement(
      db(),
      { id: "backlog-b", name: "B", description: "B", prompt: "B", sortOrder: 1, hash: "hb" },
      NOW,
    ).run();
    await recordArchetypeVerdict(db(), "backlog-b", "hb", "needs_review");
    expect(await safetyBacklog(db())).toEqual({
      pending: base.pending + 2,
      needsReview: base.needsReview + 2,
    });
  });

  it("counts inbound messages per channel in the hour before now, nothing outbound or older", async () => {
    const t = (await newTenant()).id;
    const wa = await newAccount(t, "whatsapp");
    const ig = await newAccount(t, "instagram");
    const m = (
      accountId: string,
      channel: MessageMeta["channel"],
      at: number,
      direction = "inbound" as const,
    ) => ({
      tenantId: t,
      accountId,
      channel,
      direction,
      providerMessageId: newId("pm"),
      conversationId: null,
      senderId: "c",
      recipientId: "b",
      action: null,
      ruleId: null,
      at,
    });
    await recordMessages(db(), [
      m(wa.id, "whatsapp", NOW - 10),
      m(wa.id, "whatsapp", NOW - 3_600_000),
      m(wa.id, "whatsapp", NOW - 3_600_001),
      m(ig.id, "instagram", NOW - 5),
      { ...m(wa.id, "whatsapp", NOW - 5), direction: "outbound" as const },
      m(wa.id, "whatsapp", NOW),
    ]);
    expect(await inboundTrafficLastHour(db(), NOW)).toEqual([
      { channel: "instagram", count: 1 },
      { channel: "whatsapp", count: 2 },
    ]);
  });
});

describe("the safety sweep", () => {
  it("lists personas and archetypes pending since before the cutoff, oldest first, as their jobs", async () => {
    const cutoff = Date.now() + 60_000;
    const t = (await newTenant()).id;
    // Pending, saved before the cutoff (savePersona stamps now).
    await savePersona(db(), t, { kind: "raw", prompt: "sweep" }, "hs");
    const approved = (await newTenant()).id;
    await savePersona(db(), approved, { kind: "raw", prompt: "ok" }, "ha");
    await recordPersonaVerdict(db(), approved, "ha", "approved", null);
    await createArchetypeStatement(
      db(),
      { id: "sweep-old", name: "S", description: "S", prompt: "S", sortOrder: 1, hash: "hso" },
      cutoff - 10,
    ).run();
    await createArchetypeStatement(
      db(),
      { id: "sweep-new", name: "S", description: "S", prompt: "S", sortOrder: 1, hash: "hsn" },
      cutoff + 10,
    ).run();
    const jobs = await listStalePendingSafety(db(), cutoff);
    expect(jobs).toContainEqual({ kind: "persona", tenantId: t, hash: "hs" });
    expect(jobs).toContainEqual({ kind: "archetype", archetypeId: "sweep-old", hash: "hso" });
    expect(jobs.map((j) => (j.kind === "persona" ? j.tenantId : j.archetypeId))).not.toContain(approved);
    expect(jobs.map((j) => (j.kind === "persona" ? j.tenantId : j.archetypeId))).not.toContain("sweep-new");
    // Bounded: at most `limit` of each.
    const one = await listStalePendingSafety(db(), cutoff, 1);
    expect(one.filter((j) => j.kind === "persona")).toHaveLength(1);
    expect(one.filter((j) => j.kind === "archetype")).toHaveLength(1);
  });
});
