/**
 * A statement prepared and never run: the cost bench's meter (@concierge/core/meter) patches its
 * prototype to count every D1 result's rows. Here because all D1 SQL lives in this package.
 */
export function statementProbe(db: D1Database): D1PreparedStatement {
  return db.prepare("SELECT 1");
}
