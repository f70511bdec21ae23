/**
 * Calendar periods in a tenant's own time zone (the summary digest, PRODUCT.md §4): where the
 * next day or week starts after an instant, and where the period ending at a boundary began.
 * Pure: only Intl's time-zone data, no clock.
 *
 * A period boundary is the first instant of a local date: local midnight for "daily", local
 * Monday 00:00 for "weekly". It is found as the first instant whose local date is on or after the
 * wanted date, not by adding 24 hours or subtracting an offset, so it stays right across daylight
 * saving (a 23- or 25-hour day, Lord Howe's half-hour shift) and on days whose midnight does not
 * exist (a zone that springs forward at 00:00 starts that day at 01:00, the first instant of it).
 * Local dates only move forward across real transitions, which is what the search relies on.
 */

export type PeriodCadence = "daily" | "weekly";

const DAY_MS = 86_400_000;
/** Local time is UTC shifted by at most this much either way (+14:00 Kiribati, -12:00). */
const MAX_OFFSET_MS = 15 * 3_600_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
      hourCycle: "h23",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The local wall clock at an instant, as the UTC milliseconds of the same reading. */
function localReading(timeZone: string, at: number): number {
  const p: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(at)) {
    if (part.type !== "literal") p[part.type] = Number(part.value);
  }
  return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!) + (at % 1000);
}

/**
 * How far the zone's wall clock is ahead of UTC at an instant, in minutes (+330 in Kolkata, -300 in
 * New York in winter, -240 in summer): what the insights' per-day counts are keyed by (migration 0036).
 */
export function utcOffsetMinutes(timeZone: string, at: number): number {
  return Math.round((localReading(timeZone, at) - at) / 60_000);
}

/** The local date at an instant, as days since 1970-01-01 (a plain calendar count, no zone). */
export function localDay(timeZone: string, at: number): number {
  return Math.floor(localReading(timeZone, at) / DAY_MS);
}

/** Monday = 0 … Sunday = 6 for a day number (1970-01-01 was a Thursday). */
function weekdayFromMonday(day: number): number {
  return (((day + 3) % 7) + 7) % 7;
}

/** The first instant whose local date is `day` or later (in a zone where dates only advance). */
function startOfLocalDay(timeZone: string, day: number): number {
  const wall = day * DAY_MS;
  // Usually exact: the wall clock minus the offset in force there, checked on both sides.
  const guess = wall - (localReading(timeZone, wall) - wall);
  const exact = wall - (localReading(timeZone, guess) - guess);
  if (localDay(timeZone, exact) >= day && localDay(timeZone, exact - 1) < day) return exact;
  // The midnight falls in a gap, or the offset changed in between: search for the first instant.
  let lo = wall - MAX_OFFSET_MS; // local date still before `day`
  let hi = wall + MAX_OFFSET_MS; // local date already `day` or later
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (localDay(timeZone, mid) >= day) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** The local date of the first day of the period after the one holding `day`. */
function nextPeriodDay(cadence: PeriodCadence, day: number): number {
  return cadence === "daily" ? day + 1 : day + 7 - weekdayFromMonday(day);
}

/**
 * The next period boundary strictly after `after`: the next local midnight ("daily") or local
 * Monday 00:00 ("weekly") in `timeZone`, as UTC milliseconds.
 */
export function nextPeriodBoundary(cadence: PeriodCadence, timeZone: string, after: number): number {
  return startOfLocalDay(timeZone, nextPeriodDay(cadence, localDay(timeZone, after)));
}

/**
 * The start of the period that ends at `boundary` (exclusive): the local day or week just before
 * it. Taken from the last instant before the boundary, so a calendar day a zone skipped (Samoa's
 * 2011-12-30) does not make an empty period.
 */
export function periodStart(cadence: PeriodCadence, timeZone: string, boundary: number): number {
  const last = localDay(timeZone, boundary - 1);
  const first = cadence === "daily" ? last : last - weekdayFromMonday(last);
  return startOfLocalDay(timeZone, first);
}
