/** Queue payloads: ids and hashes only, never text (ARCHITECTURE.md §5). */

/** A persona safety job: the tenant and the hash of the exact persona to judge. */
export type SafetyJob = { kind: "persona"; tenantId: string; hash: string };
