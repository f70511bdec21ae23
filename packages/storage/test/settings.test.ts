import { describe, expect, it } from "vitest";
import { saveBusinessProfile } from "../src/onboarding.ts";
import { getTenantPreferences, saveTenantPreferences } from "../src/preferences.ts";
import { saveRetentionDays } from "../src/retention.ts";
import {
  getTenantSettings,
  saveBusinessHours,
  saveConversationSettings,
  setNotifyDiscordChannel,
  setNotifyEmail,
} from "../src/settings.ts";
import { db, newTenant } from "./fixtures.ts";

const settings = {
  idleGapMinutes: 120,
  handoffCooldownMinutes: 30,
  historyTurns: 10,
  defaultWaitSeconds: 3,
  lowBalanceThreshold: 50,
};

describe("tenant settings", () => {
  it("a new tenant has the product defaults", async () => {
    const t = await newTenant();
    expect(await getTenantSettings(db(), t.id)).toEqual({
      idleGapMinutes: 360,
      handoffCooldownMinutes: 60,
      historyTurns: 20,
      defaultWaitSeconds: 5,
      lowBalanceThreshold: 20,
      notifyDiscordChannelId: null,
      notifyEmail: null,
      notifyCadence: "instant",
      locale: "en-IN",
      status: "active",
      deletingAt: null,
      retentionDays: 90,
      settingsVersion: 0,
      timeZone: "Asia/Kolkata",
      businessHours: null,
    });
  });

  it("saves business hours, versioned, and reads a stored schedule that no longer parses as none", async () => {
    const t = await newTenant();
    const day = [{ open: "09:00", close: "17:00" }];
    const hours = {
      enabled: true,
      week: { mon: day, tue: day, wed: day, thu: day, fri: day, sat: [], sun: [] },
      holidays: ["2026-12-25"],
    };
    expect(await saveBusinessHours(db(), t.id, hours, 0)).toBe("saved");
    expect(await getTenantSettings(db(), t.id)).toMatchObject({ businessHours: hours, settingsVersion: 1 });
    expect(await saveBusinessHours(db(), t.id, null, 0)).toBe("stale");
    expect(await saveBusinessHours(db(), t.id, null, 1)).toBe("saved");
    expect((await getTenantSettings(db(), t.id))?.businessHours).toBeNull();
    await db().prepare("UPDATE tenants SET business_hours = '{\"enabled\":1' WHERE id = ?").bind(t.id).run();
    expect((await getTenantSettings(db(), t.id))?.businessHours).toBeNull();
  });

  it("saves conversation settings and notification targets for that tenant only", async () => {
    const t = await newTenant();
    const other = await newTenant();
    expect(await saveConversationSettings(db(), t.id, settings)).toBe("saved");
    await setNotifyDiscordChannel(db(), t.id, "123456789");
    await setNotifyEmail(db(), t.id, "owner@example.test");
    expect(await getTenantSettings(db(), t.id)).toMatchObject({
      ...settings,
      notifyDiscordChannelId: "123456789",
      notifyEmail: "owner@example.test",
    });
    expect(await getTenantSettings(db(), other.id)).toMatchObject({ idleGapMinutes: 360, notifyEmail: null });
    await setNotifyEmail(db(), t.id, null);
    expect((await getTenantSettings(db(), t.id))?.notifyEmail).toBeNull();
  });

  it("every settings form's save checks and bumps one version inside its statement (issue 19 item 8)", async () => {
    const t = await newTenant();
    const v0 = (await getTenantSettings(db(), t.id))!.settingsVersion;
    // Two saves from pages shown at the same version (the conversation form and the threshold,
    // which saves the same row): one lands, the other changes nothing and is told.
    const both = await Promise.all([
      saveConversationSettings(db(), t.id, { ...settings, idleGapMinutes: 500 }, v0),
      saveConversationSettings(db(), t.id, { ...settings, lowBalanceThreshold: 7 }, v0),
    ]);
    expect(both.toSorted()).toEqual(["saved", "stale"]);
    const after = (await getTenantSettings(db(), t.id))!;
    expect(after.settingsVersion).toBe(v0 + 1);
    expect([after.idleGapMinutes, after.lowBalanceThreshold]).toEqual(
      both[0] === "saved" ? [500, 50] : [120, 7],
    );
    // The other forms share the version: a page shown before that save is stale for all of them.
    expect(
      await saveTenantPreferences(db(), t.id, { locale: "en-US", currency: "USD", timeZone: "UTC" }, v0),
    ).toBe("stale");
    expect(await saveRetentionDays(db(), t.id, 30, v0)).toBe("stale");
    expect(await saveBusinessProfile(db(), t.id, { name: "X", businessKind: "cafe" }, v0)).toBe("stale");
    expect(await saveRetentionDays(db(), t.id, 30, -1)).toBe("stale");
    expect(await getTenantSettings(db(), t.id)).toEqual(after);
    // At the current version each saves, and bumps it.
    expect(await saveRetentionDays(db(), t.id, 30, v0 + 1)).toBe("saved");
    expect(await saveBusinessProfile(db(), t.id, { name: "X", businessKind: "cafe" }, v0 + 2)).toBe("saved");
    expect(
      await saveTenantPreferences(db(), t.id, { locale: "en-US", currency: "USD", timeZone: "UTC" }, v0 + 3),
    ).toBe("saved");
    expect(await getTenantSettings(db(), t.id)).toMatchObject({ settingsVersion: v0 + 4, retentionDays: 30 });
    expect(await saveRetentionDays(db(), "t_unknown", 30, 0)).toBe("not_found");
  });

  it("an unknown tenant saves nothing and reads null", async () => {
    expect(await saveConversationSettings(db(), "t_unknown", settings)).toBe("not_found");
    expect(await getTenantSettings(db(), "t_unknown")).toBeNull();
  });

  it("the schema's bounds are enforced by the database too", async () => {
    const t = await newTenant();
    await expect(
      saveConversationSettings(db(), t.id, { ...settings, defaultWaitSeconds: 31 }),
    ).rejects.toThrow(/CHECK constraint failed/);
    expect((await getTenantSettings(db(), t.id))?.defaultWaitSeconds).toBe(5);
  });
});

