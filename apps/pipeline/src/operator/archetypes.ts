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
  errorFields,
} from "@concierge/core";
import { randomToken, sha256Hex } from "@concierge/crypto";
import {
  type CatalogArchetype,
  archetypeSaveAuditStatement,
  auditStatement,
  createArchetypeStatement,
  getArchetype,
  retireArchetypeStatement,
  updateArchetypeStatement,
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

/**
 * A new entry's id: its name as a slug (within the contract's pattern) and a random suffix. The
 * suffix keeps ids unguessable and distinct, but it is short: the insert never overwrites an
 * entry that has the id already, and the save tries another id instead.
 */
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

/** New ids tried before giving up (each collision is a 1 in 16.7 million chance per slug). */
const NEW_ID_ATTEMPTS = 3;

type Saved = { version: number; safetyStatus: string };

/**
 * Creates an archetype (no `id`) or edits one. Every change of its text is a new version, pending
 * until the classifier approves it; a save that changes nothing records nothing. The row and its
 * audit row are one batch; the safety job is queued after it commits.
 */
export async function saveArchetype(
  env: PipelineEnv,
  operator: Operator,
  input: ArchetypeInput,
): Promise<RpcResult<{ id: string; version: number }>> {
  const now = Date.now();
  const hash = await archetypeHash(input);
  const save = (id: string, before: CatalogArchetype | null) => {
    const row = {
      id,
      name: input.name,
      description: input.description,
      prompt: input.prompt,
      sortOrder: input.sortOrder,
      hash,
    };
    return env.DB.batch([
      before ? updateArchetypeStatement(env.DB, row, now) : createArchetypeStatement(env.DB, row, now),
      archetypeSaveAuditStatement(env.DB, {
        at: now,
        operatorEmail: operator.email,
        archetypeId: id,
        summary: {
          created: before === null,
          hash,
          sortOrder: input.sortOrder,
          restored: before?.status === "retired",
        },
      }),
    ]);
  };
  let id: string;
  let row: Saved | undefined;
  if (input.id) {
    id = input.id;
    const before = await getArchetype(env.DB, id);
    if (!before) return errorBody("not_found", "No such archetype.");
    row = (await save(id, before))[0]?.results[0] as Saved | undefined;
    if (!row) {
      // Nothing changed (or the entry was deleted meanwhile): the entry as it is.
      const current = await getArchetype(env.DB, id);
      if (!current) return errorBody("not_found", "No such archetype.");
      return { ok: true, id, version: current.version };
    }
  } else {
    id = newArchetypeId(input.name);
    for (let attempt = 1; ; attempt++) {
      row = (await save(id, null))[0]?.results[0] as Saved | undefined;
      if (row || attempt === NEW_ID_ATTEMPTS) break;
      log.warn("operator.archetype_id_taken", { archetype_id: id, attempt });
      id = newArchetypeId(input.name);
    }
    if (!row) throw new Error("no free archetype id after several attempts");
  }
  // After the commit: a job for a hash that is replaced before it runs is dropped by the consumer.
  // If the queue refuses it, the save stands: the 15-minute cron queues whatever has been pending
  // too long (requeueStalePendingSafety), so it is judged late but never stays hidden for good.
  if (row.safetyStatus === "pending") {
    try {
      await env.SAFETY.send({ kind: "archetype", archetypeId: id, hash });
    } catch (err) {
      log.error("operator.archetype_job_not_queued", { ...errorFields(err), archetype_id: id, hash });
    }
  }
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
