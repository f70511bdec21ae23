import { describe, expect, it } from "vitest";
import { isTimeZone } from "./onboarding.ts";

describe("isTimeZone", () => {
  it("takes every zone this runtime lists, and the common aliases spelled as IANA spells them", () => {
    for (const zone of Intl.supportedValuesOf("timeZone")) expect(isTimeZone(zone), zone).toBe(true);
    for (const zone of ["UTC", "Asia/Kolkata", "Asia/Calcutta", "America/Port-au-Prince", "Etc/GMT+5"])
      expect(isTimeZone(zone), zone).toBe(true);
  });

  it("refuses what is not a zone, offsets, abbreviations and other spellings of a zone", () => {
    for (const bad of [
      "",
      "Mars/Olympus",
      "+05:30",
      "IST",
      "EST5EDT",
      "asia/kolkata",
      "Asia/Kolkata ",
      "Asia//Kolkata",
      "../etc/passwd",
      `America/${"A".repeat(70)}`,
    ])
      expect(isTimeZone(bad), bad).toBe(false);
  });
});
