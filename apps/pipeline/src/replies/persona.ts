import { type RpcResult, type SafetyStatus, describeIssues, errorBody } from "@concierge/core";
import { PersonaSchema, personaHash } from "@concierge/prompt";
import { getPersona, getTenant, savePersona as storePersona } from "@concierge/storage";
import * as v from "valibot";
import type { PipelineEnv } from "../env.ts";

/**
 * Saves the tenant's persona (builder, archetype or raw prompt) after validating it, and queues
 * its safety check. AI replies pause until this exact persona is approved.
 */
export async function savePersona(
  env: PipelineEnv,
  tenantId: string,
  input: unknown,
): Promise<RpcResult<{ hash: string; status: SafetyStatus }>> {
  const parsed = v.safeParse(PersonaSchema, input);
  if (!parsed.success) return errorBody("invalid_persona", describeIssues(parsed.issues));
  if (!(await getTenant(env.DB, tenantId))) return errorBody("not_found", "No such tenant.");
  const hash = await personaHash(parsed.output);
  await storePersona(env.DB, tenantId, parsed.output, hash);
  const row = await getPersona(env.DB, tenantId);
  if (row?.status === "pending") await env.SAFETY.send({ kind: "persona", tenantId, hash });
  return { ok: true, hash, status: row?.status ?? "pending" };
}
