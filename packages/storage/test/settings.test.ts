import { describe, expect, it } from "vitest";
import { getTenantPreferences, saveTenantPreferences } from "../src/preferences.ts";
import {
  getTenantSettings,
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
      locale: "en-IN",
      status: "active",
      deletingAt: null,
    });
  });

  it("saves conversation settings and notification targets for that tenant only", async () => {
    const t = await newTenant();
    const other = await newTenant();
    expect(await saveConversationSettings(db(), t.id, settings)).toBe(true);
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

  it("an unknown tenant saves nothing and reads null", async () => {
    expect(await saveConversationSettings(db(), "t_unknown", settings)).toBe(false);
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
  it("saves locale and currency; invalid input is refused and changes nothing", async () => {
    const t = await newTenant();
    expect(await getTenantPreferences(db(), t.id)).toEqual({ locale: "en-IN", currency: "INR" });
    expect(await saveTenantPreferences(db(), t.id, { locale: "en-US", currency: "USD" })).toBe(true);
    expect(await getTenantPreferences(db(), t.id)).toEqual({ locale: "en-US", currency: "USD" });
    await expect(
      saveTenantPreferences(db(), t.id, { locale: "fr-FR", currency: "INR" } as never),
    ).rejects.toMatchObject({ status: 400, code: "invalid_preferences" });
    expect(await getTenantPreferences(db(), t.id)).toEqual({ locale: "en-US", currency: "USD" });
    expect(await saveTenantPreferences(db(), "t_unknown", { locale: "en-IN", currency: "INR" })).toBe(false);
  });
});
