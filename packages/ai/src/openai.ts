import * as v from "valibot";
import { DEFAULT_TIMEOUT_MS, type Models, withTimeout } from "./models.ts";
import type { AiProvider, GenerateRequest } from "./provider.ts";

const ChatResponse = v.object({
  choices: v.pipe(
    v.array(v.object({ message: v.object({ content: v.nullable(v.string()) }) })),
    v.minLength(1),
  ),
});
const EmbeddingsResponse = v.object({
  data: v.array(v.object({ embedding: v.array(v.number()), index: v.number() })),
});

export type OpenAiOptions = {
  /** `OPENAI_BASE_URL`, e.g. http://127.0.0.1:11434/v1 for a local Ollama. */
  baseUrl: string;
  apiKey?: string;
  models: Models;
  timeoutMs?: number;
  fetch?: typeof fetch;
};

/** Any OpenAI-compatible server: /chat/completions and /embeddings. */
export function openAiProvider(o: OpenAiOptions): AiProvider {
  const doFetch = o.fetch ?? fetch;
  const timeout = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const post = async (path: string, body: unknown, signal: AbortSignal) => {
    const res = await doFetch(`${o.baseUrl.replace(/\/$/, "")}${path}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(o.apiKey ? { authorization: `Bearer ${o.apiKey}` } : {}),
      },
      body: JSON.stringify(body),
      signal,
    });
    if (!res.ok) throw new Error(`AI server answered ${res.status} on ${path}`);
    return res.json();
  };
  const chat = (model: string, what: string) => (req: GenerateRequest) =>
    withTimeout(what, timeout, async (signal) => {
      const out = v.parse(
        ChatResponse,
        await post(
          "/chat/completions",
          {
            model,
            messages: [{ role: "system", content: req.system }, ...req.messages],
            max_tokens: req.maxTokens ?? 400,
          },
          signal,
        ),
      );
      return { text: out.choices[0]!.message.content ?? "" };
    });
  return {
    name: "openai",
    embeddingModel: o.models.embedding,
    generate: chat(o.models.reply, "generation"),
    classify: chat(o.models.small, "classification"),
    embed: (texts) =>
      withTimeout("embedding", timeout, async (signal) => {
        const out = v.parse(
          EmbeddingsResponse,
          await post("/embeddings", { model: o.models.embedding, input: texts }, signal),
        );
        return [...out.data].sort((a, b) => a.index - b.index).map((d) => d.embedding);
      }),
  };
}
