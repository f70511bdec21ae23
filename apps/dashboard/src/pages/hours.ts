import { msg } from "@concierge/i18n";
import {
  type BusinessHours,
  BusinessHoursSchema,
  MAX_HOLIDAYS,
  WEEKDAYS,
  type Weekday,
} from "@concierge/rules";
import { getTenantSettings, saveBusinessHours } from "@concierge/storage";
import * as v from "valibot";
import { errorSummary, type FieldErrors, formVersion, str, versionField } from "../forms.ts";
import { type Html, html } from "../html.ts";
import { type AuthedCtx, notFound, redirect, html as respond } from "../http.ts";
import { csrfField, page } from "../layout.ts";

// Business hours (issue 19 item 3): the tenant's weekly schedule in its time zone, with holidays.
// What each channel does outside them (the rules, an away reply, silence) is in its reply rules'
// settings; the rules' test panel shows which applies at a chosen time.

const DAY_LABELS: Record<Weekday, string> = {
  mon: msg("hours-mon"),
  tue: msg("hours-tue"),
  wed: msg("hours-wed"),
  thu: msg("hours-thu"),
  fri: msg("hours-fri"),
  sat: msg("hours-sat"),
  sun: msg("hours-sun"),
};

/** What the form shows: the typed strings, two opening times a day. */
type Typed = {
  enabled: boolean;
  days: Record<Weekday, { open: string; close: string }[]>;
  holidays: string;
};

const SPANS = [0, 1] as const;

/** A new schedule's suggestion: weekdays 09:00 to 18:00, weekends closed. */
const SUGGESTED: BusinessHours = {
  enabled: false,
  week: Object.fromEntries(
    WEEKDAYS.map((d) => [d, d === "sat" || d === "sun" ? [] : [{ open: "09:00", close: "18:00" }]]),
  ) as BusinessHours["week"],
  holidays: [],
};

/**
 * A time field cannot hold 24:00: midnight as a closing time is shown and typed as 00:00 (a span
 * cannot close at the very start of its own day, so 00:00 there can only mean the day's end).
 */
const closeShown = (close: string) => (close === "24:00" ? "00:00" : close);
const closeStored = (close: string) => (close === "00:00" ? "24:00" : close);

function typedOf(h: BusinessHours): Typed {
  return {
    enabled: h.enabled,
    days: Object.fromEntries(
      WEEKDAYS.map((d) => [
        d,
        SPANS.map((i) => {
          const span = h.week[d][i];
          return span ? { open: span.open, close: closeShown(span.close) } : { open: "", close: "" };
        }),
      ]),
    ) as Typed["days"],
    holidays: h.holidays.join("\n"),
  };
}

function typedFrom(form: FormData): Typed {
  return {
    enabled: str(form, "enabled") === "on",
    days: Object.fromEntries(
      WEEKDAYS.map((d) => [
        d,
        SPANS.map((i) => ({
          open: str(form, `${d}-${i}-open`).trim(),
          close: str(form, `${d}-${i}-close`).trim(),
        })),
      ]),
    ) as Typed["days"],
    holidays: str(form, "holidays"),
  };
}

/** The typed form as a schedule: a span with both times empty is no span; one time alone is an error. */
function scheduleOf(t: Typed): { ok: true; hours: BusinessHours } | { ok: false; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const week = {} as Record<Weekday, { open: string; close: string }[]>;
  for (const d of WEEKDAYS) {
    week[d] = [];
    for (const i of SPANS) {
      const s = t.days[d][i]!;
      if (!s.open && !s.close) continue;
      if (!s.open || !s.close) {
        errors[d] ??= msg("hours-err-both");
        continue;
      }
      week[d].push({ open: s.open, close: closeStored(s.close) });
    }
  }
  const holidays = t.holidays
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter(Boolean);
  if (holidays.length > MAX_HOLIDAYS) errors.holidays = msg("hours-err-holidays-many");
  // Every problem at once: the complete spans and the holidays are checked even when another
  // field already has one.
  const parsed = v.safeParse(BusinessHoursSchema, {
    enabled: t.enabled,
    week,
    holidays: [...new Set(holidays)].slice(0, MAX_HOLIDAYS),
  });
  if (parsed.success && Object.keys(errors).length === 0) return { ok: true, hours: parsed.output };
  if (parsed.success) return { ok: false, errors };
  for (const issue of parsed.issues) {
    const path = v.getDotPath(issue) ?? "";
    const key = path.startsWith("week.")
      ? path.split(".")[1]!
      : path.startsWith("holidays")
        ? "holidays"
        : "_form";
    errors[key] ??= key === "holidays" ? msg("hours-err-holiday") : msg("hours-err-span");
  }
  return { ok: false, errors };
}

