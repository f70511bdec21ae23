/** Queue payloads: ids and hashes only, never text (ARCHITECTURE.md §5). */

/**
 * A safety job: what to judge and the hash of the exact version to judge. A job whose hash is no
 * longer the current one is dropped (the newer save queued its own).
 */
export type SafetyJob =
  | { kind: "persona"; tenantId: string; hash: string }
  | { kind: "archetype"; archetypeId: string; hash: string };
