import type { Persona } from "@concierge/prompt";

import type { SafetyStatus } from "@concierge/core";

export type { SafetyStatus };
export type PersonaRow = { persona: Persona; hash: string; status: SafetyStatus; reason: string | null };

/** Stores a (validated) persona; its safety status starts over as pending. */
export async function savePersona(
  db: D1Database,
  tenantId: string,
  persona: Persona,
  hash: string,
): Promise<void> {
  await db
    .prepare(
      `INSERT INTO personas (tenant_id, persona_json, hash, safety_status, safety_reason, updated_at)
       VALUES (?, ?, ?, 'pending', NULL, ?)
       ON CONFLICT (tenant_id) DO UPDATE SET persona_json = excluded.persona_json, hash = excluded.hash,
         safety_status = CASE WHEN personas.hash = excluded.hash THEN personas.safety_status ELSE 'pending' END,
         safety_reason = CASE WHEN personas.hash = excluded.hash THEN personas.safety_reason ELSE NULL END,
         updated_at = excluded.updated_at`,
    )
    .bind(tenantId, JSON.stringify(persona), hash, Date.now())
    .run();
}

export async function getPersona(db: D1Database, tenantId: string): Promise<PersonaRow | null> {
  const row = await db
    .prepare("SELECT persona_json, hash, safety_status, safety_reason FROM personas WHERE tenant_id = ?")
    .bind(tenantId)
    .first<{
      persona_json: string;
      hash: string;
      safety_status: SafetyStatus;
      safety_reason: string | null;
    }>();
  if (!row) return null;
  return {
    persona: JSON.parse(row.persona_json) as Persona,
    hash: row.hash,
    status: row.safety_status,
    reason: row.safety_reason,
  };
}

/**
 * Records a verdict for the persona with this hash. A verdict for text the tenant has since
 * changed is stale and changes nothing.
 */
export async function recordPersonaVerdict(
  db: D1Database,
  tenantId: string,
  hash: string,
  status: Exclude<SafetyStatus, "pending">,
  reason: string | null,
): Promise<{ applied: boolean }> {
  const res = await db
    .prepare("UPDATE personas SET safety_status = ?, safety_reason = ? WHERE tenant_id = ? AND hash = ?")
    .bind(status, reason, tenantId, hash)
    .run();
  return { applied: res.meta.changes > 0 };
}

/**
 * Whether the tenant's persona has waited for its safety verdict since before `before` (epoch
 * ms): the verdict is overdue (lost, or failing to record), so the tenant is told that AI replies
 * stay paused and that it is being retried (SAFETY_OVERDUE_MS, safety-sweep.ts).
 */
export async function personaVerdictOverdue(
  db: D1Database,
  tenantId: string,
  before: number,
): Promise<boolean> {
  const row = await db
    .prepare("SELECT 1 FROM personas WHERE tenant_id = ? AND safety_status = 'pending' AND updated_at < ?")
    .bind(tenantId, before)
    .first();
  return row !== null;
}
