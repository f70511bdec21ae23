import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll } from "vitest";

const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** Writes `files` (path relative to the tree → content) into a new temp dir; returns its path. */
export function writeTree(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(os.tmpdir(), "concierge-checks-"));
  made.push(root);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), text);
  }
  return root;
}

/** A package.json for a fixture workspace package. */
export const pkg = (name: string) =>
  JSON.stringify({ name, private: true, type: "module", exports: { ".": "./src/index.ts" } });

/** The five apps, each with a package.json and an empty entry, for fixtures to add to. */
export function appsSkeleton(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const app of ["pipeline", "dashboard", "meta-webhooks", "email-inbound", "discord-interactions"]) {
    files[`apps/${app}/package.json`] = pkg(app);
    files[`apps/${app}/src/index.ts`] = "export default {};\n";
  }
  files["apps/pipeline/src/types.ts"] = "export type Thread = { id: string };\n";
  return files;
}
