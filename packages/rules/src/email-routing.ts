import * as v from "valibot";

/**
 * Routing rules for mail arriving at a tenant's email subdomain (PRODUCT.md §1 Email).
 * Pure: no bindings, no I/O. Rules are checked in priority order and the LAST matching rule
 * wins, so a tenant can put broad rules first and narrow exceptions after them.
 */

export const MAX_EMAIL_RULES = 100;
export const MAX_GLOB_LENGTH = 200;

/** Control characters and line/paragraph separators: none may reach an SMTP reply line. */
const NOT_PRINTABLE = /[\p{Cc}\p{Zl}\p{Zp}]/u;

export const EmailActionSchema = v.variant("kind", [
  v.object({ kind: v.literal("drop") }),
  v.object({
    kind: v.literal("reject"),
    // The reason is handed to the receiving MTA as the SMTP rejection text.
    reason: v.pipe(
      v.string(),
      v.trim(),
      v.minLength(1, "Give a reason for rejecting."),
      v.maxLength(200, "The reason is at most 200 characters."),
      v.check((s) => !NOT_PRINTABLE.test(s), "The reason must be a single line of printable text."),
    ),
  }),
  v.object({
    kind: v.literal("forward"),
    addressId: v.pipe(v.string(), v.trim(), v.minLength(1, "Choose a forwarding address."), v.maxLength(64)),
  }),
  v.object({ kind: v.literal("relay") }),
  v.object({ kind: v.literal("auto_reply") }),
]);
export type EmailAction = v.InferOutput<typeof EmailActionSchema>;

const Glob = v.pipe(
  v.string(),
  v.minLength(1, "A pattern cannot be empty."),
  v.maxLength(MAX_GLOB_LENGTH, `A pattern is at most ${MAX_GLOB_LENGTH} characters.`),
);

export const EmailCriteriaSchema = v.pipe(
  v.object({
    from: v.optional(Glob),
    to: v.optional(Glob),
    subject: v.optional(Glob),
    body: v.optional(Glob),
    hasAttachment: v.optional(v.boolean()),
  }),
  v.check(
    (c) =>
      c.from !== undefined ||
      c.to !== undefined ||
      c.subject !== undefined ||
      c.body !== undefined ||
      c.hasAttachment !== undefined,
    "A rule needs at least one condition.",
  ),
);
export type EmailCriteria = v.InferOutput<typeof EmailCriteriaSchema>;

export const EmailRoutingRuleSchema = v.object({
  id: v.pipe(v.string(), v.trim(), v.minLength(1, "A rule needs an id."), v.maxLength(64)),
  name: v.optional(
    v.pipe(v.string(), v.trim(), v.maxLength(80, "A rule name is at most 80 characters.")),
    "",
  ),
  priority: v.pipe(
    v.number(),
    v.integer("The priority is a whole number."),
    v.minValue(0, "The priority is at least 0."),
    v.maxValue(10_000, "The priority is at most 10000."),
  ),
  when: EmailCriteriaSchema,
  action: EmailActionSchema,
});
export type EmailRoutingRule = v.InferOutput<typeof EmailRoutingRuleSchema>;

export const EmailRoutingSchema = v.object({
  rules: v.pipe(
    v.array(EmailRoutingRuleSchema),
    v.maxLength(MAX_EMAIL_RULES, `At most ${MAX_EMAIL_RULES} rules per address.`),
    v.check((rules) => new Set(rules.map((r) => r.id)).size === rules.length, "Rule ids must be unique."),
  ),
  defaultAction: EmailActionSchema,
});
export type EmailRouting = v.InferOutput<typeof EmailRoutingSchema>;

/** What a rule can look at, taken from a parsed message and its envelope. */
export type EmailFacts = { from: string; to: string; subject: string; body: string; hasAttachment: boolean };

export type ParseEmailRoutingResult = { ok: true; routing: EmailRouting } | { ok: false; issues: string[] };

/** Save-time validation: readable issues ("rules.0.when: …") instead of a thrown error. */
export function parseEmailRouting(json: unknown): ParseEmailRoutingResult {
  const r = v.safeParse(EmailRoutingSchema, json);
  if (r.success) return { ok: true, routing: r.output };
  return {
    ok: false,
    issues: r.issues.map((i) => {
      const path = v.getDotPath(i);
      return path ? `${path}: ${i.message}` : i.message;
    }),
  };
}

