import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { getActiveArchetype, listActiveArchetypes } from "../src/archetypes.ts";
import { db } from "./fixtures.ts";

describe("archetypes", () => {
  it("offers the active catalog in its order; a retired entry is neither listed nor found", async () => {
    const before = await listActiveArchetypes(db());
    expect(before.map((a) => a.id)).toEqual([
      "cafe-host",
      "clinic-desk",
      "shop-assistant",
      "concise-support",
    ]);
    await env.DB.prepare("UPDATE archetypes SET status = 'retired' WHERE id = 'clinic-desk'").run();
    expect((await listActiveArchetypes(db())).map((a) => a.id)).toEqual([
      "cafe-host",
      "shop-assistant",
      "concise-support",
    ]);
    expect(await getActiveArchetype(db(), "clinic-desk")).toBeNull();
    expect(await getActiveArchetype(db(), "cafe-host")).toMatchObject({ name: "Café host", sortOrder: 1 });
    expect(await getActiveArchetype(db(), "nope")).toBeNull();
  });
});
