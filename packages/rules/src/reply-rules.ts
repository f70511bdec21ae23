import * as v from "valibot";
import { OutsideHoursSchema } from "./hours.ts";

/**
 * Reply rules, in the JSON shape of the product documents: an ordered list checked top-down
 * (first match wins) and a mandatory default rule. Pure: no bindings, no I/O.
 */

export const MAX_RULES = 50;
export const DEFAULT_THRESHOLD = 0.72;
export const DEFAULT_WAIT_SECONDS = 5;

const Text = (max: number) => v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(max));

export const KeywordMatcherSchema = v.object({
  kind: v.literal("static_text"),
  keywords: v.pipe(
    v.array(Text(100)),
    v.minLength(1, "Give at least one keyword."),
    v.maxLength(50, "At most 50 keywords per rule."),
  ),
});

export const PromptMatcherSchema = v.object({
  kind: v.literal("prompt"),
  description: Text(500),
  threshold: v.optional(
    v.pipe(
      v.number(),
      v.minValue(0.5, "The threshold is at least 0.5."),
      v.maxValue(0.95, "The threshold is at most 0.95."),
    ),
    DEFAULT_THRESHOLD,
  ),
});

export const MatcherSchema = v.variant("kind", [KeywordMatcherSchema, PromptMatcherSchema]);

/**
 * What a matched rule answers with: a fixed text, the AI (the text is the rule's prompt), or a
 * hand-off to a person (the text is the holding sentence the customer gets; then the bot stays
 * silent and the tenant is paged once). A hand-off needs neither credits nor a persona.
 */
export const ResponseSchema = v.variant("kind", [
  v.object({ kind: v.literal("canned"), text: Text(4096) }),
  v.object({ kind: v.literal("prompt"), text: Text(2000) }),
  v.object({ kind: v.literal("handoff"), text: Text(4096) }),
]);
export type RuleResponse = v.InferOutput<typeof ResponseSchema>;

export const ApprovalSchema = v.optional(v.picklist(["auto", "always"]), "auto");

const RuleId = v.pipe(
  v.string(),
  v.trim(),
  v.regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "Rule ids are lowercase letters, digits, - and _ (at most 64)."),
);

export const ReplyRuleSchema = v.object({
  id: RuleId,
  label: v.optional(v.pipe(v.string(), v.trim(), v.maxLength(100)), ""),
  matcher: MatcherSchema,
  response: ResponseSchema,
  approval: ApprovalSchema,
});
export type ReplyRule = v.InferOutput<typeof ReplyRuleSchema>;

/** The default rule fires when nothing else matches, so it has no matcher of its own. */
export const DefaultRuleSchema = v.object({
  id: v.optional(RuleId, "default"),
  label: v.optional(v.pipe(v.string(), v.trim(), v.maxLength(100)), "Default"),
  response: ResponseSchema,
  approval: ApprovalSchema,
});
export type DefaultRule = v.InferOutput<typeof DefaultRuleSchema>;

export const ReplyConfigSchema = v.pipe(
  v.object({
    enabled: v.optional(v.boolean(), true),
    rules: v.optional(
      v.pipe(v.array(ReplyRuleSchema), v.maxLength(MAX_RULES, `At most ${MAX_RULES} rules per channel.`)),
      [],
    ),
    default_rule: DefaultRuleSchema,
    wait_seconds: v.optional(
      v.pipe(
        v.number(),
        v.integer(),
        v.minValue(0, "Wait is 0 to 30 seconds."),
        v.maxValue(30, "Wait is 0 to 30 seconds."),
      ),
      DEFAULT_WAIT_SECONDS,
    ),
    /** Outside the tenant's business hours (hours.ts); absent: the rules answer as usual. */
    outside_hours: v.optional(OutsideHoursSchema),
  }),
  v.check((c) => new Set(c.rules.map((r) => r.id)).size === c.rules.length, "Each rule needs its own id."),
);
export type ReplyConfig = v.InferOutput<typeof ReplyConfigSchema>;

