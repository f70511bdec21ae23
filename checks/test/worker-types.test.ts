import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../src/tree.ts";
import { checkWorkerTypes } from "../src/worker-types.ts";

const temp: string[] = [];
afterAll(() => {
  for (const dir of temp) rmSync(dir, { recursive: true, force: true });
});

/**
 * A checkout with one app (its config, example secrets, generated types and entry module, whose
 * presence wrangler types records) and the runtime types.
 */
function copyOfApp(app: string): string {
  const root = mkdtempSync(path.join(os.tmpdir(), "concierge-worker-types-"));
  temp.push(root);
  const config = readFileSync(path.join(REPO_ROOT, "apps", app, "wrangler.jsonc"), "utf8");
  const main = /"main"\s*:\s*"([^"]+)"/.exec(config)?.[1];
  for (const rel of [
    "types/worker-runtime.d.ts",
    `apps/${app}/wrangler.jsonc`,
    `apps/${app}/worker-configuration.d.ts`,
    `apps/${app}/.dev.vars.example`,
    ...(main ? [`apps/${app}/${main}`] : []),
  ]) {
    if (!existsSync(path.join(REPO_ROOT, rel))) continue;
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    copyFileSync(path.join(REPO_ROOT, rel), path.join(root, rel));
  }
  return root;
}

describe("generated Worker types are up to date", () => {
  it("holds in the repository", () => {
    const r = checkWorkerTypes(REPO_ROOT);
    expect(r.ok, `scripts/worker-types.mjs --check:\n${r.output}`).toBe(true);
  });

  it("holds in an unchanged copy of one app", () => {
    const r = checkWorkerTypes(copyOfApp("meta-webhooks"));
    expect(r.ok, r.output).toBe(true);
  });

  it("fails when an app's config gains a var its generated types do not have", () => {
    const root = copyOfApp("meta-webhooks");
    const config = path.join(root, "apps/meta-webhooks/wrangler.jsonc");
    const text = readFileSync(config, "utf8");
    // Into its `vars` block if it has one, else a new block before the compatibility date.
    const withVar = /"vars"\s*:\s*\{/.test(text)
      ? text.replace(/"vars"\s*:\s*\{/, '"vars": { "CHECKS_STALE_PROBE": "1",')
      : text.replace(/"compatibility_date"\s*:/, '"vars": { "CHECKS_STALE_PROBE": "1" },\n  $&');
    expect(withVar, "the fixture could not add a var").toContain("CHECKS_STALE_PROBE");
    writeFileSync(config, withVar);
    const r = checkWorkerTypes(root);
    expect(r.output).toMatch(/meta-webhooks: out of date/);
    expect(r.ok).toBe(false);
  });
});
