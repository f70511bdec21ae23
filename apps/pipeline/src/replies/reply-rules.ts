import { type AiProvider, cosine } from "@concierge/ai";
import { createLogger, errorFields } from "@concierge/core";
import { type Match, type ReplyConfig, matchReply, needsEmbedding } from "@concierge/rules";
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
 * an embedding rule exists; if embedding fails, embedding rules simply do not match this time.
 */
export async function matchTurn(ai: AiProvider, stored: StoredReplyConfig, text: string): Promise<Match> {
  let vector: number[] | null = null;
  if (needsEmbedding(stored.config) && stored.embeddings.model === ai.embeddingModel) {
    try {
      [vector = null] = await ai.embed([text]);
    } catch (err) {
      log.warn("rules.embed_failed", errorFields(err));
    }
  }
  return matchReply(stored.config, text, (rule) => {
    const saved = stored.embeddings.rules[rule.id];
    return vector && saved ? cosine(vector, saved.vector) : null;
  });
}
