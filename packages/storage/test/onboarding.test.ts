import { describe, expect, it } from "vitest";
import {
  completeWizardStep,
  getOnboarding,
  launchTenant,
  saveBusinessBasics,
  saveBusinessProfile,
  setTenantTimeZone,
} from "../src/onboarding.ts";
import { createTenant } from "../src/tenants.ts";
import { db, MASTER_KEY, newTenant } from "./fixtures.ts";

const BASICS = {
  name: "Chai Corner",
  businessKind: "cafe",
  locale: "en-US",
  currency: "USD",
  timeZone: "America/New_York",
} as const;

const digestNext = async (tenantId: string) =>
  (await db().prepare("SELECT digest_next_at AS n FROM tenants WHERE id = ?").bind(tenantId).first<{
    n: number | null;
  }>())!.n;

describe("onboarding state", () => {
  it("starts a new tenant at step 0, not launched, in its locale's time zone unless given one", async () => {
    const t = await newTenant();
    expect(await getOnboarding(db(), t.id)).toMatchObject({
      wizardStep: 0,
      launchedAt: null,
      businessKind: null,
      timeZone: "Asia/Kolkata",
      notifyCadence: "instant",
      digest: "off",
    });
    const us = await createTenant(db(), MASTER_KEY, { name: "US shop", locale: "en-US", currency: "USD" });
    expect((await getOnboarding(db(), us.id))!.timeZone).toBe("America/New_York");
    const given = await createTenant(db(), MASTER_KEY, { name: "Given", timeZone: "Europe/Berlin" });
    expect((await getOnboarding(db(), given.id))!.timeZone).toBe("Europe/Berlin");
  });

  it("saves step 1 and marks it done; bad input throws and changes nothing", async () => {
    const t = await newTenant();
    const before = await getOnboarding(db(), t.id);
    for (const bad of [
      { ...BASICS, name: " " },
      { ...BASICS, timeZone: "Mars/Olympus" },
      { ...BASICS, timeZone: "+05:30" },
      { ...BASICS, businessKind: "spaceport" },
    ]) {
      await expect(saveBusinessBasics(db(), t.id, bad as typeof BASICS)).rejects.toThrow();
      expect(await getOnboarding(db(), t.id)).toEqual(before);
    }
    expect(await saveBusinessBasics(db(), t.id, { ...BASICS, name: " Chai Corner " })).toBe(true);
    expect(await getOnboarding(db(), t.id)).toMatchObject({ ...BASICS, wizardStep: 1 });
    expect(await saveBusinessBasics(db(), "t_nobody", BASICS)).toBe(false);
  });

  it("never moves the furthest step back, and launches once", async () => {
    const t = await newTenant();
    await completeWizardStep(db(), t.id, 3);
    await completeWizardStep(db(), t.id, 2);
    await saveBusinessBasics(db(), t.id, BASICS);
    expect((await getOnboarding(db(), t.id))!.wizardStep).toBe(3);
    await expect(completeWizardStep(db(), t.id, 5)).rejects.toThrow();
    expect(await launchTenant(db(), t.id, 1000)).toBe(true);
    expect(await launchTenant(db(), t.id, 2000)).toBe(false);
    expect(await getOnboarding(db(), t.id)).toMatchObject({ wizardStep: 5, launchedAt: 1000 });
  });

  it("clears the digest's next boundary only when the time zone really changes", async () => {
    const t = await newTenant();
    await db().prepare("UPDATE tenants SET digest_next_at = 42 WHERE id = ?").bind(t.id).run();
    await setTenantTimeZone(db(), t.id, "Asia/Kolkata");
    expect(await digestNext(t.id)).toBe(42);
    await saveBusinessBasics(db(), t.id, { ...BASICS, timeZone: "Asia/Kolkata" });
    expect(await digestNext(t.id)).toBe(42);
    await setTenantTimeZone(db(), t.id, "Europe/London");
    expect(await digestNext(t.id)).toBeNull();
    await expect(setTenantTimeZone(db(), t.id, "IST")).rejects.toThrow();
  });

  it("renames the business and sets its kind from settings", async () => {
    const t = await newTenant();
    await expect(saveBusinessProfile(db(), t.id, { name: "", businessKind: "cafe" })).rejects.toThrow();
    expect(await saveBusinessProfile(db(), t.id, { name: "Salon Nine", businessKind: "salon" })).toBe(
      "saved",
    );
    expect(await getOnboarding(db(), t.id)).toMatchObject({ name: "Salon Nine", businessKind: "salon" });
  });
});
