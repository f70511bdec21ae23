import * as v from "valibot";
import { DEFAULT_MODELS, DEFAULT_TIMEOUT_MS, type Models, withTimeout } from "./models.ts";
import type { AiProvider, GenerateRequest } from "./provider.ts";

/** The part of the Workers AI binding this uses. */
export type AiBinding = { run(model: string, input: Record<string, unknown>): Promise<unknown> };

const TextResponse = v.object({ response: v.string() });
const EmbeddingResponse = v.object({ data: v.array(v.array(v.number())) });

function messages(req: GenerateRequest) {
  return [{ role: "system", content: req.system }, ...req.messages];
}

/** Workers AI through the `AI` binding (production). */
export function workersAiProvider(
  ai: AiBinding,
  models: Models = DEFAULT_MODELS,
  timeoutMs = DEFAULT_TIMEOUT_MS,
): AiProvider {
  const chat = (model: string, what: string) => (req: GenerateRequest) =>
    withTimeout(what, timeoutMs, async () => {
      const out = v.parse(
        TextResponse,
        await ai.run(model, { messages: messages(req), max_tokens: req.maxTokens ?? 400 }),
      );
      return { text: out.response };
    });
  return {
    name: "workers-ai",
    embeddingModel: models.embedding,
    generate: chat(models.reply, "generation"),
    classify: chat(models.small, "classification"),
    embed: (texts) =>
      withTimeout(
        "embedding",
        timeoutMs,
        async () => v.parse(EmbeddingResponse, await ai.run(models.embedding, { text: texts })).data,
      ),
  };
}