function form(
  c: AuthedCtx,
  typed: Typed,
  version: number,
  timeZone: string,
  errors: FieldErrors | null,
): Html {
  const { t } = c;
  // Each field is labelled with its day and which opening time it is; one with a problem points at it.
  const time = (name: string, value: string, label: string, errorId: string | null) =>
    html`<label class="time"><span class="sr-only">${label}</span><input type="time" name="${name}" value="${value}" step="60"${
      errorId ? html` aria-invalid="true" aria-describedby="${errorId}"` : null
    }></label>`;
  return html`${errorSummary(c, errors)}
<form class="card stack" method="post" action="/admin/hours" id="hours-form" novalidate>
  ${csrfField(c)}
  ${versionField(version)}
  <p class="muted">${t("hours-zone", { zone: timeZone })} <a href="/admin/settings">${t("hours-zone-change")}</a></p>
  <div class="field"><label class="switch" for="hours-enabled"><input type="checkbox" id="hours-enabled" name="enabled"${
    typed.enabled ? html` checked` : null
  }> ${t("hours-enabled")}</label></div>
  <fieldset class="hours-week">
    <legend>${t("hours-week")}</legend>
    <p class="hint">${t("hours-week-hint")}</p>
    ${WEEKDAYS.map((d) => {
      const err = errors?.[d];
      const day = t(DAY_LABELS[d]);
      return html`<div class="hours-day" id="hours-${d}">
      <span class="day">${day}</span>
      ${SPANS.map((i) => {
        const errorId = err ? `hours-${d}-err` : null;
        const which = { day, which: i + 1 };
        return html`<span class="span">${time(`${d}-${i}-open`, typed.days[d][i]!.open, t("hours-opens", which), errorId)}–${time(
          `${d}-${i}-close`,
          typed.days[d][i]!.close,
          t("hours-closes", which),
          errorId,
        )}</span>`;
      })}
      ${err ? html`<span class="err" id="hours-${d}-err">${t(err)}</span>` : null}
    </div>`;
    })}
  </fieldset>
  <div class="field">
    <label for="hours-holidays">${t("hours-holidays")}</label>
    <span class="hint" id="hours-holidays-hint">${t("hours-holidays-hint")}</span>
    <textarea id="hours-holidays" name="holidays" rows="3" aria-describedby="hours-holidays-hint${
      errors?.holidays ? " hours-holidays-err" : ""
    }"${errors?.holidays ? html` aria-invalid="true"` : null}>${typed.holidays}</textarea>
    ${errors?.holidays ? html`<span class="err" id="hours-holidays-err">${t(errors.holidays)}</span>` : null}
  </div>
  <p class="hint">${t("hours-channels-hint")} <a href="/admin/rules">${t("hours-channels-link")}</a></p>
  <div><button type="submit">${t("save")}</button></div>
</form>`;
}

async function render(
  c: AuthedCtx,
  opts: { typed?: Typed; version?: number; errors?: FieldErrors | null; notice?: string | null },
  status = 200,
): Promise<Response> {
  const settings = await getTenantSettings(c.env.DB, c.session.tenantId);
  if (!settings) notFound();
  const typed = opts.typed ?? typedOf(settings.businessHours ?? SUGGESTED);
  return respond(
    c,
    page(c, {
      title: c.t("hours-title"),
      section: "hours",
      notice: opts.notice ?? null,
      body: html`<p class="muted">${c.t("hours-lead")}</p>${form(
        c,
        typed,
        opts.version ?? settings.settingsVersion,
        settings.timeZone,
        opts.errors ?? null,
      )}`,
    }),
    status,
  );
}

/** GET /admin/hours */
export function hoursPage(c: AuthedCtx): Promise<Response> {
  return render(c, { notice: c.searchParams.get("saved") === "1" ? c.t("saved") : null });
}

/**
 * POST /admin/hours: the schedule, checked span by span (errors next to the day), saved with the
 * settings version the page was shown at: a save made meanwhile makes this one stale (409).
 */
export async function saveHours(c: AuthedCtx): Promise<Response> {
  const typed = typedFrom(c.form);
  const version = formVersion(c.form);
  const checked = scheduleOf(typed);
  if (!checked.ok)
    return render(c, { typed, ...(version === null ? {} : { version }), errors: checked.errors }, 422);
  const saved = await saveBusinessHours(c.env.DB, c.session.tenantId, checked.hours, version);
  if (saved === "not_found") notFound();
  if (saved === "stale") return render(c, { errors: { _form: msg("settings-err-stale") } }, 409);
  return redirect("/admin/hours?saved=1");
}
