import { importMasterKey, unwrapDataKey } from "@concierge/crypto";
import { getWrappedTenantKey } from "@concierge/storage";

export type TenantKey = { version: number; key: CryptoKey };

// Unwrapping costs a D1 read and two AES operations, so keys stay in isolate memory for a few
// minutes. A deleted tenant's key is gone from D1 at once; this cache only shortens its last use.
const TTL_MS = 5 * 60_000;
const cache = new Map<string, { at: number; key: Promise<TenantKey> }>();

export function tenantKey(
  env: { DB: D1Database; ENCRYPTION_KEY: string },
  tenantId: string,
): Promise<TenantKey> {
  const hit = cache.get(tenantId);
  if (hit && Date.now() - hit.at < TTL_MS) return hit.key;
  const key = (async () => {
    const row = await getWrappedTenantKey(env.DB, tenantId);
    if (!row) throw new Error(`tenant ${tenantId} has no data key`);
    return {
      version: row.version,
      key: await unwrapDataKey(await importMasterKey(env.ENCRYPTION_KEY), row.wrapped, tenantId),
    };
  })();
  cache.set(tenantId, { at: Date.now(), key });
  key.catch(() => cache.delete(tenantId));
  return key;
}
