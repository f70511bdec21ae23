import type { IngestTarget, StoredReplyConfig, TenantSettings } from "@concierge/storage";
import { TtlCache } from "./cache.ts";
import type { PipelineEnv } from "../env.ts";

/** Default: config saved in the dashboard reaches every isolate within 10 s. */
const DEFAULT_TTL_MS = 10_000;

let caches: {
  ttl: number;
  ingestTargets: TtlCache<IngestTarget | null>;
  replyConfigs: TtlCache<StoredReplyConfig | null>;
  tenantSettings: TtlCache<TenantSettings | null>;
} | null = null;

/** The isolate's config caches; `CONFIG_CACHE_MS` tunes the TTL (0 turns caching off). */
export function configCache(env: PipelineEnv) {
  const ttl = env.CONFIG_CACHE_MS === undefined ? DEFAULT_TTL_MS : Number(env.CONFIG_CACHE_MS);
  if (!caches || caches.ttl !== ttl) {
    caches = {
      ttl,
      ingestTargets: new TtlCache(ttl),
      replyConfigs: new TtlCache(ttl),
      tenantSettings: new TtlCache(ttl),
    };
  }
  return caches;
}
