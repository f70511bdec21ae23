import { DEFAULT_MODELS, type Models } from "./models.ts";
import { offlineProvider } from "./offline.ts";
import { openAiProvider } from "./openai.ts";
import type { AiProvider } from "./provider.ts";
import { type AiBinding, workersAiProvider } from "./workers-ai.ts";

export type AiEnv = {
  AI_PROVIDER?: string;
  AI?: AiBinding;
  OPENAI_BASE_URL?: string;
  OPENAI_API_KEY?: string;
  AI_REPLY_MODEL?: string;
  AI_SMALL_MODEL?: string;
  AI_EMBEDDING_MODEL?: string;
};

/** `AI_PROVIDER` = workers-ai (production) | openai | offline (the local default). */
export function createAiProvider(env: AiEnv): AiProvider {
  const models: Models = {
    reply: env.AI_REPLY_MODEL || DEFAULT_MODELS.reply,
    small: env.AI_SMALL_MODEL || DEFAULT_MODELS.small,
    embedding: env.AI_EMBEDDING_MODEL || DEFAULT_MODELS.embedding,
  };
  switch (env.AI_PROVIDER ?? "offline") {
    case "workers-ai":
      if (!env.AI) throw new Error("AI_PROVIDER=workers-ai needs the AI binding");
      return workersAiProvider(env.AI, models);
    case "openai":
      if (!env.OPENAI_BASE_URL) throw new Error("AI_PROVIDER=openai needs OPENAI_BASE_URL");
      return openAiProvider({ baseUrl: env.OPENAI_BASE_URL, apiKey: env.OPENAI_API_KEY, models });
    case "offline":
      return offlineProvider();
    default:
      throw new Error(`unknown AI_PROVIDER "${env.AI_PROVIDER}" (workers-ai, openai or offline)`);
  }
}
