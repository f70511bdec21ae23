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

  it("of two saves from pages shown at one version, one lands and the other is told it is stale (issue 19 item 8)", async () => {
    const s = await signIn();
    const version = versionIn(await (await get(s, "/admin/conversations")).text(), "/admin/conversations");
    const fields = (historyTurns: number) => ({
      idleGapMinutes: 120,
      handoffCooldownMinutes: 30,
      historyTurns,
      defaultWaitSeconds: 3,
      version,
    });
    const [a, b] = await Promise.all([
      post(s, "/admin/conversations", fields(11)),
      post(s, "/admin/conversations", fields(12)),
    ]);
    expect([a.status, b.status].toSorted()).toEqual([303, 409]);
    const refused = a.status === 409 ? a : b;
    const body = await refused.text();
    expect(body).toContain(
      "These settings were changed somewhere else after you opened this page, so nothing was saved.",
    );
    // The page shows what is saved now, at the new version: saved again from there, it lands.
    const winner = a.status === 303 ? 11 : 12;
    expect(body).toContain(`name="historyTurns" type="number" value="${winner}"`);
    expect(await getTenantSettings(env.DB, s.tenantId)).toMatchObject({ historyTurns: winner });
    const fresh = versionIn(body, "/admin/conversations");
    expect(fresh).not.toBe(version);
    expect((await post(s, "/admin/conversations", { ...fields(13), version: fresh })).status).toBe(303);
    expect(await getTenantSettings(env.DB, s.tenantId)).toMatchObject({ historyTurns: 13 });
  });

  it("the low-balance threshold, saved from a page shown before a conversation-settings save, undoes nothing (issue 19 item 8)", async () => {
    const s = await signIn();
    const billing = versionIn(await (await get(s, "/admin/billing")).text(), "/admin/billing/threshold");
    const conv = versionIn(await (await get(s, "/admin/conversations")).text(), "/admin/conversations");
    expect(billing).toBe(conv);
    const saved = await post(s, "/admin/conversations", {
      idleGapMinutes: 500,
      handoffCooldownMinutes: 30,
      historyTurns: 9,
      defaultWaitSeconds: 2,
      version: conv,
    });
    expect(saved.status).toBe(303);
    const stale = await post(s, "/admin/billing/threshold", { lowBalanceThreshold: 77, version: billing });
    expect(stale.status).toBe(409);
    expect(await stale.text()).toContain("These settings were changed somewhere else");
    expect(await getTenantSettings(env.DB, s.tenantId)).toMatchObject({
      idleGapMinutes: 500,
      historyTurns: 9,
      lowBalanceThreshold: 20,
    });
    // A version that is not a number is never taken for the current one.
    const junk = await post(s, "/admin/billing/threshold", { lowBalanceThreshold: 77, version: "latest" });
    expect(junk.status).toBe(409);
    expect(await getTenantSettings(env.DB, s.tenantId)).toMatchObject({ lowBalanceThreshold: 20 });
  });
});

/** The hidden version of the form posting to `action` on a page. */
function versionIn(page: string, action: string): string {
  const at = page.indexOf(`action="${action}"`);
  const m = /name="version" value="(-?\d+)"/.exec(page.slice(at));
  if (at < 0 || !m) throw new Error(`no version field in the form to ${action}`);
  return m[1]!;
}
