/** The persona archetype catalog (operators curate it; tenants pick from the active entries). */
export type Archetype = {
  id: string;
  name: string;
  description: string;
  prompt: string;
  sortOrder: number;
};

const COLUMNS = "id, name, description, prompt, sort_order AS sortOrder";

/** Active archetypes in the catalog's order, as the persona builder offers them. */
export async function listActiveArchetypes(db: D1Database): Promise<Archetype[]> {
  const { results } = await db
    .prepare(`SELECT ${COLUMNS} FROM archetypes WHERE status = 'active' ORDER BY sort_order, name`)
    .all<Archetype>();
  return results;
}

/** One active archetype, or null when it is unknown or retired. */
export async function getActiveArchetype(db: D1Database, id: string): Promise<Archetype | null> {
  return db
    .prepare(`SELECT ${COLUMNS} FROM archetypes WHERE id = ? AND status = 'active'`)
    .bind(id)
    .first<Archetype>();
}
