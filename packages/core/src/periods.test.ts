import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type PeriodCadence, localDay, nextPeriodBoundary, periodStart } from "./periods.ts";

/** Zones with half-hour offsets, daylight saving on both hemispheres, the date line, and none. */
const ZONES = [
  "UTC",
  "Asia/Kolkata",
  "Asia/Kathmandu",
  "America/New_York",
  "America/Los_Angeles",
  "America/Santiago",
  "America/St_Johns",
  "Europe/London",
  "Europe/Berlin",
  "Australia/Lord_Howe",
  "Australia/Adelaide",
  "Pacific/Chatham",
  "Pacific/Apia",
  "Pacific/Kiritimati",
  "Pacific/Pago_Pago",
  "Asia/Beirut",
  "America/Havana",
] as const;

const iso = (ms: number) => new Date(ms).toISOString();
/** The local wall clock at an instant in a zone, "YYYY-MM-DD HH:mm" with its weekday. */
function wall(tz: string, at: number): string {
  return new Intl.DateTimeFormat("en-CA", {
    timeZone: tz,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    weekday: "short",
    hourCycle: "h23",
  }).format(at);
}

describe("fixed boundaries", () => {
  const cases: [PeriodCadence, string, string, string][] = [
    // India: +05:30 all year, midnight is 18:30 UTC the day before.
    ["daily", "Asia/Kolkata", "2030-01-14T12:00:00Z", "2030-01-14T18:30:00Z"],
    ["daily", "Asia/Kolkata", "2030-01-14T18:30:00Z", "2030-01-15T18:30:00Z"],
    ["daily", "Asia/Kolkata", "2030-01-14T18:29:59.999Z", "2030-01-14T18:30:00Z"],
    ["weekly", "Asia/Kolkata", "2030-01-14T12:00:00Z", "2030-01-20T18:30:00Z"], // Mon → next Mon
    ["weekly", "Asia/Kolkata", "2030-01-13T18:29:00Z", "2030-01-13T18:30:00Z"], // Sun 23:59 → Mon
    // New York: the night DST starts (2025-03-09) and ends (2025-11-02), and either side.
    ["daily", "America/New_York", "2025-03-08T12:00:00Z", "2025-03-09T05:00:00Z"],
    ["daily", "America/New_York", "2025-03-09T05:00:00Z", "2025-03-10T04:00:00Z"], // a 23-hour day
    ["daily", "America/New_York", "2025-11-02T03:59:00Z", "2025-11-02T04:00:00Z"],
    ["daily", "America/New_York", "2025-11-02T04:00:00Z", "2025-11-03T05:00:00Z"], // a 25-hour day
    ["weekly", "America/New_York", "2025-11-05T12:00:00Z", "2025-11-10T05:00:00Z"],
    ["weekly", "America/New_York", "2025-03-05T12:00:00Z", "2025-03-10T04:00:00Z"],
    // Lord Howe: +10:30 in winter, +11:00 in summer (a half-hour shift at 02:00 local).
    ["daily", "Australia/Lord_Howe", "2025-07-01T00:00:00Z", "2025-07-01T13:30:00Z"],
    ["daily", "Australia/Lord_Howe", "2025-12-01T00:00:00Z", "2025-12-01T13:00:00Z"],
    ["daily", "Australia/Lord_Howe", "2025-10-04T14:00:00Z", "2025-10-05T13:00:00Z"], // 23.5 h
    ["daily", "Australia/Lord_Howe", "2025-04-05T14:00:00Z", "2025-04-06T13:30:00Z"], // 24.5 h
    // Santiago springs forward at midnight: 2025-09-07 starts at 01:00 (-03:00).
    ["daily", "America/Santiago", "2025-09-06T12:00:00Z", "2025-09-07T04:00:00Z"],
    // Samoa skipped 2011-12-30: the day after the 29th is the 31st.
    ["daily", "Pacific/Apia", "2011-12-29T12:00:00Z", "2011-12-30T10:00:00Z"],
    ["daily", "UTC", "2030-01-01T00:00:00Z", "2030-01-02T00:00:00Z"],
  ];
  for (const [cadence, tz, after, expected] of cases) {
    it(`${cadence} in ${tz} after ${after} is ${expected}`, () => {
      expect(iso(nextPeriodBoundary(cadence, tz, Date.parse(after)))).toBe(new Date(expected).toISOString());
    });
  }

  it("a boundary is local midnight (a Monday for weekly) in the zone", () => {
    expect(wall("America/New_York", Date.parse("2025-03-09T05:00:00Z"))).toBe("Sun, 2025-03-09, 00:00");
    expect(wall("Asia/Kolkata", Date.parse("2030-01-20T18:30:00Z"))).toBe("Mon, 2030-01-21, 00:00");
    // Santiago's 2025-09-07 has no 00:00; its first instant reads 01:00.
    expect(wall("America/Santiago", Date.parse("2025-09-07T04:00:00Z"))).toBe("Sun, 2025-09-07, 01:00");
  });

  it("the period before a boundary is that local day or week, however long it is", () => {
    const ny = Date.parse("2025-03-10T04:00:00Z");
    expect(iso(periodStart("daily", "America/New_York", ny))).toBe("2025-03-09T05:00:00.000Z");
    const nyFall = Date.parse("2025-11-03T05:00:00Z");
    expect(iso(periodStart("daily", "America/New_York", nyFall))).toBe("2025-11-02T04:00:00.000Z");
    expect(iso(periodStart("weekly", "Asia/Kolkata", Date.parse("2030-01-20T18:30:00Z")))).toBe(
      "2030-01-13T18:30:00.000Z",
    );
    expect(iso(periodStart("weekly", "America/New_York", Date.parse("2025-11-10T05:00:00Z")))).toBe(
      "2025-11-03T05:00:00.000Z",
    );
    // Samoa's day after the skipped 30th: the period before the 1st is the 31st (one day, 24 h).
    const apia = nextPeriodBoundary("daily", "Pacific/Apia", Date.parse("2011-12-31T12:00:00Z"));
    expect(apia - periodStart("daily", "Pacific/Apia", apia)).toBe(24 * 3600_000);
  });
});

