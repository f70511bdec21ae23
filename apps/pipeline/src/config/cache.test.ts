import { describe, expect, it } from "vitest";
import { BoundedMap, TtlCache } from "./cache.ts";

describe("TtlCache", () => {
  it("loads once within the TTL, shares a concurrent miss, and reloads after it", async () => {
    const cache = new TtlCache<number>(1000);
    let loads = 0;
    const load = async () => ++loads;
    const [a, b] = await Promise.all([cache.get("k", load, 0), cache.get("k", load, 10)]);
    expect([a, b, loads]).toEqual([1, 1, 1]);
    expect(await cache.get("k", load, 999)).toBe(1);
    expect(await cache.get("k", load, 1000)).toBe(2);
  });

  it("forgets failed loads and deleted keys", async () => {
    const cache = new TtlCache<string>(1000);
    await expect(cache.get("k", () => Promise.reject(new Error("down")), 0)).rejects.toThrow("down");
    expect(await cache.get("k", async () => "up", 1)).toBe("up");
    cache.delete("k");
    expect(await cache.get("k", async () => "again", 2)).toBe("again");
  });

  it("never caches with a TTL of 0", async () => {
    const cache = new TtlCache<number>(0);
    let loads = 0;
    await cache.get("k", async () => ++loads);
    await cache.get("k", async () => ++loads);
    expect(loads).toBe(2);
  });
});

describe("bounds", () => {
  it("a BoundedMap keeps at most its size, evicting the least recently used", () => {
    const m = new BoundedMap<number>(3);
    m.set("a", 1);
    m.set("b", 2);
    m.set("c", 3);
    expect(m.get("a")).toBe(1); // a is now the most recently used
    m.set("d", 4);
    expect(m.size).toBe(3);
    expect([m.get("a"), m.get("b"), m.get("c"), m.get("d")]).toEqual([1, undefined, 3, 4]);
    m.set("c", 30); // replacing is not growing
    expect(m.size).toBe(3);
    expect(() => new BoundedMap(0)).toThrow();
  });

  it("a TtlCache never holds more than its bound, and reloads what it evicted", async () => {
    const cache = new TtlCache<string>(60_000, 2);
    let loads = 0;
    const load = (v: string) => async () => {
      loads += 1;
      return v;
    };
    await cache.get("t1", load("one"), 0);
    await cache.get("t2", load("two"), 1);
    await cache.get("t1", load("one"), 2); // a hit keeps t1 fresh in the eviction order
    await cache.get("t3", load("three"), 3); // evicts t2
    expect(cache.size).toBe(2);
    expect(loads).toBe(3);
    await cache.get("t1", load("one"), 4);
    expect(loads).toBe(3);
    expect(await cache.get("t2", load("two again"), 5)).toBe("two again");
    expect(loads).toBe(4);
    expect(cache.size).toBe(2);
  });

  it("10,000 tenants through a cache of 100 leave 100 entries", async () => {
    const cache = new TtlCache<number>(60_000, 100);
    for (let i = 0; i < 10_000; i++) await cache.get(`tenant-${i}`, async () => i, i);
    expect(cache.size).toBe(100);
  });
});
