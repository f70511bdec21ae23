import { createAiProvider } from "@concierge/ai";
import { type SafetyJob, createLogger, errorFields } from "@concierge/core";
import { PERSONA_REJECTED_REASON, PERSONA_SAFETY, readVerdict, renderPersona } from "@concierge/prompt";
import { getPersona, recordPersonaVerdict } from "@concierge/storage";
import type { PipelineEnv } from "../env.ts";

const log = createLogger("pipeline.safety");

export const SAFETY_QUEUE = "concierge-safety";
export const SAFETY_DLQ = "concierge-safety-dlq";

/**
 * Classifies the tenant's current persona with the small model. A job for a persona that has
 * changed since is acknowledged and dropped: the newer save queued its own job.
 */
async function classify(env: PipelineEnv, job: SafetyJob): Promise<void> {
  const current = await getPersona(env.DB, job.tenantId);
  if (!current || current.hash !== job.hash) return;
  const ai = createAiProvider(env);
  const answer = await ai.classify({
    system: PERSONA_SAFETY,
    messages: [{ role: "user", content: renderPersona(current.persona) }],
    maxTokens: 40,
  });
  const verdict = readVerdict(answer.text);
  // The model's own reason is logged for the platform team; the tenant sees the vague one.
  await recordPersonaVerdict(
    env.DB,
    job.tenantId,
    job.hash,
    verdict.safe ? "approved" : "rejected",
    verdict.safe ? null : PERSONA_REJECTED_REASON,
  );
  log.info("persona.classified", { tenant_id: job.tenantId, hash: job.hash, approved: verdict.safe });
}

export async function handleSafetyBatch(batch: MessageBatch<SafetyJob>, env: PipelineEnv): Promise<void> {
  for (const msg of batch.messages) {
    const job = msg.body;
    if (batch.queue === SAFETY_DLQ) {
      // Retries are exhausted: a person on the platform team has to look at it.
      await recordPersonaVerdict(env.DB, job.tenantId, job.hash, "needs_review", null);
      log.error("persona.needs_review", { tenant_id: job.tenantId, hash: job.hash, attempts: msg.attempts });
      msg.ack();
      continue;
    }
    try {
      await classify(env, job);
      msg.ack();
    } catch (err) {
      log.warn("persona.classify_failed", {
        ...errorFields(err),
        tenant_id: job.tenantId,
        attempts: msg.attempts,
      });
      msg.retry({ delaySeconds: Math.min(2 ** msg.attempts, 60) });
    }
  }
}
