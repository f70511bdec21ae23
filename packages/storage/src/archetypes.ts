/**
 * The persona archetype catalog. Operators curate it through the pipeline (every save is a new
 * version judged by the same safety classifier as tenants' personas); tenants and the public demo
 * see only entries that are active and whose current version is approved.
 */
import type { SafetyStatus } from "@concierge/core";

export type Archetype = {
  id: string;
  name: string;
  description: string;
  prompt: string;
  sortOrder: number;
};

/** An entry as the operator's catalog page shows it: retired and unapproved ones too. */
export type CatalogArchetype = Archetype & {
  status: "active" | "retired";
  version: number;
  /** sha256 of the canonical JSON of {name, description, prompt}; null for the seeded rows. */
  hash: string | null;
  safetyStatus: SafetyStatus;
  /** Null for the seeded rows. */
  updatedAt: number | null;
};

const COLUMNS = "id, name, description, prompt, sort_order AS sortOrder";
const CATALOG_COLUMNS = `${COLUMNS}, status, version, hash, safety_status AS safetyStatus, updated_at AS updatedAt`;
/** What tenants and the demo may use: not retired, and this version approved. */
const OFFERED = "status = 'active' AND safety_status = 'approved'";

/** Active, approved archetypes in the catalog's order, as the persona builder offers them. */
export async function listActiveArchetypes(db: D1Database): Promise<Archetype[]> {
  const { results } = await db
    .prepare(`SELECT ${COLUMNS} FROM archetypes WHERE ${OFFERED} ORDER BY sort_order, name LIMIT 200`)
    .all<Archetype>();
  return results;
}

/** One offered archetype, or null when it is unknown, retired, or its version is not approved. */
export async function getActiveArchetype(db: D1Database, id: string): Promise<Archetype | null> {
  return db
    .prepare(`SELECT ${COLUMNS} FROM archetypes WHERE id = ? AND ${OFFERED}`)
    .bind(id)
    .first<Archetype>();
}

/** The whole catalog for the operator: active first, then in the catalog's order. */
export async function listAllArchetypes(db: D1Database): Promise<CatalogArchetype[]> {
  const { results } = await db
    .prepare(
      `SELECT ${CATALOG_COLUMNS} FROM archetypes
        WHERE status IN ('active', 'retired') ORDER BY status, sort_order, name LIMIT 500`,
    )
    .all<CatalogArchetype>();
  return results;
}

/** One entry of the catalog, whatever its status; null when unknown. */
export async function getArchetype(db: D1Database, id: string): Promise<CatalogArchetype | null> {
  return db
    .prepare(`SELECT ${CATALOG_COLUMNS} FROM archetypes WHERE id = ?`)
    .bind(id)
    .first<CatalogArchetype>();
}

export type ArchetypeSave = Archetype & { hash: string };

/** What a save left: the entry's version and whether it waits for a verdict. */
const SAVED = "RETURNING version, safety_status AS safetyStatus";

/**
 * A new entry, version 1, pending its verdict; for a batch with its audit row. Nothing when an
 * entry has this id already: a new entry never overwrites another, so no row comes back and the
 * caller tries again with another id.
 */
export function createArchetypeStatement(db: D1Database, a: ArchetypeSave, now: number): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO archetypes (id, name, description, prompt, status, sort_order, version, hash, safety_status, updated_at)
       VALUES (?, ?, ?, ?, 'active', ?, 1, ?, 'pending', ?)
       ON CONFLICT (id) DO NOTHING ${SAVED}`,
    )
    .bind(a.id, a.name, a.description, a.prompt, a.sortOrder, a.hash, now);
}

/**
 * Edits an existing entry (and puts a retired one back in the catalog, once approved); for a
 * batch with its audit row. Changed text is a new version: `version` + 1 and back to 'pending',
 * hidden until the classifier approves this hash. Unchanged text (only the order moved) keeps its
 * version and verdict, except that a version the dead-letter queue gave up on is queued again.
 * RETURNING says which, so the caller queues the safety job only for 'pending'. No row comes back
 * for an unknown id, or when nothing would change (the same hash of the text, order and status,
 * and not needs_review), so a repeated save records nothing.
 */
export function updateArchetypeStatement(db: D1Database, a: ArchetypeSave, now: number): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE archetypes SET name = ?1, description = ?2, prompt = ?3, status = 'active', sort_order = ?4,
              version = CASE WHEN hash IS ?5 THEN version ELSE version + 1 END,
              safety_status = CASE WHEN hash IS ?5 AND safety_status <> 'needs_review' THEN safety_status ELSE 'pending' END,
              hash = ?5, updated_at = ?6
        WHERE id = ?7
          AND (hash IS NOT ?5 OR sort_order <> ?4 OR status <> 'active' OR safety_status = 'needs_review')
       ${SAVED}`,
    )
    .bind(a.name, a.description, a.prompt, a.sortOrder, a.hash, now, a.id);
}

/** Retires an active entry: out of the persona page and the demo at once. Nothing if retired. */
export function retireArchetypeStatement(db: D1Database, id: string, now: number): D1PreparedStatement {
  return db
    .prepare("UPDATE archetypes SET status = 'retired', updated_at = ? WHERE id = ? AND status = 'active'")
    .bind(now, id);
}

/**
 * Records the classifier's verdict (or the dead-letter queue's needs_review) for the version with
 * this hash. A verdict for a version the operator has since replaced is stale and changes nothing.
 */
export async function recordArchetypeVerdict(
  db: D1Database,
  id: string,
  hash: string,
  verdict: Exclude<SafetyStatus, "pending">,
): Promise<{ applied: boolean }> {
  const res = await db
    .prepare("UPDATE archetypes SET safety_status = ? WHERE id = ? AND hash = ?")
    .bind(verdict, id, hash)
    .run();
  return { applied: res.meta.changes > 0 };
}
