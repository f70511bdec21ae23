/**
 * Business hours (issue 19 item 3): a weekly schedule in the tenant's time zone, with holidays,
 * and what each channel does outside it. Pure: the pipeline asks it about a message's time, the
 * test panel about a time a person picked. Everything is worked out on the local wall clock of
 * the tenant's zone (Intl), so a daylight-saving change moves nothing: 09:00 stays 09:00.
 */
import * as v from "valibot";

export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** At most this many opening spans a day (a lunch break needs two). */
export const MAX_SPANS = 2;
export const MAX_HOLIDAYS = 100;
/** How far ahead the next opening is looked for; past it the business counts as closed for good. */
const LOOKAHEAD_DAYS = 400;

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

const TimeSchema = v.pipe(v.string(), v.regex(/^(([01]\d|2[0-3]):[0-5]\d|24:00)$/, "Use a time like 09:30."));

const SpanSchema = v.pipe(
  v.object({ open: TimeSchema, close: TimeSchema }),
  v.check((s) => minutesOf(s.open) < minutesOf(s.close), "The closing time must be after the opening time."),
);
export type Span = v.InferOutput<typeof SpanSchema>;

const DaySchema = v.pipe(
  v.array(SpanSchema),
  v.maxLength(MAX_SPANS, `At most ${MAX_SPANS} opening times a day.`),
  v.check(
    (spans) =>
      [...spans]
        .sort((a, b) => minutesOf(a.open) - minutesOf(b.open))
        .every((s, i, all) => i === 0 || minutesOf(all[i - 1]!.close) <= minutesOf(s.open)),
    "A day's opening times must not overlap.",
  ),
);

export const BusinessHoursSchema = v.object({
  /** Off: always open, whatever the schedule says. */
  enabled: v.boolean(),
  week: v.object(
    Object.fromEntries(WEEKDAYS.map((d) => [d, DaySchema])) as Record<Weekday, typeof DaySchema>,
  ),
  /** Whole days closed, as local dates (YYYY-MM-DD). */
  holidays: v.pipe(
    v.array(v.pipe(v.string(), v.isoDate("Use a date like 2026-12-25."))),
    v.maxLength(MAX_HOLIDAYS, `At most ${MAX_HOLIDAYS} holidays.`),
  ),
});
export type BusinessHours = v.InferOutput<typeof BusinessHoursSchema>;

/** What a channel does outside hours: the rules as usual, an away reply once per closed period, or nothing. */
export const OutsideHoursSchema = v.variant("mode", [
  v.object({ mode: v.literal("rules") }),
  v.object({ mode: v.literal("silence") }),
  v.object({
    mode: v.literal("away"),
    text: v.pipe(
      v.string(),
      v.trim(),
      v.minLength(1, "Write the away reply."),
      v.maxLength(1000, "The away reply is at most 1000 characters."),
    ),
  }),
]);
export type OutsideHours = v.InferOutput<typeof OutsideHoursSchema>;

/** A moment on the tenant's wall clock. */
export type LocalTime = { date: string; weekday: Weekday; minutes: number };

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The local date, weekday and minute of `at` in the zone (throws on an unknown zone). */
export function localTime(timeZone: string, at: number): LocalTime {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    });
    formatters.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(at).map((x) => [x.type, x.value]));
  const date = `${p.year}-${p.month}-${p.day}`;
  return { date, weekday: weekdayOf(date), minutes: Number(p.hour) * 60 + Number(p.minute) };
}

/** The weekday of a calendar date (no time zone involved). */
export function weekdayOf(date: string): Weekday {
  // getUTCDay: 0 is Sunday.
  return WEEKDAYS[(new Date(`${date}T00:00:00Z`).getUTCDay() + 6) % 7]!;
}

function nextDate(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

/**
 * Open, or closed until when: `period` names the closed period by the local time it ends (the next
 * opening, "2026-03-09T09:00"), so an away reply goes once per period; "none" when nothing opens
 * within a year.
 */
export type HoursState = { open: true } | { open: false; period: string };

export function hoursAtLocal(hours: BusinessHours, t: LocalTime): HoursState {
  if (!hours.enabled) return { open: true };
  const holidays = new Set(hours.holidays);
  const spans = (date: string, weekday: Weekday) =>
    holidays.has(date) ? [] : [...hours.week[weekday]].sort((a, b) => minutesOf(a.open) - minutesOf(b.open));
  const today = spans(t.date, t.weekday);
  if (today.some((s) => minutesOf(s.open) <= t.minutes && t.minutes < minutesOf(s.close)))
    return { open: true };
  const later = today.find((s) => minutesOf(s.open) > t.minutes);
  if (later) return { open: false, period: `${t.date}T${later.open}` };
  let date = t.date;
  for (let i = 0; i < LOOKAHEAD_DAYS; i++) {
    date = nextDate(date);
    const first = spans(date, weekdayOf(date))[0];
    if (first) return { open: false, period: `${date}T${first.open}` };
  }
  return { open: false, period: "none" };
}

/** Whether the business is open at `at` in its zone, and if not, which closed period it is. */
export function hoursAt(hours: BusinessHours, timeZone: string, at: number): HoursState {
  return hours.enabled ? hoursAtLocal(hours, localTime(timeZone, at)) : { open: true };
}

/** Parses a stored or submitted schedule; null when it is not one. */
export function parseBusinessHours(input: unknown): BusinessHours | null {
  const r = v.safeParse(BusinessHoursSchema, input);
  return r.success ? r.output : null;
}
