import { createAiProvider } from "@concierge/ai";
import { type SafetyJob, createLogger, errorFields } from "@concierge/core";
import { PERSONA_REJECTED_REASON, PERSONA_SAFETY, readVerdict, renderPersona } from "@concierge/prompt";
import {
  getArchetype,
  getPersona,
  listStalePendingSafety,
  recordArchetypeVerdict,
  recordPersonaVerdict,
  SAFETY_OVERDUE_MS,
} from "@concierge/storage";
import type { PipelineEnv } from "../env.ts";

const log = createLogger("pipeline.safety");

export const SAFETY_QUEUE = "concierge-safety";
export const SAFETY_DLQ = "concierge-safety-dlq";

/** The small model's verdict on persona text, with the persona safety prompt. */
async function judge(env: PipelineEnv, text: string): Promise<{ safe: boolean }> {
  const ai = createAiProvider(env);
  const answer = await ai.classify({
    system: PERSONA_SAFETY,
    messages: [{ role: "user", content: text }],
    maxTokens: 40,
  });
  return readVerdict(answer.text);
}

/**
 * What is judged of an archetype: its name and description as well as its prompt. Tenants read
 * all three on the persona page and the public demo shows them, so a verdict on the prompt alone
 * would let anything through in the other two. The prompt comes last, rendered exactly as the
 * persona that copies it (renderPersona), so it is judged as that persona would be.
 */
export function archetypeForJudgement(a: {
  id: string;
  name: string;
  description: string;
  prompt: string;
}): string {
  const prompt = renderPersona({ kind: "archetype", archetypeId: a.id, prompt: a.prompt });
  return `Name: ${a.name}\nDescription: ${a.description}\nPrompt:\n${prompt}`;
}

/**
 * Queues again the safety jobs of personas and archetypes still pending `STALE_AFTER_MS` after
 * their save (the 15-minute cron): a save whose queue send failed after its row committed, or a
 * job that was lost, is judged late instead of staying hidden for good. A version judged
 * meanwhile is no longer pending and is not read; a duplicate job is harmless (the consumer
 * judges the current hash and records the same verdict). Bounded per run.
 */
export const STALE_AFTER_MS = SAFETY_OVERDUE_MS;

export async function requeueStalePendingSafety(env: PipelineEnv, now: number): Promise<number> {
  const jobs = await listStalePendingSafety(env.DB, now - STALE_AFTER_MS, 100);
  if (jobs.length === 0) return 0;
  // sendBatch takes at most 100 messages; the read returns up to 100 of each kind.
  for (let i = 0; i < jobs.length; i += 100) {
    await env.SAFETY.sendBatch(jobs.slice(i, i + 100).map((body) => ({ body })));
  }
  log.warn("safety.requeued", {
    personas: jobs.filter((j) => j.kind === "persona").length,
    archetypes: jobs.filter((j) => j.kind === "archetype").length,
  });
  return jobs.length;
}

/**
 * Classifies the current version of what the job names. A job for a persona or archetype that
 * has changed since is acknowledged and dropped: the newer save queued its own job.
 */
async function classify(env: PipelineEnv, job: SafetyJob): Promise<void> {
  if (job.kind === "archetype") {
    const current = await getArchetype(env.DB, job.archetypeId);
    if (!current || current.hash !== job.hash) return;
    const verdict = await judge(env, archetypeForJudgement(current));
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
  const verdict = await judge(env, renderPersona(current.persona));
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
      // counts these). Only this version: a newer save is judged on its own. Should even this
      // write fail, only this message is retried; one the dead-letter queue drops stays pending,
      // shown as overdue to the tenant and the operator and queued again by the 15-minute cron.
      try {
        if (job.kind === "archetype") {
          await recordArchetypeVerdict(env.DB, job.archetypeId, job.hash, "needs_review");
        } else {
          await recordPersonaVerdict(env.DB, job.tenantId, job.hash, "needs_review", null);
        }
        log.error("safety.needs_review", { ...jobFields(job), attempts: msg.attempts });
        msg.ack();
      } catch (err) {
        log.error("safety.record_failed", { ...errorFields(err), ...jobFields(job), attempts: msg.attempts });
        msg.retry({ delaySeconds: Math.min(2 ** msg.attempts, 60) });
      }
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