describe("properties", () => {
  const zone = fc.constantFrom(...ZONES);
  const cadence = fc.constantFrom<PeriodCadence>("daily", "weekly");
  // 1971 to 2037: the span of every zone's rules that a digest can meet.
  const instant = fc.integer({ min: Date.UTC(1971, 0, 1), max: Date.UTC(2037, 11, 1) });

  it("the next boundary is later, starts a new local day (a Monday for weekly), and none lies between", () => {
    fc.assert(
      fc.property(cadence, zone, instant, (c, tz, t) => {
        const b = nextPeriodBoundary(c, tz, t);
        expect(b).toBeGreaterThan(t);
        // The first instant of a local date: the instant before it is on an earlier date.
        expect(localDay(tz, b)).toBeGreaterThan(localDay(tz, b - 1));
        if (c === "weekly") expect(wall(tz, b).slice(0, 3)).toBe("Mon");
        // No boundary between t and b: asking from just before b gives b again.
        expect(nextPeriodBoundary(c, tz, b - 1)).toBe(b);
        // Days are 22 to 26 hours long (1 day plus or minus the largest DST shifts); weeks 7 of them.
        const span = c === "daily" ? [1, 1] : [1, 7];
        expect(b - t).toBeLessThanOrEqual(span[1]! * 26 * 3600_000);
      }),
      { numRuns: 400 },
    );
  });

  it("the period before a boundary ends where the previous boundary's next one is", () => {
    fc.assert(
      fc.property(cadence, zone, instant, (c, tz, t) => {
        const b = nextPeriodBoundary(c, tz, t);
        const start = periodStart(c, tz, b);
        expect(start).toBeLessThan(b);
        expect(start).toBeLessThanOrEqual(t);
        expect(nextPeriodBoundary(c, tz, start)).toBe(b);
        // The start is itself a boundary of the same cadence.
        expect(nextPeriodBoundary(c, tz, start - 1)).toBe(start);
      }),
      { numRuns: 400 },
    );
  });
});
