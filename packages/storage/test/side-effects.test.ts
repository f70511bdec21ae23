import { SIDE_EFFECT_MAX_ATTEMPTS, newId, sideEffectBackoffMs } from "@concierge/core";
import { describe, expect, it } from "vitest";
import {
  claimSideEffect,
  completeSideEffect,
  countSideEffects,
  failSideEffect,
  getPendingSideEffect,
  listDueSideEffects,
  listTenantSideEffects,
  recordSideEffectStatement,
} from "../src/side-effects.ts";
import { db, rows } from "./fixtures.ts";
import { scansOf } from "./plans.ts";

const target = () => ({ phoneNumberId: newId("pn") });

describe("side effects", () => {
  it("records an effect once, reopens a finished one, and keeps a pending one's attempts", async () => {
    const tenantId = newId("t");
    const t = target();
    await recordSideEffectStatement(db(), { tenantId, kind: "whatsapp_release", target: t, now: 1000 }).run();
    const first = await getPendingSideEffect(db(), "whatsapp_release", t);
    expect(first).toMatchObject({ tenantId, kind: "whatsapp_release", target: t, attempts: 0, nextAt: 1000 });
    await failSideEffect(db(), first!, "http_500", 2000);
    // Recorded again while pending: the same row, its attempts kept.
    await recordSideEffectStatement(db(), { tenantId, kind: "whatsapp_release", target: t, now: 3000 }).run();
    expect(await rows("SELECT attempts, status FROM side_effects WHERE tenant_id = ?", tenantId)).toEqual([
      { attempts: 1, status: "pending" },
    ]);
    await completeSideEffect(db(), first!.id, 4000);
    expect(await getPendingSideEffect(db(), "whatsapp_release", t)).toBeNull();
    // Done, then needed again (connected again and disconnected again): reopened, from scratch.
    await recordSideEffectStatement(db(), { tenantId, kind: "whatsapp_release", target: t, now: 5000 }).run();
    expect(await getPendingSideEffect(db(), "whatsapp_release", t)).toMatchObject({
      id: first!.id,
      attempts: 0,
      nextAt: 5000,
    });
  });

  it("lists what is due, lets one run claim it, and backs off after a failure", async () => {
    const tenantId = newId("t");
    const now = 10_000_000_000 + Math.floor(Math.random() * 1e9);
    const t = target();
    await recordSideEffectStatement(db(), { tenantId, kind: "discord_leave", target: t, now }).run();
    const due = (await listDueSideEffects(db(), now, 1000)).find((e) => e.tenantId === tenantId);
    expect(due).toBeDefined();
    expect(await claimSideEffect(db(), due!, now + 60_000)).toBe(true);
    // A second run that read the same row loses the claim.
    expect(await claimSideEffect(db(), due!, now + 60_000)).toBe(false);
    expect(await failSideEffect(db(), due!, "timeout", now)).toBe("pending");
    const [row] = await rows<{ next_at: number; last_error: string }>(
      "SELECT next_at, last_error FROM side_effects WHERE tenant_id = ?",
      tenantId,
    );
    expect(row).toEqual({ next_at: now + sideEffectBackoffMs(1), last_error: "timeout" });
    expect((await listDueSideEffects(db(), now + 1000, 1000)).some((e) => e.tenantId === tenantId)).toBe(
      false,
    );
  });

  it("gives up after the last attempt or a permanent failure, and the operator counts it", async () => {
    const tenantId = newId("t");
    const before = await countSideEffects(db());
    await recordSideEffectStatement(db(), {
      tenantId,
      kind: "email_routes_remove",
      target: target(),
      now: 1,
    }).run();
    await recordSideEffectStatement(db(), {
      tenantId,
      kind: "instagram_unsubscribe",
      target: target(),
      now: 2,
    }).run();
    const [a, b] = await listTenantSideEffects(db(), tenantId);
    expect([a?.kind, b?.kind]).toEqual(["instagram_unsubscribe", "email_routes_remove"]);
    const [ig, mail] = await rows<{ id: string; kind: string }>(
      "SELECT id, kind FROM side_effects WHERE tenant_id = ? ORDER BY created_at DESC",
      tenantId,
    );
    expect(await failSideEffect(db(), { id: ig!.id, attempts: 0 }, "http_400", 3, true)).toBe("failed");
    expect(
      await failSideEffect(db(), { id: mail!.id, attempts: SIDE_EFFECT_MAX_ATTEMPTS - 1 }, "http_500", 3),
    ).toBe("failed");
    const after = await countSideEffects(db());
    expect(after.failed - before.failed).toBe(2);
    expect(after.pending - before.pending).toBe(0);
    expect((await listTenantSideEffects(db(), tenantId)).map((e) => [e.status, e.nextAt])).toEqual([
      ["failed", null],
      ["failed", null],
    ]);
  });

  it("reads through indexes only", async () => {
    expect(await scansOf((d) => listDueSideEffects(d, 1, 10))).toEqual([]);
    expect(await scansOf((d) => listTenantSideEffects(d, "t"))).toEqual([]);
    // The counts read the two partial indexes, which hold only the pending and the failed rows:
    // bounded by the backlog, never by the done rows that make up the table.
    const { results } = await db()
      .prepare("EXPLAIN QUERY PLAN SELECT COUNT(*) AS n FROM side_effects WHERE status = 'pending'")
      .all<{ detail: string }>();
    expect(results.map((r) => r.detail).join("\n")).toMatch(/USING COVERING INDEX side_effects_due/);
    expect(await scansOf((d) => getPendingSideEffect(d, "discord_leave", { guildId: "1" }))).toEqual([]);
  });
});
