import { env } from "cloudflare:workers";
import { getTenantSettings } from "@concierge/storage";
import { describe, expect, it } from "vitest";
import { get, post, signIn } from "./helpers.ts";

describe("conversation settings", () => {
  it("shows the tenant's settings and saves valid ones", async () => {
    const s = await signIn();
    const page = await (await get(s, "/admin/conversations")).text();
    expect(page).toContain('name="idleGapMinutes" type="number" value="360"');
    const res = await post(s, "/admin/conversations", {
      idleGapMinutes: 120,
      handoffCooldownMinutes: 30,
      historyTurns: 12,
      defaultWaitSeconds: 3,
    });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/admin/conversations?saved=1");
    expect(await getTenantSettings(env.DB, s.tenantId)).toMatchObject({
      idleGapMinutes: 120,
      handoffCooldownMinutes: 30,
      historyTurns: 12,
      defaultWaitSeconds: 3,
    });
  });

  it("shows the form again with field errors and saves nothing when the idle gap is not above the cooldown", async () => {
    const s = await signIn();
    const res = await post(s, "/admin/conversations", {
      idleGapMinutes: 60,
      handoffCooldownMinutes: 90,
      historyTurns: 12,
      defaultWaitSeconds: 3,
    });
    expect(res.status).toBe(422);
    const body = await res.text();
    expect(body).toContain("The idle gap must be longer than the handoff cooldown.");
    expect(body).toContain('aria-invalid="true"');
    expect(body).toContain('value="90"');
    expect(await getTenantSettings(env.DB, s.tenantId)).toMatchObject({ idleGapMinutes: 360 });
  });

  it("rejects out-of-range and non-numeric values with a message per field", async () => {
    const s = await signIn();
    const res = await post(s, "/admin/conversations", {
      idleGapMinutes: "soon",
      handoffCooldownMinutes: 2,
      historyTurns: 99,
      defaultWaitSeconds: 1.5,
    });
    expect(res.status).toBe(422);
    const body = await res.text();
    expect(body).toContain("Enter a number.");
    expect(body).toContain("The cooldown is 5 to 1440 minutes.");
    expect(body).toContain("History is 1 to 50 turns.");
    expect(body).toContain("Enter a whole number.");
    expect(await getTenantSettings(env.DB, s.tenantId)).toMatchObject({ handoffCooldownMinutes: 60 });
  });
});
