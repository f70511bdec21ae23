import { msg } from "@concierge/i18n";
import {
  DEFAULT_THRESHOLD,
  type DefaultRule,
  MAX_RULES,
  type OutsideHours,
  type ReplyConfig,
  type ReplyRule,
} from "@concierge/rules";
import * as v from "valibot";
import { type FieldErrors, num, str, validate } from "../forms.ts";

/**
 * The reply rule editor's forms: their shape, as typed (kept on errors), and their checks with
 * Fluent message ids. The pipeline's `saveReplyConfig` validates the whole config again.
 */

export const MAX_KEYWORDS = 50;
export const MAX_TEST_TEXT = 4096;
/** The default rule's id, kept out of the ids a rule may take so a test result is never ambiguous. */
const RESERVED_IDS = new Set(["default"]);

/** A rule form as typed: every field a string, so it can be shown again exactly. */
export type RuleValues = {
  label: string;
  id: string;
  matcherKind: string;
  keywords: string;
  description: string;
  threshold: string;
  responseKind: string;
  responseText: string;
  approval: string;
};

export type DefaultValues = Pick<RuleValues, "responseKind" | "responseText" | "approval">;
export type SettingsValues = { enabled: boolean; waitSeconds: string; outsideMode: string; awayText: string };

export function emptyRuleValues(): RuleValues {
  return {
    label: "",
    id: "",
    matcherKind: "static_text",
    keywords: "",
    description: "",
    threshold: String(DEFAULT_THRESHOLD),
    responseKind: "canned",
    responseText: "",
    approval: "auto",
  };
}

export function ruleValues(rule: ReplyRule): RuleValues {
  const m = rule.matcher;
  return {
    label: rule.label,
    id: rule.id,
    matcherKind: m.kind,
    keywords: m.kind === "static_text" ? m.keywords.join("\n") : "",
    description: m.kind === "prompt" ? m.description : "",
    threshold: String(m.kind === "prompt" ? m.threshold : DEFAULT_THRESHOLD),
    responseKind: rule.response.kind,
    responseText: rule.response.text,
    approval: rule.approval,
  };
}

export function defaultValues(rule: DefaultRule): DefaultValues {
  return { responseKind: rule.response.kind, responseText: rule.response.text, approval: rule.approval };
}

export function readRuleValues(form: FormData): RuleValues {
  return {
    label: str(form, "label"),
    id: str(form, "id"),
    matcherKind: str(form, "matcherKind"),
    keywords: str(form, "keywords"),
    description: str(form, "description"),
    threshold: str(form, "threshold"),
    responseKind: str(form, "responseKind"),
    responseText: str(form, "responseText"),
    approval: str(form, "approval"),
  };
}

export function readDefaultValues(form: FormData): DefaultValues {
  return {
    responseKind: str(form, "responseKind"),
    responseText: str(form, "responseText"),
    approval: str(form, "approval"),
  };
}

export function readSettingsValues(form: FormData): SettingsValues {
  return {
    enabled: str(form, "enabled") === "on",
    waitSeconds: str(form, "waitSeconds"),
    outsideMode: str(form, "outsideMode"),
    awayText: str(form, "awayText"),
  };
}

/** Keywords typed one per line or separated by commas; blanks and repeats dropped. */
export function splitKeywords(raw: string): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const part of raw.split(/[,\n\r]+/)) {
    const k = part.trim();
    if (k && !seen.has(k.toLowerCase())) {
      seen.add(k.toLowerCase());
      out.push(k);
    }
  }
  return out;
}

/** A rule id from its label: lowercase ASCII letters, digits and dashes. */
export function slugify(label: string): string {
  const slug = label
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+/, "")
    .slice(0, 48)
    .replace(/-+$/, "");
  return slug || "rule";
}

export function uniqueId(base: string, taken: ReadonlySet<string>): string {
  if (!taken.has(base) && !RESERVED_IDS.has(base)) return base;
  for (let i = 2; ; i++) {
    const id = `${base}-${i}`;
    if (!taken.has(id)) return id;
  }
}

const text = (required: string, max: number, tooLong: string) =>
  v.pipe(v.string(), v.trim(), v.minLength(1, required), v.maxLength(max, tooLong));

const ResponseSchema = v.pipe(
  v.object({
    responseKind: v.picklist(["canned", "prompt", "handoff"], msg("rules-err-response-kind")),
    responseText: text(msg("rules-err-response-required"), 4096, msg("rules-err-canned-long")),
    approval: v.picklist(["auto", "always"], msg("rules-err-approval")),
  }),
  v.forward(
    v.check(
      (r) => r.responseKind !== "prompt" || r.responseText.length <= 2000,
      msg("rules-err-prompt-long"),
    ),
    ["responseText"],
  ),
);

const BaseRuleSchema = v.object({
  label: text(msg("rules-err-label-required"), 100, msg("rules-err-label-long")),
  id: v.pipe(v.string(), v.trim(), v.regex(/^(?:[a-z0-9][a-z0-9_-]{0,63})?$/, msg("rules-err-id-format"))),
  matcherKind: v.picklist(["static_text", "prompt"], msg("rules-err-matcher-kind")),
});

const KeywordsSchema = v.object({
  keywords: v.pipe(
    v.array(v.pipe(v.string(), v.maxLength(100, msg("rules-err-keyword-long")))),
    v.minLength(1, msg("rules-err-keywords-required")),
    v.maxLength(MAX_KEYWORDS, msg("rules-err-keywords-many")),
  ),
});

const IntentSchema = v.object({
  description: text(msg("rules-err-description-required"), 500, msg("rules-err-description-long")),
  threshold: v.pipe(
    v.number(msg("rules-err-threshold-range")),
    v.minValue(0.5, msg("rules-err-threshold-range")),
    v.maxValue(0.95, msg("rules-err-threshold-range")),
  ),
});

