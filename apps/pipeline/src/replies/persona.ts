import { type RpcResult, type SafetyStatus, describeIssues, errorBody } from "@concierge/core";
import { PersonaSchema, personaHash } from "@concierge/prompt";
import { getActiveArchetype, getPersona, getTenant, savePersona as storePersona } from "@concierge/storage";
import * as v from "valibot";
import type { PipelineEnv } from "../env.ts";

/**
 * Saves the tenant's persona (builder, archetype or raw prompt) after validating it, and queues
 * its safety check. AI replies pause until this exact persona is approved.
 *
 * A builder persona may name a catalog archetype for its voice: it must be offered (active, this
 * version approved), else `archetype_unavailable` and nothing is saved; the stored prompt is
 * always the catalog's current text, whatever the caller sent.
 */
export async function savePersona(
  env: PipelineEnv,
  tenantId: string,
  input: unknown,
): Promise<RpcResult<{ hash: string; status: SafetyStatus }>> {
  const parsed = v.safeParse(PersonaSchema, input);
  if (!parsed.success) return errorBody("invalid_persona", describeIssues(parsed.issues));
  if (!(await getTenant(env.DB, tenantId))) return errorBody("not_found", "No such tenant.");
  let persona = parsed.output;
  if (persona.kind === "builder" && persona.archetype) {
    const chosen = await getActiveArchetype(env.DB, persona.archetype.id);
    if (!chosen) {
      return errorBody("archetype_unavailable", "That archetype is not offered (retired or not approved).");
    }
    // The catalog's text, through the same schema, never the caller's copy.
    const filled = v.safeParse(PersonaSchema, {
      ...persona,
      archetype: { id: chosen.id, prompt: chosen.prompt },
    });
    if (!filled.success) return errorBody("archetype_unavailable", "That archetype cannot be used.");
    persona = filled.output;
  }
  const hash = await personaHash(persona);
  await storePersona(env.DB, tenantId, persona, hash);
  const row = await getPersona(env.DB, tenantId);
  if (row?.status === "pending") await env.SAFETY.send({ kind: "persona", tenantId, hash });
  return { ok: true, hash, status: row?.status ?? "pending" };
}
