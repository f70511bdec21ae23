import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { expect, it } from "vitest";
import { REPO_ROOT } from "../src/tree.ts";

// A Rate Limiting binding's namespace_id is unique within the Cloudflare account: two apps that
// named the same one would share one counter under two limits (a deploy refused, or the pipeline's
// sends paced by the dashboard's inbox limit). Every app's config is read, so a new limiter that
// reuses an id fails here, not in production.
it("no two rate limiters of any app share a namespace_id", () => {
  const apps = readdirSync(path.join(REPO_ROOT, "apps"));
  const seen = new Map<string, string>();
  const clashes: string[] = [];
  for (const app of apps) {
    let config: string;
    try {
      config = readFileSync(path.join(REPO_ROOT, "apps", app, "wrangler.jsonc"), "utf8");
    } catch {
      continue;
    }
    for (const m of config.matchAll(/"name"\s*:\s*"(\w+)",\s*"namespace_id"\s*:\s*"(\d+)"/g)) {
      const where = `${app}.${m[1]}`;
      const before = seen.get(m[2]!);
      if (before) clashes.push(`${m[2]}: ${before} and ${where}`);
      seen.set(m[2]!, where);
    }
  }
  expect(seen.size).toBeGreaterThanOrEqual(8);
  expect(clashes).toEqual([]);
});