/** Errors keyed by the form's field names ("keywords.3" is the keywords box). */
function merge(...results: ({ ok: true } | { ok: false; errors: FieldErrors })[]): FieldErrors | null {
  const errors: FieldErrors = {};
  for (const r of results) {
    if (r.ok) continue;
    for (const [k, m] of Object.entries(r.errors)) errors[k.split(".")[0]!] ??= m;
  }
  return Object.keys(errors).length ? errors : null;
}

/**
 * Checks a rule form against the account's other rules and builds the rule. `editing` is the id
 * of the rule being edited (null for a new one), whose own id is not a clash.
 */
export function parseRule(
  values: RuleValues,
  config: ReplyConfig,
  editing: string | null,
): { ok: true; rule: ReplyRule } | { ok: false; errors: FieldErrors } {
  const base = validate(BaseRuleSchema, values);
  const response = validate(ResponseSchema, values);
  const matcher =
    values.matcherKind === "prompt"
      ? validate(IntentSchema, {
          description: values.description,
          threshold: values.threshold.trim() === "" ? Number.NaN : Number(values.threshold),
        })
      : validate(KeywordsSchema, { keywords: splitKeywords(values.keywords) });
  const errors = merge(base, response, matcher) ?? {};
  const taken = new Set(config.rules.filter((r) => r.id !== editing).map((r) => r.id));
  if (
    !errors.id &&
    base.ok &&
    base.value.id &&
    (taken.has(base.value.id) || RESERVED_IDS.has(base.value.id))
  ) {
    errors.id = msg("rules-err-id-taken");
  }
  if (editing === null && config.rules.length >= MAX_RULES) errors._form = msg("rules-err-too-many");
  if (Object.keys(errors).length || !base.ok || !response.ok || !matcher.ok) return { ok: false, errors };
  const id = base.value.id || uniqueId(slugify(base.value.label), taken);
  const m = matcher.value;
  return {
    ok: true,
    rule: {
      id,
      label: base.value.label,
      matcher:
        "keywords" in m
          ? { kind: "static_text", keywords: m.keywords }
          : { kind: "prompt", description: m.description, threshold: m.threshold },
      response: { kind: response.value.responseKind, text: response.value.responseText },
      approval: response.value.approval,
    },
  };
}

export function parseDefault(
  values: DefaultValues,
): { ok: true; rule: Omit<DefaultRule, "id" | "label"> } | { ok: false; errors: FieldErrors } {
  const r = validate(ResponseSchema, values);
  if (!r.ok) return { ok: false, errors: merge(r) ?? {} };
  return {
    ok: true,
    rule: {
      response: { kind: r.value.responseKind, text: r.value.responseText },
      approval: r.value.approval,
    },
  };
}

const WaitSchema = v.pipe(
  v.number(msg("err-number")),
  v.integer(msg("err-integer")),
  v.minValue(0, msg("rules-err-wait-range")),
  v.maxValue(30, msg("rules-err-wait-range")),
);

/** What the channel does outside business hours (packages/rules `OutsideHoursSchema`). */
const OutsideFormSchema = v.variant(
  "outsideMode",
  [
    v.object({ outsideMode: v.literal("rules") }),
    v.object({ outsideMode: v.literal("silence") }),
    v.object({
      outsideMode: v.literal("away"),
      awayText: v.pipe(
        v.string(),
        v.trim(),
        v.minLength(1, msg("rules-settings-away-empty")),
        v.maxLength(1000, msg("rules-settings-away-long")),
      ),
    }),
  ],
  msg("rules-settings-outside-pick"),
);

export function parseSettings(
  form: FormData,
):
  | { ok: true; enabled: boolean; waitSeconds: number; outsideHours: OutsideHours | null }
  | { ok: false; errors: FieldErrors } {
  const r = validate(v.object({ waitSeconds: WaitSchema }), { waitSeconds: num(form, "waitSeconds") });
  // A page from before the choice existed sends none: the saved choice stays (null), unchanged.
  const mode = str(form, "outsideMode");
  const o = mode ? validate(OutsideFormSchema, { outsideMode: mode, awayText: str(form, "awayText") }) : null;
  if (!r.ok || (o && !o.ok)) {
    return { ok: false, errors: { ...(r.ok ? {} : r.errors), ...(o && !o.ok ? o.errors : {}) } };
  }
  const outsideHours: OutsideHours | null = !o?.ok
    ? null
    : o.value.outsideMode === "away"
      ? { mode: "away", text: o.value.awayText }
      : { mode: o.value.outsideMode };
  return { ok: true, enabled: str(form, "enabled") === "on", waitSeconds: r.value.waitSeconds, outsideHours };
}

export const TestTextSchema = v.object({
  text: v.pipe(
    v.string(),
    v.check((s) => s.trim().length > 0, msg("rules-test-err-empty")),
    v.maxLength(MAX_TEST_TEXT, msg("rules-test-err-long")),
  ),
});

/** Where a `saveReplyConfig` field path points in the rule form, default form or settings form. */
export function fieldForPath(path: string): string {
  const p = path.replace(/^rules\.\d+\./, "").replace(/^default_rule\./, "");
  if (p.startsWith("matcher.keywords")) return "keywords";
  if (p.startsWith("matcher.description")) return "description";
  if (p.startsWith("matcher.threshold")) return "threshold";
  if (p.startsWith("response.text")) return "responseText";
  if (p.startsWith("response.kind")) return "responseKind";
  if (p === "id" || p === "label" || p === "approval") return p;
  if (p === "wait_seconds") return "waitSeconds";
  return "_form";
}
