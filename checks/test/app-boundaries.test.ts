import { describe, expect, it } from "vitest";
import { findCrossAppImports, formatCrossAppImport } from "../src/app-boundaries.ts";
import { REPO_ROOT } from "../src/tree.ts";
import { appsSkeleton, pkg, writeTree } from "./fixture.ts";

describe("no app imports another app's source", () => {
  it("holds in the repository", async () => {
    const found = await findCrossAppImports(REPO_ROOT);
    expect(found.map(formatCrossAppImport), "apps importing another app's source (file → import)").toEqual(
      [],
    );
  });

  it("finds a relative import of another app's src, type-only, from a test", async () => {
    const root = writeTree({
      ...appsSkeleton(),
      "apps/email-inbound/test/route.test.ts":
        'import type { Thread } from "../../pipeline/src/types.ts";\nexport const t: Thread = { id: "x" };\n',
    });
    expect((await findCrossAppImports(root)).map(formatCrossAppImport)).toEqual([
      "apps/email-inbound/test/route.test.ts → ../../pipeline/src/types.ts (apps/pipeline/src/types.ts)",
    ]);
  });

  it("finds an import of another app by its package name", async () => {
    const root = writeTree({
      ...appsSkeleton(),
      "apps/discord-interactions/src/relay.ts":
        'import type { Thread } from "pipeline/src/types";\nexport type T = Thread;\n',
    });
    expect((await findCrossAppImports(root)).map(formatCrossAppImport)).toEqual([
      "apps/discord-interactions/src/relay.ts → pipeline/src/types",
    ]);
  });

  it("allows imports within an app, of packages, and vitest configs naming other apps", async () => {
    const root = writeTree({
      ...appsSkeleton(),
      "packages/core/package.json": pkg("@concierge/core"),
      "packages/core/src/index.ts": "export type Thread = { id: string };\n",
      "apps/dashboard/node_modules/@concierge/core/package.json": pkg("@concierge/core"),
      "apps/dashboard/node_modules/@concierge/core/src/index.ts": "export type Thread = { id: string };\n",
      "apps/dashboard/src/inbox.ts":
        'import type { Thread } from "@concierge/core";\nimport "./index.ts";\nexport type T = Thread;\n',
      "apps/dashboard/vitest.config.ts":
        'import { pipelineAuxWorker } from "../../packages/testing/src/workers.ts";\nexport default { workers: [pipelineAuxWorker("pipeline")] };\n',
      "packages/testing/src/workers.ts":
        'export const pipelineAuxWorker = (name: string) => ({ name, dir: "../../apps/pipeline" });\n',
    });
    expect(await findCrossAppImports(root)).toEqual([]);
  });
});
