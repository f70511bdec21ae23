import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type BusinessHours,
  hoursAt,
  hoursAtLocal,
  localTime,
  parseBusinessHours,
  WEEKDAYS,
  weekdayOf,
} from "./hours.ts";

const NINE_TO_FIVE = [{ open: "09:00", close: "17:00" }];
const week = (days: Partial<BusinessHours["week"]>, all = NINE_TO_FIVE): BusinessHours["week"] =>
  Object.fromEntries(WEEKDAYS.map((d) => [d, days[d] ?? all])) as BusinessHours["week"];
const hours = (over: Partial<BusinessHours> = {}): BusinessHours => ({
  enabled: true,
  week: week({}),
  holidays: [],
  ...over,
});
const NY = "America/New_York";

describe("business hours", () => {
  it("reads the wall clock of the zone across a daylight-saving change (New York, 8 March 2026)", () => {
    const h = hours();
    // Saturday 7 March, EST (UTC-5): 13:30Z is 08:30, before opening; 14:30Z is 09:30, open.
    expect(hoursAt(h, NY, Date.UTC(2026, 2, 7, 13, 30))).toEqual({ open: false, period: "2026-03-07T09:00" });
    expect(hoursAt(h, NY, Date.UTC(2026, 2, 7, 14, 30))).toEqual({ open: true });
    // Monday 9 March, EDT (UTC-4): the same 13:30Z is now 09:30, open; 12:30Z is 08:30, closed.
    expect(hoursAt(h, NY, Date.UTC(2026, 2, 9, 13, 30))).toEqual({ open: true });
    expect(hoursAt(h, NY, Date.UTC(2026, 2, 9, 12, 30))).toEqual({ open: false, period: "2026-03-09T09:00" });
    // 17:00 local closes: 21:00Z on the EDT side, 22:00Z on the EST side.
    expect(hoursAt(h, NY, Date.UTC(2026, 2, 9, 20, 59))).toEqual({ open: true });
    expect(hoursAt(h, NY, Date.UTC(2026, 2, 9, 21, 0))).toEqual({ open: false, period: "2026-03-10T09:00" });
    expect(hoursAt(h, NY, Date.UTC(2026, 2, 6, 21, 30))).toEqual({ open: true });
    // The night of the change is one closed period: Saturday evening to Sunday 09:00.
    const sat = hoursAt(h, NY, Date.UTC(2026, 2, 7, 23, 0));
    const sunEarly = hoursAt(h, NY, Date.UTC(2026, 2, 8, 7, 30)); // 03:30 EDT, after the skipped hour
    expect(sat).toEqual({ open: false, period: "2026-03-08T09:00" });
    expect(sunEarly).toEqual(sat);
    // And back in November (1 November 2026): 09:30 EST is 14:30Z.
    expect(hoursAt(h, NY, Date.UTC(2026, 10, 2, 14, 30))).toEqual({ open: true });
    expect(hoursAt(h, NY, Date.UTC(2026, 10, 2, 13, 30))).toEqual({
      open: false,
      period: "2026-11-02T09:00",
    });
  });

  it("skips closed days and holidays to the next opening, and splits a day around a break", () => {
    const h = hours({
      week: week({
        sat: [],
        sun: [],
        wed: [
          { open: "09:00", close: "13:00" },
          { open: "14:00", close: "18:00" },
        ],
      }),
      holidays: ["2026-12-25"],
    });
    // Friday 25 December is a holiday: closed from Thursday evening to Monday 28.
    expect(hoursAtLocal(h, { date: "2026-12-24", weekday: "thu", minutes: 18 * 60 })).toEqual({
      open: false,
      period: "2026-12-28T09:00",
    });
    expect(hoursAtLocal(h, { date: "2026-12-25", weekday: "fri", minutes: 10 * 60 })).toEqual({
      open: false,
      period: "2026-12-28T09:00",
    });
    // Lunch on Wednesday is its own closed period.
    expect(hoursAtLocal(h, { date: "2026-12-23", weekday: "wed", minutes: 13 * 60 + 30 })).toEqual({
      open: false,
      period: "2026-12-23T14:00",
    });
    expect(hoursAtLocal(h, { date: "2026-12-23", weekday: "wed", minutes: 14 * 60 })).toEqual({ open: true });
    // Open until midnight (24:00): 23:59 is open, the next day's 00:00 closed until its opening.
    const late = hours({ week: week({}, [{ open: "18:00", close: "24:00" }]) });
    expect(hoursAtLocal(late, { date: "2026-12-23", weekday: "wed", minutes: 23 * 60 + 59 })).toEqual({
      open: true,
    });
    expect(hoursAtLocal(late, { date: "2026-12-24", weekday: "thu", minutes: 0 })).toEqual({
      open: false,
      period: "2026-12-24T18:00",
    });
    // Nothing ever open: closed for good, one period.
    expect(
      hoursAtLocal(hours({ week: week({}, []) }), { date: "2026-12-23", weekday: "wed", minutes: 0 }),
    ).toEqual({
      open: false,
      period: "none",
    });
    // Switched off: always open.
    expect(
      hoursAtLocal(hours({ enabled: false, week: week({}, []) }), {
        date: "2026-12-23",
        weekday: "wed",
        minutes: 0,
      }),
    ).toEqual({
      open: true,
    });
  });

  it("names each closed period by its end: every moment of one period gives the same name", () => {
    const h = hours({ week: week({ sun: [] }) });
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2027, 0, 1) }), (at) => {
        const s = hoursAt(h, NY, at);
        if (s.open) return;
        // A minute later, still closed (unless it opened): the same period.
        const next = hoursAt(h, NY, at + 60_000);
        if (!next.open) expect(next.period).toBe(s.period);
        // The period's end is an opening time on a later or the same local date.
        expect(s.period.slice(0, 10) >= localTime(NY, at).date).toBe(true);
        expect(s.period.endsWith("T09:00")).toBe(true);
      }),
    );
  });

  it("refuses a schedule that is not one", () => {
    expect(parseBusinessHours(hours())).not.toBeNull();
    const bad: unknown[] = [
      { ...hours(), week: week({ mon: [{ open: "17:00", close: "09:00" }] }) },
      { ...hours(), week: week({ mon: [{ open: "9:00", close: "17:00" }] }) },
      { ...hours(), week: week({ mon: [{ open: "09:00", close: "25:00" }] }) },
      {
        ...hours(),
        week: week({
          mon: [
            { open: "09:00", close: "13:00" },
            { open: "12:00", close: "18:00" },
          ],
        }),
      },
      { ...hours(), week: week({ mon: [NINE_TO_FIVE[0]!, NINE_TO_FIVE[0]!, NINE_TO_FIVE[0]!] }) },
      { ...hours(), holidays: ["25/12/2026"] },
      { ...hours(), week: { mon: NINE_TO_FIVE } },
      null,
    ];
    for (const b of bad) expect(parseBusinessHours(b)).toBeNull();
    expect(weekdayOf("2026-12-07")).toBe("mon");
  });
});
