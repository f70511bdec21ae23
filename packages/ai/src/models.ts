/** Default models (PRODUCT.md §3); each can be overridden by configuration. */
export const DEFAULT_MODELS = {
  reply: "@cf/meta/llama-4-scout-17b-16e-instruct",
  small: "@cf/meta/llama-3.1-8b-instruct-fast",
  embedding: "@cf/baai/bge-base-en-v1.5",
} as const;
export type Models = { reply: string; small: string; embedding: string };

/** Every call has a deadline: a hung model must not hold a customer's turn forever. */
export const DEFAULT_TIMEOUT_MS = 20_000;

export class AiTimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} timed out after ${ms} ms`);
    this.name = "AiTimeoutError";
  }
}

export async function withTimeout<T>(
  what: string,
  ms: number,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new AiTimeoutError(what, ms));
    }, ms);
  });
  try {
    return await Promise.race([run(controller.signal), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
