import { type AiProvider, cosine } from "@concierge/ai";
import { createLogger, errorFields } from "@concierge/core";
import { type Match, type ReplyConfig, matchReplyLazy, needsEmbedding } from "@concierge/rules";
import type { RuleEmbeddings, StoredReplyConfig } from "@concierge/storage";

const log = createLogger("pipeline.rules");

/**
 * Embeds every `prompt` matcher's description, once, at save time. A description that has not
 * changed since the last save (same text, same model) keeps its vector.
 */
export async function embedRules(
  ai: AiProvider,
  config: ReplyConfig,
  previous: RuleEmbeddings | null,
): Promise<RuleEmbeddings> {
  const out: RuleEmbeddings = { model: ai.embeddingModel, rules: {} };
  const todo: { id: string; description: string }[] = [];
  for (const rule of config.rules) {
    if (rule.matcher.kind !== "prompt") continue;
    const old = previous?.model === ai.embeddingModel ? previous.rules[rule.id] : undefined;
    if (old && old.description === rule.matcher.description) out.rules[rule.id] = old;
    else todo.push({ id: rule.id, description: rule.matcher.description });
  }
  if (todo.length > 0) {
    const vectors = await ai.embed(todo.map((t) => t.description));
    todo.forEach((t, i) => {
      out.rules[t.id] = { description: t.description, vector: vectors[i]! };
    });
  }
  return out;
}

/**
 * Matches a turn against the rules. The customer's text is embedded at most once, and only when
 * the walk reaches an intent rule (a keyword rule that matches first means no embedding call); if
 * embedding fails, embedding rules simply do not match this time.
 */
export async function matchTurn(ai: AiProvider, stored: StoredReplyConfig, text: string): Promise<Match> {
  const usable = needsEmbedding(stored.config) && stored.embeddings.model === ai.embeddingModel;
  let vector: Promise<number[] | null> | null = null;
  const embedOnce = () => {
    vector ??= ai.embed([text]).then(
      ([v]) => v ?? null,
      (err: unknown) => {
        log.warn("rules.embed_failed", errorFields(err));
        return null;
      },
    );
    return vector;
  };
  return matchReplyLazy(stored.config, text, async (rule) => {
    const saved = stored.embeddings.rules[rule.id];
    if (!usable || !saved) return null;
    const v = await embedOnce();
    return v ? cosine(v, saved.vector) : null;
  });
}
