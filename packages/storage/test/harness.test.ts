import { env } from "cloudflare:workers";
import { expect, it } from "vitest";

it("has every migration applied to the local D1", async () => {
  const { results } = await env.DB.prepare("SELECT name FROM d1_migrations ORDER BY id").all<{
    name: string;
  }>();
  expect(results.map((r) => r.name)).toEqual(env.TEST_MIGRATIONS.map((m) => m.name));
});
