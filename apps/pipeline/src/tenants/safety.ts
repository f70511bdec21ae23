import { createAiProvider } from "@concierge/ai";
import { type SafetyJob, createLogger, errorFields } from "@concierge/core";
import {
  PERSONA_REJECTED_REASON,
  PERSONA_SAFETY,
  type Persona,
  readVerdict,
  renderPersona,
} from "@concierge/prompt";
import { getArchetype, getPersona, recordArchetypeVerdict, recordPersonaVerdict } from "@concierge/storage";
import type { PipelineEnv } from "../env.ts";

const log = createLogger("pipeline.safety");

export const SAFETY_QUEUE = "concierge-safety";
export const SAFETY_DLQ = "concierge-safety-dlq";

/** The small model's verdict on persona text, with the persona safety prompt. */
async function judge(env: PipelineEnv, persona: Persona): Promise<{ safe: boolean }> {
  const ai = createAiProvider(env);
  const answer = await ai.classify({
    system: PERSONA_SAFETY,
    messages: [{ role: "user", content: renderPersona(persona) }],
    maxTokens: 40,
  });
  return readVerdict(answer.text);
}

/**
 * Classifies the current version of what the job names. A job for a persona or archetype that
 * has changed since is acknowledged and dropped: the newer save queued its own job.
 */
async function classify(env: PipelineEnv, job: SafetyJob): Promise<void> {
  if (job.kind === "archetype") {
    const current = await getArchetype(env.DB, job.archetypeId);
    if (!current || current.hash !== job.hash) return;
    // The archetype's prompt is what a tenant's persona copies when they pick it: it is judged
    // exactly as that persona would be.
    const verdict = await judge(env, { kind: "archetype", archetypeId: current.id, prompt: current.prompt });
    await recordArchetypeVerdict(env.DB, job.archetypeId, job.hash, verdict.safe ? "approved" : "rejected");
    log.info("archetype.classified", {
      archetype_id: job.archetypeId,
      hash: job.hash,
      approved: verdict.safe,
    });
    return;
  }
  const current = await getPersona(env.DB, job.tenantId);
  if (!current || current.hash !== job.hash) return;
  const verdict = await judge(env, current.persona);
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

/** Ids for the logs: which persona or archetype a job is about. */
function jobFields(job: SafetyJob): Record<string, string> {
  return job.kind === "archetype"
    ? { kind: job.kind, archetype_id: job.archetypeId, hash: job.hash }
    : { kind: job.kind, tenant_id: job.tenantId, hash: job.hash };
}

export async function handleSafetyBatch(batch: MessageBatch<SafetyJob>, env: PipelineEnv): Promise<void> {
  for (const msg of batch.messages) {
    const job = msg.body;
    if (batch.queue === SAFETY_DLQ) {
      // Retries are exhausted: a person on the platform team has to look at it (the health page
      // counts these). Only this version: a newer save is judged on its own.
      if (job.kind === "archetype") {
        await recordArchetypeVerdict(env.DB, job.archetypeId, job.hash, "needs_review");
      } else {
        await recordPersonaVerdict(env.DB, job.tenantId, job.hash, "needs_review", null);
      }
      log.error("safety.needs_review", { ...jobFields(job), attempts: msg.attempts });
      msg.ack();
      continue;
    }
    try {
      await classify(env, job);
      msg.ack();
    } catch (err) {
      log.warn("safety.classify_failed", { ...errorFields(err), ...jobFields(job), attempts: msg.attempts });
      msg.retry({ delaySeconds: Math.min(2 ** msg.attempts, 60) });
    }
  }
}
