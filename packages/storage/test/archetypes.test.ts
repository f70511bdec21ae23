import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  getActiveArchetype,
  getArchetype,
  listActiveArchetypes,
  listAllArchetypes,
  recordArchetypeVerdict,
  createArchetypeStatement,
  retireArchetypeStatement,
  updateArchetypeStatement,
} from "../src/archetypes.ts";
import { db } from "./fixtures.ts";

const NOW = 1_900_000_000_000;
type Saved = { version: number; safetyStatus: string };
const entry = (id: string, prompt: string, hash: string, sortOrder = 9) => ({
  id,
  name: `N ${id}`,
  description: "D",
  prompt,
  sortOrder,
  hash,
});
const create = (id: string, prompt: string, hash: string, sortOrder = 9) =>
  createArchetypeStatement(db(), entry(id, prompt, hash, sortOrder), NOW).first<Saved>();
const save = (id: string, prompt: string, hash: string, sortOrder = 9) =>
  updateArchetypeStatement(db(), entry(id, prompt, hash, sortOrder), NOW).first<Saved>();

describe("archetypes", () => {
  it("the seeded catalog is approved and offered in its order; a retired entry is neither listed nor found", async () => {
    const before = await listActiveArchetypes(db());
    expect(before.map((a) => a.id)).toEqual([
      "cafe-host",
      "clinic-desk",
      "shop-assistant",
      "concise-support",
    ]);
    expect(
      (await listAllArchetypes(db())).every((a) => a.safetyStatus === "approved" && a.version === 1),
    ).toBe(true);
    const [retired] = await env.DB.batch([retireArchetypeStatement(db(), "clinic-desk", NOW)]);
    expect(retired?.meta.changes).toBe(1);
    expect((await retireArchetypeStatement(db(), "clinic-desk", NOW).run()).meta.changes).toBe(0);
    expect((await listActiveArchetypes(db())).map((a) => a.id)).toEqual([
      "cafe-host",
      "shop-assistant",
      "concise-support",
    ]);
    expect(await getActiveArchetype(db(), "clinic-desk")).toBeNull();
    expect(await getActiveArchetype(db(), "cafe-host")).toMatchObject({ name: "Café host", sortOrder: 1 });
    expect(await getActiveArchetype(db(), "nope")).toBeNull();
    // The operator still sees it, retired.
    expect(await getArchetype(db(), "clinic-desk")).toMatchObject({ status: "retired", updatedAt: NOW });
  });

  it("a new or edited version is hidden until its own hash is approved; a stale verdict changes nothing", async () => {
    expect(await create("new-one", "Be nice.", "h1")).toEqual({ version: 1, safetyStatus: "pending" });
    expect(await getActiveArchetype(db(), "new-one")).toBeNull();
    expect(await recordArchetypeVerdict(db(), "new-one", "h1", "approved")).toEqual({ applied: true });
    expect(await getActiveArchetype(db(), "new-one")).toMatchObject({ prompt: "Be nice." });

    // An edit: version 2, pending, hidden again.
    expect(await save("new-one", "Be nicer.", "h2")).toEqual({ version: 2, safetyStatus: "pending" });
    expect(await getActiveArchetype(db(), "new-one")).toBeNull();
    expect((await listActiveArchetypes(db())).map((a) => a.id)).not.toContain("new-one");
    // The classifier's answer for version 1 arrives late: it is not this version's verdict.
    expect(await recordArchetypeVerdict(db(), "new-one", "h1", "approved")).toEqual({ applied: false });
    expect(await getActiveArchetype(db(), "new-one")).toBeNull();
    expect(await recordArchetypeVerdict(db(), "new-one", "h2", "rejected")).toEqual({ applied: true });
    expect(await getActiveArchetype(db(), "new-one")).toBeNull();
    expect(await getArchetype(db(), "new-one")).toMatchObject({
      version: 2,
      hash: "h2",
      safetyStatus: "rejected",
    });

    // Only the order changed: same version and verdict.
    expect(await save("new-one", "Be nicer.", "h2", 1)).toEqual({ version: 2, safetyStatus: "rejected" });
    // Nothing changed at all: no row (the caller records nothing).
    expect(await save("new-one", "Be nicer.", "h2", 1)).toBeNull();
    // A version the dead-letter queue gave up on is judged again when saved unchanged.
    await recordArchetypeVerdict(db(), "new-one", "h2", "needs_review");
    expect(await save("new-one", "Be nicer.", "h2")).toEqual({ version: 2, safetyStatus: "pending" });

    // Editing the seeded entry (no hash yet) is a new version too.
    expect(await save("cafe-host", "Serve coffee.", "h3", 1)).toEqual({
      version: 2,
      safetyStatus: "pending",
    });
    expect(await getActiveArchetype(db(), "cafe-host")).toBeNull();

    // Saving a retired entry puts it back, once approved.
    await retireArchetypeStatement(db(), "shop-assistant", NOW).run();
    expect(await save("shop-assistant", "Sell things.", "h4")).toEqual({
      version: 2,
      safetyStatus: "pending",
    });
    await recordArchetypeVerdict(db(), "shop-assistant", "h4", "approved");
    expect(await getActiveArchetype(db(), "shop-assistant")).toMatchObject({ prompt: "Sell things." });
  });

  it("a new entry never overwrites one with its id; an edit changes only an entry that exists", async () => {
    expect(await create("taken", "First.", "t1")).toEqual({ version: 1, safetyStatus: "pending" });
    await recordArchetypeVerdict(db(), "taken", "t1", "approved");
    // A second new entry that happens to get the same id: nothing, the first stays as it was.
    expect(await create("taken", "Second.", "t2")).toBeNull();
    expect(await getArchetype(db(), "taken")).toMatchObject({
      prompt: "First.",
      version: 1,
      hash: "t1",
      safetyStatus: "approved",
    });
    // Also for a seeded entry.
    const seeded = await getArchetype(db(), "concise-support");
    expect(await create("concise-support", "Overwritten?", "t3")).toBeNull();
    expect(await getArchetype(db(), "concise-support")).toEqual(seeded);
    // An edit of an id nobody has creates nothing.
    expect(await save("never-made", "Hello.", "t4")).toBeNull();
    expect(await getArchetype(db(), "never-made")).toBeNull();
  });
});
