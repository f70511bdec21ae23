/**
 * The operator's archetype catalog. Every save of new text is a new version, hidden from tenants
 * and the demo until the safety classifier approves its hash (the same queue and prompt as
 * tenants' personas); the job carries the id and the hash, never text.
 */
import {
  type ArchetypeInput,
  type ArchetypeRef,
  type Operator,
  type RpcResult,
  createLogger,
  errorBody,
} from "@concierge/core";
import { randomToken, sha256Hex } from "@concierge/crypto";
import {
  auditStatement,
  getArchetype,
  retireArchetypeStatement,
  saveArchetypeStatement,
} from "@concierge/storage";
import type { PipelineEnv } from "../env.ts";

const log = createLogger("pipeline.operator");

/**
 * What a verdict is for: the sha256 of the canonical JSON of name, description and prompt (keys
 * in this order), since tenants see all three.
 */
export function archetypeHash(a: { name: string; description: string; prompt: string }): Promise<string> {
  return sha256Hex(JSON.stringify({ name: a.name, description: a.description, prompt: a.prompt }));
}

/** A new entry's id: its name as a slug (within the contract's pattern) and a random suffix. */
function newArchetypeId(name: string): string {
  const slug = name
    .normalize("NFKD")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 30)
    .replace(/-+$/, "");
  const suffix = randomToken(3, "hex");
  return slug ? `${slug}-${suffix}` : `archetype-${suffix}`;
}

export async function saveArchetype(
  env: PipelineEnv,
  operator: Operator,
  input: ArchetypeInput,
): Promise<RpcResult<{ id: string; version: number }>> {
  const now = Date.now();
  const before = input.id ? await getArchetype(env.DB, input.id) : null;
  if (input.id && !before) return errorBody("not_found", "No such archetype.");
  const id = input.id ?? newArchetypeId(input.name);
  const hash = await archetypeHash(input);
  const [saved] = await env.DB.batch([
    saveArchetypeStatement(
      env.DB,
      {
        id,
        name: input.name,
        description: input.description,
        prompt: input.prompt,
        sortOrder: input.sortOrder,
        hash,
      },
      now,
    ),
    auditStatement(env.DB, {
      at: now,
      operatorEmail: operator.email,
      action: "archetype.save",
      tenantId: null,
      target: id,
      summary: {
        created: before === null,
        version: before === null ? 1 : before.hash === hash ? before.version : before.version + 1,
        hash,
        sortOrder: input.sortOrder,
        restored: before?.status === "retired",
      },
    }),
  ]);
  const row = saved?.results[0] as { version: number; safetyStatus: string } | undefined;
  if (!row) throw new Error("the archetype save returned no row");
  // After the commit: a job for a hash that is replaced before it runs is dropped by the consumer.
  if (row.safetyStatus === "pending") await env.SAFETY.send({ kind: "archetype", archetypeId: id, hash });
  log.info("operator.archetype_saved", { archetype_id: id, version: row.version, safety: row.safetyStatus });
  return { ok: true, id, version: row.version };
}

/** Takes an archetype out of the persona page and the demo at once (tenants' personas keep their copy). */
export async function retireArchetype(
  env: PipelineEnv,
  operator: Operator,
  input: ArchetypeRef,
): Promise<RpcResult<{ changed: boolean }>> {
  const now = Date.now();
  const before = await getArchetype(env.DB, input.id);
  if (!before) return errorBody("not_found", "No such archetype.");
  const [retired] = await env.DB.batch([
    retireArchetypeStatement(env.DB, input.id, now),
    auditStatement(
      env.DB,
      {
        at: now,
        operatorEmail: operator.email,
        action: "archetype.retire",
        tenantId: null,
        target: input.id,
        summary: { status: "retired", version: before.version },
      },
      { afterChange: true },
    ),
  ]);
  return { ok: true, changed: (retired?.meta.changes ?? 0) > 0 };
}
