/**
 * The public demo's settings (PRODUCT.md §5): which sample business it plays and its limits.
 * One row (migrations/0018_operator.sql); the operator panel edits it through the pipeline.
 */
import { DEFAULT_DEMO_SETTINGS, type DemoSettings, DemoSettingsSchema } from "@concierge/core";
import * as v from "valibot";

export type StoredDemoSettings = DemoSettings & {
  /** 0 for the seeded defaults. */
  updatedAt: number;
  /** The operator's email; null for the defaults. */
  updatedBy: string | null;
};

const DEFAULTS: StoredDemoSettings = { ...DEFAULT_DEMO_SETTINGS, updatedAt: 0, updatedBy: null };

/**
 * The demo's settings, or the defaults when the row is missing. The row is read through the
 * contract's schema as well as the table's CHECKs: the demo never runs on limits out of range.
 */
export async function getDemoSettings(db: D1Database): Promise<StoredDemoSettings> {
  const row = await db
    .prepare(
      `SELECT business, per_visitor_per_hour AS perVisitorPerHour, total_per_day AS totalPerDay,
              max_chars AS maxChars, max_turns AS maxTurns, updated_at AS updatedAt, updated_by AS updatedBy
         FROM demo_settings WHERE id = 1`,
    )
    .first<StoredDemoSettings>();
  if (!row) return { ...DEFAULTS };
  const parsed = v.safeParse(DemoSettingsSchema, row);
  return parsed.success
    ? { ...parsed.output, updatedAt: row.updatedAt, updatedBy: row.updatedBy }
    : { ...DEFAULTS };
}

/**
 * Writes the (validated) settings, by whom; batched with its audit row. Settings equal to the
 * stored ones change no row (nor who saved them last), so a repeated save records nothing.
 */
export function saveDemoSettingsStatement(
  db: D1Database,
  settings: DemoSettings,
  operatorEmail: string,
  now: number,
): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO demo_settings (id, business, per_visitor_per_hour, total_per_day, max_chars, max_turns, updated_at, updated_by)
       VALUES (1, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET business = excluded.business,
         per_visitor_per_hour = excluded.per_visitor_per_hour, total_per_day = excluded.total_per_day,
         max_chars = excluded.max_chars, max_turns = excluded.max_turns,
         updated_at = excluded.updated_at, updated_by = excluded.updated_by
        WHERE demo_settings.business <> excluded.business
           OR demo_settings.per_visitor_per_hour <> excluded.per_visitor_per_hour
           OR demo_settings.total_per_day <> excluded.total_per_day
           OR demo_settings.max_chars <> excluded.max_chars
           OR demo_settings.max_turns <> excluded.max_turns`,
    )
    .bind(
      settings.business,
      settings.perVisitorPerHour,
      settings.totalPerDay,
      settings.maxChars,
      settings.maxTurns,
      now,
      operatorEmail,
    );
}
