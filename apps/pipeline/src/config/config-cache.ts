import type { Persona } from "@concierge/prompt";
import type { IngestTarget, StoredReplyConfig, TenantSettings } from "@concierge/storage";
import { BoundedMap, DEFAULT_MAX_ENTRIES, TtlCache } from "./cache.ts";
import type { PipelineEnv } from "../env.ts";

/** Default: config saved in the dashboard reaches every isolate within 10 s. */
const DEFAULT_TTL_MS = 10_000;

/** Where a tenant's Discord inbox items go (null: it has no inbox channel, so nothing is relayed). */
export type DiscordInbox = { channelId: string; relayMode: string } | null;

/** A persona's text as of one version (its hash); the debit says which version is current. */
export type PersonaVersion = { hash: string; persona: Persona };

let caches: {
  ttl: number;
  ingestTargets: TtlCache<IngestTarget | null>;
  replyConfigs: TtlCache<StoredReplyConfig | null>;
  tenantSettings: TtlCache<TenantSettings | null>;
  discordInboxes: TtlCache<DiscordInbox>;
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
      discordInboxes: new TtlCache(ttl),
    };
  }
  return caches;
}

/**
 * Each tenant's persona text at the version last used, per isolate. Never stale: every AI
 * reply's debit reads the current version's hash in the same round trip (`debitAiReply`) and
 * sends the text only when it differs from this copy's, so the text crosses once per version.
 */
export const personaVersions = new BoundedMap<PersonaVersion>(DEFAULT_MAX_ENTRIES);
