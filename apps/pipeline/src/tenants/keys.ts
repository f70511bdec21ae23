import { ciphertextVersion, decryptString, importMasterKey, unwrapDataKey } from "@concierge/crypto";
import { getWrappedTenantKeys } from "@concierge/storage";
import { BoundedMap, DEFAULT_MAX_ENTRIES } from "../config/cache.ts";

export type TenantKey = { version: number; key: CryptoKey };
type Keyring = { current: TenantKey; versions: Map<number, CryptoKey> };
type KeyEnv = { DB: D1Database; ENCRYPTION_KEY: string };

// Unwrapping costs a D1 read and AES operations, so keyrings stay in isolate memory for a few
// minutes. A deleted tenant's keys are gone from D1 at once; this cache only shortens their use.
const TTL_MS = 5 * 60_000;
// Bounded: an isolate serving many tenants keeps the keyrings of the most recently used only.
const cache = new BoundedMap<{ at: number; ring: Promise<Keyring> }>(DEFAULT_MAX_ENTRIES);

function load(env: KeyEnv, tenantId: string): Promise<Keyring> {
  const ring = (async () => {
    const rows = await getWrappedTenantKeys(env.DB, tenantId);
    if (rows.length === 0) throw new Error(`tenant ${tenantId} has no data key`);
    const master = await importMasterKey(env.ENCRYPTION_KEY);
    const versions = new Map<number, CryptoKey>();
    for (const r of rows) versions.set(r.version, await unwrapDataKey(master, r.wrapped, tenantId));
    const newest = rows[rows.length - 1]!.version;
    return { current: { version: newest, key: versions.get(newest)! }, versions };
  })();
  const entry = { at: Date.now(), ring };
  cache.set(tenantId, entry);
  ring.catch(() => {
    if (cache.get(tenantId) === entry) cache.delete(tenantId);
  });
  return ring;
}

function keyring(env: KeyEnv, tenantId: string): Promise<Keyring> {
  const hit = cache.get(tenantId);
  return hit && Date.now() - hit.at < TTL_MS ? hit.ring : load(env, tenantId);
}

/** The key new ciphertext is sealed with: the tenant's newest version. */
export async function tenantKey(env: KeyEnv, tenantId: string): Promise<TenantKey> {
  return (await keyring(env, tenantId)).current;
}

/** Opens a sealed value with the key version it was sealed under, whatever is current now. */
export async function openSealed(
  env: KeyEnv,
  tenantId: string,
  sealed: string,
  aad: string,
): Promise<string> {
  const version = ciphertextVersion(sealed);
  let key = (await keyring(env, tenantId)).versions.get(version);
  // Sealed under a version newer than this isolate's cached ring: reload once.
  if (!key) key = (await load(env, tenantId)).versions.get(version);
  if (!key) throw new Error(`tenant ${tenantId} has no data key version ${version}`);
  return decryptString(key, sealed, aad);
}

/** After a rotation, this isolate seals with the new version at once. */
export function forgetTenantKeys(tenantId: string): void {
  cache.delete(tenantId);
}
