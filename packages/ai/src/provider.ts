/**
 * One interface for every AI backend: Workers AI in production, any OpenAI-compatible server,
 * or the deterministic offline provider used locally and in tests.
 */
export type ChatMessage = { role: "user" | "assistant"; content: string };

export type GenerateRequest = {
  system: string;
  messages: ChatMessage[];
  maxTokens?: number;
  signal?: AbortSignal;
};

export interface AiProvider {
  readonly name: string;
  /** Which model `embed` uses: vectors of different models are never compared. */
  readonly embeddingModel: string;
  /** A reply from the reply model. */
  generate(req: GenerateRequest): Promise<{ text: string }>;
  /** The small model: injection scan and safety classification. */
  classify(req: GenerateRequest): Promise<{ text: string }>;
  /** One unit-length embedding per text. */
  embed(texts: string[], signal?: AbortSignal): Promise<number[][]>;
}

/** Cosine similarity; for unit vectors this is the dot product. */
export function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}