export type ParseResult<T> =
  | { ok: true; value: T }
  | { ok: false; issues: { path: string; message: string }[] };

/** Validates untrusted input (dashboard form, RPC) with field paths a form can show. */
export function parseReplyConfig(input: unknown): ParseResult<ReplyConfig> {
  const r = v.safeParse(ReplyConfigSchema, input);
  if (r.success) return { ok: true, value: r.output };
  return {
    ok: false,
    issues: r.issues.map((i) => ({ path: v.getDotPath(i) ?? "", message: i.message })),
  };
}

/**
 * Keyword matching compares normalized, lower-cased text. Normalizing once per message and once
 * per keyword at save time keeps the per-message work to substring searches.
 */
export function normalizeForMatch(text: string): string {
  return text.normalize("NFKC").toLowerCase();
}

/**
 * The intent rule a message came closest to without reaching that rule's threshold: what the test
 * panel shows when the default reply answers, so the owner can see whether to lower a threshold
 * or reword an intent. Costs nothing extra: a message that reaches the default was already scored
 * against every intent rule.
 */
export type NearMiss = { rule: ReplyRule; score: number; threshold: number };

export type Match =
  | { via: "keyword"; rule: ReplyRule; keyword: string }
  | { via: "embedding"; rule: ReplyRule; score: number }
  | { via: "default"; rule: DefaultRule; closest: NearMiss | null };

/** The better of two near misses: the higher score; the earlier rule on a tie. */
function nearer(best: NearMiss | null, rule: ReplyRule, score: number, threshold: number): NearMiss | null {
  return best !== null && best.score >= score ? best : { rule, score, threshold };
}

/**
 * Similarity of the message to a `prompt` matcher's description, or null when no embedding is
 * available (no embedding rule, or the embedder is down): the rule then simply does not match.
 */
export type Similarity = (rule: ReplyRule) => number | null;

export function matchReply(config: ReplyConfig, text: string, similarity: Similarity = () => null): Match {
  const normalized = normalizeForMatch(text);
  let closest: NearMiss | null = null;
  for (const rule of config.rules) {
    const m = rule.matcher;
    if (m.kind === "static_text") {
      const hit = m.keywords.find((k) => normalized.includes(normalizeForMatch(k)));
      if (hit !== undefined) return { via: "keyword", rule, keyword: hit };
    } else {
      const score = similarity(rule);
      if (score === null) continue;
      if (score >= m.threshold) return { via: "embedding", rule, score };
      closest = nearer(closest, rule, score, m.threshold);
    }
  }
  return { via: "default", rule: config.default_rule, closest };
}

/**
 * `matchReply` for a similarity that costs something (an embedding call): rules are tried in
 * order, and `similarity` is asked only when the walk reaches an intent rule, so a keyword rule
 * that matches first means the message is never embedded.
 */
export async function matchReplyLazy(
  config: ReplyConfig,
  text: string,
  similarity: (rule: ReplyRule) => Promise<number | null>,
): Promise<Match> {
  const normalized = normalizeForMatch(text);
  let closest: NearMiss | null = null;
  for (const rule of config.rules) {
    const m = rule.matcher;
    if (m.kind === "static_text") {
      const hit = m.keywords.find((k) => normalized.includes(normalizeForMatch(k)));
      if (hit !== undefined) return { via: "keyword", rule, keyword: hit };
    } else {
      const score = await similarity(rule);
      if (score === null) continue;
      if (score >= m.threshold) return { via: "embedding", rule, score };
      closest = nearer(closest, rule, score, m.threshold);
    }
  }
  return { via: "default", rule: config.default_rule, closest };
}

/** Whether a turn needs the message embedded at all (only when an embedding rule exists). */
export function needsEmbedding(config: ReplyConfig): boolean {
  return config.rules.some((r) => r.matcher.kind === "prompt");
}
