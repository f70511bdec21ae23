import { describe, expect, it } from "vitest";
import { TtlCache } from "./cache.ts";

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