describe("tenant preferences", () => {
  const digestNextAt = async (tenantId: string) =>
    (await db()
      .prepare("SELECT digest_next_at AS at FROM tenants WHERE id = ?")
      .bind(tenantId)
      .first<{ at: number | null }>())!.at;

  it("saves locale, currency and time zone; invalid input is refused and changes nothing", async () => {
    const t = await newTenant();
    expect(await getTenantPreferences(db(), t.id)).toEqual({
      locale: "en-IN",
      currency: "INR",
      timeZone: "Asia/Kolkata",
    });
    const us = { locale: "en-US", currency: "USD", timeZone: "America/Chicago" } as const;
    expect(await saveTenantPreferences(db(), t.id, us)).toBe("saved");
    expect(await getTenantPreferences(db(), t.id)).toEqual(us);
    await expect(
      saveTenantPreferences(db(), t.id, { ...us, locale: "fr-FR" } as never),
    ).rejects.toMatchObject({ status: 400, code: "invalid_preferences" });
    for (const timeZone of ["Mars/Olympus", "+05:30", "IST", ""]) {
      await expect(saveTenantPreferences(db(), t.id, { ...us, timeZone })).rejects.toMatchObject({
        status: 400,
        code: "invalid_preferences",
      });
    }
    expect(await getTenantPreferences(db(), t.id)).toEqual(us);
    expect(
      await saveTenantPreferences(db(), "t_unknown", { locale: "en-IN", currency: "INR", timeZone: "UTC" }),
    ).toBe("not_found");
  });

  it("forgets the digest's next boundary only when the time zone changes", async () => {
    const t = await newTenant();
    const prefs = { locale: "en-IN", currency: "INR", timeZone: "Asia/Kolkata" } as const;
    await db().prepare("UPDATE tenants SET digest_next_at = 123 WHERE id = ?").bind(t.id).run();
    await saveTenantPreferences(db(), t.id, { ...prefs, currency: "USD" });
    expect(await digestNextAt(t.id)).toBe(123);
    await saveTenantPreferences(db(), t.id, { ...prefs, timeZone: "Europe/Berlin" });
    expect(await digestNextAt(t.id)).toBeNull();
  });
});
