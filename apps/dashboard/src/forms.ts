import * as v from "valibot";
import { type Html, html } from "./html.ts";
import type { Ctx } from "./http.ts";

/** Field name → message id of its first problem. */
export type FieldErrors = Record<string, string>;

/**
 * Validates a form with a schema whose messages are Fluent ids (msg("…")), returning either the
 * value or errors keyed by field so the form can be shown again next to what was typed.
 */
export function validate<S extends v.GenericSchema>(
  schema: S,
  input: unknown,
): { ok: true; value: v.InferOutput<S> } | { ok: false; errors: FieldErrors } {
  const r = v.safeParse(schema, input);
  if (r.success) return { ok: true, value: r.output };
  const errors: FieldErrors = {};
  for (const issue of r.issues) {
    const key = v.getDotPath(issue) ?? "_form";
    errors[key] ??= issue.message;
  }
  return { ok: false, errors };
}

export function str(form: FormData, name: string): string {
  const value = form.get(name);
  return typeof value === "string" ? value : "";
}

/** A number field as typed: empty or junk becomes NaN, which the schema reports. */
export function num(form: FormData, name: string): number {
  const s = str(form, name).trim();
  return s === "" ? Number.NaN : Number(s);
}

/**
 * The version a form was shown at (its hidden `version` field), for a save that refuses a stale
 * one. Every form of ours carries it. Absent (a post not made from our page: a script, a page
 * cached from before versions) is null, no check: there is no page whose edit could be lost.
 * Present but junk is -1, which no stored version equals: refused as stale, never an overwrite.
 */
export function formVersion(form: FormData): number | null {
  if (!form.has("version")) return null;
  const n = num(form, "version");
  return Number.isSafeInteger(n) && n >= 0 ? n : -1;
}

/** The hidden field that carries a form's version back with its save. */
export const versionField = (version: number) =>
  html`<input type="hidden" name="version" value="${version}">`;

/** A labelled input with its hint and error, wired for screen readers. */
export function field(
  c: Ctx,
  f: {
    name: string;
    label: string;
    value: string | number | null | undefined;
    type?: "text" | "email" | "number" | "url" | "date" | "search";
    hint?: string | null;
    error?: string | null;
    attrs?: Html | null;
    id?: string;
  },
): Html {
  const id = f.id ?? `f-${f.name.replace(/[^a-zA-Z0-9_-]/g, "-")}`;
  const described = [f.hint ? `${id}-hint` : null, f.error ? `${id}-err` : null].filter(Boolean).join(" ");
  return html`<div class="field">
  <label for="${id}">${f.label}</label>
  ${f.hint ? html`<span class="hint" id="${id}-hint">${f.hint}</span>` : null}
  <input id="${id}" name="${f.name}" type="${f.type ?? "text"}" value="${f.value ?? ""}"${
    described ? html` aria-describedby="${described}"` : null
  }${f.error ? html` aria-invalid="true"` : null} ${f.attrs ?? null}>
  ${f.error ? html`<span class="err" id="${id}-err">${c.t(f.error)}</span>` : null}
</div>`;
}

/** A labelled textarea with its hint and error, wired like `field`. */
export function textarea(
  c: Ctx,
  f: {
    name: string;
    label: string;
    value: string | null | undefined;
    rows?: number;
    hint?: string | null;
    error?: string | null;
    attrs?: Html | null;
  },
): Html {
  const id = `f-${f.name.replace(/[^a-zA-Z0-9_-]/g, "-")}`;
  const described = [f.hint ? `${id}-hint` : null, f.error ? `${id}-err` : null].filter(Boolean).join(" ");
  return html`<div class="field">
  <label for="${id}">${f.label}</label>
  ${f.hint ? html`<span class="hint" id="${id}-hint">${f.hint}</span>` : null}
  <textarea id="${id}" name="${f.name}" rows="${f.rows ?? 3}"${described ? html` aria-describedby="${described}"` : null}${
    f.error ? html` aria-invalid="true"` : null
  } ${f.attrs ?? null}>${f.value ?? ""}</textarea>
  ${f.error ? html`<span class="err" id="${id}-err">${c.t(f.error)}</span>` : null}
</div>`;
}

export function errorSummary(c: Ctx, errors: FieldErrors | null | undefined): Html | null {
  if (!errors || Object.keys(errors).length === 0) return null;
  return html`<p class="notice error" role="alert">${c.t(errors._form ?? "form-has-errors")}</p>`;
}
