/** Prefixed random ids: readable in logs, unguessable, sortable enough for humans. */
export function newId(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return `${prefix}_${s}`;
}

/** The Durable Object name of one customer thread. */
export function conversationKey(tenantId: string, accountId: string, customerId: string): string {
  return `${tenantId}/${accountId}/${customerId}`;
}

/**
 * A customer's id as staff see it in lists and notices: enough to tell two apart, not the whole
 * number or address (the last four digits; an address's first letter and its domain).
 */
export function maskCustomer(id: string): string {
  const at = id.indexOf("@");
  if (at > 0) return `${id.slice(0, 1)}…${id.slice(at)}`;
  return id.length > 4 ? `…${id.slice(-4)}` : id;
}
