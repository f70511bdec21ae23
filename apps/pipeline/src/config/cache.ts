/**
 * A map with at most `maxEntries` entries: setting one more evicts the least recently used
 * (a Map iterates in insertion order, and a read moves its entry to the end). Every cache an
 * isolate keeps uses it, so memory stays bounded however many tenants one isolate serves.
 */
export class BoundedMap<V> {
  private readonly entries = new Map<string, V>();
  readonly maxEntries: number;

  constructor(maxEntries: number) {
    if (!(maxEntries >= 1)) throw new Error("BoundedMap needs room for at least one entry");
    this.maxEntries = maxEntries;
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    // Most recently used goes last, so eviction takes the entry unused the longest.
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  set(key: string, value: V): void {
    this.entries.delete(key);
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    this.entries.set(key, value);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}

/** Entries an isolate keeps per cache; one isolate serves far fewer tenants' hot config than this. */
export const DEFAULT_MAX_ENTRIES = 5_000;

/**
 * A small read-through cache in isolate memory for configuration read on every message (the
 * channel account behind an external id, the compiled reply config). Entries live `ttlMs`; a
 * change saved elsewhere is seen within that time, which the architecture allows for config
 * (never for balances, de-duplication or kill switches). Concurrent misses share one load.
 * At most `maxEntries` keys: the least recently used goes first.
 */
export class TtlCache<V> {
  private readonly entries: BoundedMap<{ at: number; value: Promise<V> }>;
  private readonly ttlMs: number;

  constructor(ttlMs: number, maxEntries = DEFAULT_MAX_ENTRIES) {
    this.ttlMs = ttlMs;
    this.entries = new BoundedMap(maxEntries);
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string, load: () => Promise<V>, now = Date.now()): Promise<V> {
    if (this.ttlMs <= 0) return load();
    const hit = this.entries.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.value;
    const value = load();
    const entry = { at: now, value };
    this.entries.set(key, entry);
    // A failed load is not remembered: the next call tries again (unless a newer load replaced it).
    value.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return value;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}