/**
 * One entry per code point, lowercased on its own, so that `?` always stands for exactly one
 * character of the original text even where lowercasing changes the length (e.g. "İ").
 */
function foldedCodePoints(s: string): string[] {
  const out: string[] = [];
  for (const ch of s) out.push(ch.toLowerCase());
  return out;
}

function matchFolded(p: readonly string[], s: readonly string[]): boolean {
  // Iterative wildcard matching: on a mismatch we only ever return to the most recent `*`,
  // which is enough because an earlier `*` can absorb nothing the later one could not.
  // Worst case O(|p|·|s|), no exponential backtracking whatever the pattern.
  let pi = 0;
  let si = 0;
  let star = -1;
  let mark = 0;
  while (si < s.length) {
    const pc = p[pi];
    if (pc === "*") {
      star = pi++;
      mark = si;
    } else if (pc !== undefined && (pc === "?" || pc === s[si])) {
      pi++;
      si++;
    } else if (star !== -1) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (p[pi] === "*") pi++;
  return pi === p.length;
}

/**
 * Case-insensitive whole-string glob: `*` is any run (also empty), `?` exactly one character
 * (code point), everything else literal.
 */
export function globMatch(pattern: string, value: string): boolean {
  return matchFolded(foldedCodePoints(pattern), foldedCodePoints(value));
}

type CompiledGlob = readonly string[];
type CompiledRule = {
  rule: EmailRoutingRule;
  from?: CompiledGlob;
  to?: CompiledGlob;
  subject?: CompiledGlob;
  body?: CompiledGlob;
};

export type CompiledEmailRouting = {
  /** Priority order, ascending; ties keep list order. */
  readonly rules: readonly CompiledRule[];
  readonly defaultAction: EmailAction;
};

/** Done once when configuration is loaded, not per message. */
export function compileEmailRouting(r: EmailRouting): CompiledEmailRouting {
  const rules = r.rules
    .map((rule, index) => ({ rule, index }))
    .sort((a, b) => a.rule.priority - b.rule.priority || a.index - b.index)
    .map(({ rule }): CompiledRule => {
      const c: CompiledRule = { rule };
      if (rule.when.from !== undefined) c.from = foldedCodePoints(rule.when.from);
      if (rule.when.to !== undefined) c.to = foldedCodePoints(rule.when.to);
      if (rule.when.subject !== undefined) c.subject = foldedCodePoints(rule.when.subject);
      if (rule.when.body !== undefined) c.body = foldedCodePoints(rule.when.body);
      return c;
    });
  return { rules, defaultAction: r.defaultAction };
}

function ruleMatches(c: CompiledRule, f: EmailFacts, folded: () => FoldedFacts): boolean {
  const want = c.rule.when.hasAttachment;
  if (want !== undefined && want !== f.hasAttachment) return false;
  if (c.from && !matchFolded(c.from, folded().from)) return false;
  if (c.to && !matchFolded(c.to, folded().to)) return false;
  if (c.subject && !matchFolded(c.subject, folded().subject)) return false;
  if (c.body && !matchFolded(c.body, folded().body)) return false;
  return true;
}

type FoldedFacts = { from: string[]; to: string[]; subject: string[]; body: string[] };

export function routeEmail(
  c: CompiledEmailRouting,
  facts: EmailFacts,
): { rule: EmailRoutingRule | null; action: EmailAction } {
  let cache: FoldedFacts | undefined;
  const folded = () => {
    cache ??= {
      from: foldedCodePoints(facts.from),
      to: foldedCodePoints(facts.to),
      subject: foldedCodePoints(facts.subject),
      body: foldedCodePoints(facts.body),
    };
    return cache;
  };
  // The last match in priority order wins, so the first match walking backwards is the answer.
  for (let i = c.rules.length - 1; i >= 0; i--) {
    const rule = c.rules[i]!;
    if (ruleMatches(rule, facts, folded)) return { rule: rule.rule, action: rule.rule.action };
  }
  return { rule: null, action: c.defaultAction };
}
