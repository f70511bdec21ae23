#!/usr/bin/env node
// Bundles locales/<locale>/*.ftl into src/messages.generated.ts, so Workers (bundled by wrangler),
// Node and tests all load the same text without a loader. `--check` fails when it is stale.
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";

const root = path.join(import.meta.dirname, "..");
const out = path.join(root, "src", "messages.generated.ts");
const locales = readdirSync(path.join(root, "locales")).sort();
const entries = locales.map((locale) => {
  const dir = path.join(root, "locales", locale);
  const text = readdirSync(dir)
    .filter((f) => f.endsWith(".ftl"))
    .sort()
    .map((f) => readFileSync(path.join(dir, f), "utf8"))
    .join("\n");
  return `  ${JSON.stringify(locale)}: ${JSON.stringify(text)},`;
});
const source = `// Generated from locales/*/*.ftl by scripts/generate.mjs. Do not edit; edit the .ftl files.\nexport const MESSAGES: Record<string, string> = {\n${entries.join("\n")}\n};\n`;
if (process.argv.includes("--check")) {
  const current = readFileSync(out, "utf8");
  if (current !== source) {
    process.stderr.write(
      "packages/i18n/src/messages.generated.ts is stale: run node packages/i18n/scripts/generate.mjs\n",
    );
    process.exit(1);
  }
} else writeFileSync(out, source);
