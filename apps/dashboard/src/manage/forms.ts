// What the /manage forms share beyond src/forms.ts: selects and checkboxes with unique ids (a page
// holds many forms with the same field names), dates and money as people type them, and the
// pipeline's refusals turned into something to show.
import type { RpcError } from "@concierge/core";
import { msg } from "@concierge/i18n";
import { type Html, html } from "../html.ts";
import type { FieldErrors } from "../forms.ts";
import type { Ctx } from "../http.ts";

/** A labelled select; `id` keeps it unique when several forms on a page share the name. */
export function selectField(
  c: Ctx,
  f: {
    name: string;
    label: string;
    value: string;
    options: [value: string, label: string][];
    error?: string | null;
    hint?: string | null;
    id?: string;
  },
): Html {
  const id = f.id ?? `f-${f.name}`;
  const described = [f.hint ? `${id}-hint` : null, f.error ? `${id}-err` : null].filter(Boolean).join(" ");
  return html`<div class="field">
  <label for="${id}">${f.label}</label>
  ${f.hint ? html`<span class="hint" id="${id}-hint">${f.hint}</span>` : null}
  <select id="${id}" name="${f.name}"${described ? html` aria-describedby="${described}"` : null}${
    f.error ? html` aria-invalid="true"` : null
  }>
    ${f.options.map(
      ([value, label]) =>
        html`<option value="${value}"${value === f.value ? html` selected` : null}>${label}</option>`,
    )}
  </select>
  ${f.error ? html`<span class="err" id="${id}-err">${c.t(f.error)}</span>` : null}
</div>`;
}

/** A checkbox with its label beside it (sent as "on" when ticked, absent when not). */
export function checkboxField(f: { name: string; label: string; checked: boolean; id: string }): Html {
  return html`<div class="field mg-check"><label for="${f.id}"><input type="checkbox" id="${f.id}" name="${f.name}" value="on"${
    f.checked ? html` checked` : null
  }> ${f.label}</label></div>`;
}

/**
 * A date typed as YYYY-MM-DD (what `<input type=date>` sends, and what a person types where the
 * browser has no date picker) as the start of that day in UTC, the zone the panel shows dates
 * in; null when it is not a real date.
 */
export function parseDay(s: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s.trim());
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const at = Date.UTC(y, mo - 1, d);
  const back = new Date(at);
  // Date.UTC rolls 2026-02-31 over into March: such a day does not exist.
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return null;
  return at;
}

/** A day as `<input type=date>` shows it (UTC). */
export function dayValue(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** How many minor units a currency's major unit has (2 for INR and USD), as Intl knows it. */
export function minorDigits(currency: string): number {
  return (
    new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2
  );
}

/**
 * An amount typed in major units ("499", "499.5", "1,499.00") in minor units; NaN when it is not
 * a plain non-negative amount with at most the currency's minor digits (the schema then reports it).
 */
export function parseMajorAmount(s: string, currency: string): number {
  const digits = minorDigits(currency);
  const plain = s.trim().replaceAll(",", "");
  const pattern = digits > 0 ? new RegExp(`^\\d{1,12}(?:\\.\\d{1,${digits}})?$`) : /^\d{1,12}$/;
  if (!pattern.test(plain)) return Number.NaN;
  const [whole = "0", fraction = ""] = plain.split(".");
  return Number(whole) * 10 ** digits + Number(fraction.padEnd(digits, "0") || "0");
}

/** Minor units as the major-unit amount a form shows ("499", "499.50"): no grouping, no symbol. */
export function majorAmountValue(minor: number, currency: string): string {
  const digits = minorDigits(currency);
  if (digits === 0) return String(minor);
  const whole = Math.floor(minor / 10 ** digits);
  const fraction = minor % 10 ** digits;
  return fraction === 0 ? String(whole) : `${whole}.${String(fraction).padStart(digits, "0")}`;
}

/**
 * What each of the pipeline's refusal codes (the error envelope's `code`) says to the operator.
 * The envelope's `message` is the pipeline's own English, for logs and other callers: the panel
 * speaks the operator's language, so it goes by the code alone.
 */
export const REFUSAL_MESSAGES: Readonly<Record<string, string>> = {
  invalid_operator: msg("manage-refused-invalid-operator"),
  invalid_input: msg("manage-refused-invalid-input"),
  not_found: msg("manage-refused-not-found"),
  invalid_expiry: msg("manage-refused-invalid-expiry"),
  confirm_mismatch: msg("manage-refused-confirm-mismatch"),
  tenant_suspended: msg("manage-refused-tenant-suspended"),
  delete_incomplete: msg("manage-refused-delete-incomplete"),
  pack_exists: msg("manage-refused-pack-exists"),
  currency_fixed: msg("manage-refused-currency-fixed"),
  internal: msg("manage-refused-internal"),
};

/** The message id of a refusal code; a code this panel does not know yet gets the generic one. */
export function refusalMessage(code: string): string {
  return Object.hasOwn(REFUSAL_MESSAGES, code) ? REFUSAL_MESSAGES[code]! : msg("manage-refused-unknown");
}

/** The pipeline's refusal as the page's notice, in the operator's language. */
export function refusal(c: Ctx, err: RpcError): string {
  return c.t(refusalMessage(err.error.code));
}

/**
 * One form of a page shown again after a refusal: which form (`key`), what was typed and the
 * problems by field. The page's other forms show what is stored.
 */
export type FormState = { key: string; values: Record<string, string>; errors: FieldErrors };

/** The typed values and errors of the form `key`, if it is the one being shown again. */
export function stateOf(
  state: FormState | null | undefined,
  key: string,
): { values: Record<string, string>; errors: FieldErrors } | null {
  return state && state.key === key ? { values: state.values, errors: state.errors } : null;
}

/** Every text field of a submitted form (the CSRF token left out), to show back as typed. */
export function typed(form: FormData, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const value = form.get(name);
    out[name] = typeof value === "string" ? value : "";
  }
  return out;
}
