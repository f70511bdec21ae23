import type { AiBinding } from "@concierge/ai";
import type { SafetyJob } from "@concierge/core";

/**
 * The pipeline's bindings: the generated `Env` of wrangler.jsonc (worker-configuration.d.ts),
 * with the queue's payload typed and the variables that only some environments set made
 * optional. Nothing outside the pipeline type-checks this source: other Workers see only the
 * contracts in `packages/core`.
 */
export type PipelineEnv = Omit<Env, "SAFETY" | "AI" | "EMAIL_OUTBOX_URL"> & {
  /** Persona safety checks: ids and hashes only. */
  SAFETY: Queue<SafetyJob>;
  /** Deployment only; locally AI_PROVIDER is offline (or openai). */
  AI?: AiBinding;
  /** Local only: where deliverEmail posts mail instead of the binding (the sandbox outbox). */
  EMAIL_OUTBOX_URL?: string;
  /** Milliseconds config reads stay cached in an isolate (default 10000; 0 = off). */
  CONFIG_CACHE_MS?: string;
  /** Rows per chunk of a deletion, per table (default 1000); tests make it small to see chunks. */
  DELETION_CHUNK_ROWS?: string;
  /** Conversation objects a deletion run purges at most (default 3000; tests make it small). */
  DELETION_PURGES_PER_RUN?: string;
  /** Rows per chunk of the retention purge (default 1000); tests make it small. */
  RETENTION_CHUNK_ROWS?: string;
  OPENAI_BASE_URL?: string;
  OPENAI_API_KEY?: string;
};
