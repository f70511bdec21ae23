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
