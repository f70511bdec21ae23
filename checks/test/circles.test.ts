import { describe, expect, it } from "vitest";
import { findImportCircles, formatImportCircle } from "../src/circles.ts";
import { REPO_ROOT } from "../src/tree.ts";
import { writeTree } from "./fixture.ts";

describe("no import circles in apps/ and packages/", () => {
  it("holds in the repository", async () => {
    const found = await findImportCircles(REPO_ROOT);
    expect(found.map(formatImportCircle), "import circles (a → b → … → a)").toEqual([]);
  });

  it("finds a circle made of type-only imports", async () => {
    const root = writeTree({
      "apps/pipeline/src/turn.ts":
        'import type { Relay } from "./relay.ts";\nexport type Turn = { relay?: Relay };\n',
      "apps/pipeline/src/relay.ts":
        'import type { Notify } from "./notify.ts";\nexport type Relay = { notify?: Notify };\n',
      "apps/pipeline/src/notify.ts":
        'import type { Turn } from "./turn.ts";\nexport type Notify = { turn?: Turn };\n',
      "apps/pipeline/src/index.ts": 'export * from "./turn.ts";\n',
    });
    expect((await findImportCircles(root)).map(formatImportCircle)).toEqual([
      "apps/pipeline/src/notify.ts → apps/pipeline/src/turn.ts → apps/pipeline/src/relay.ts → apps/pipeline/src/notify.ts",
    ]);
  });

  it("finds a circle in packages/ and none in a tree without one", async () => {
    const circle = writeTree({
      "packages/core/src/a.ts": 'import { b } from "./b";\nexport const a = () => b;\n',
      "packages/core/src/b.ts": 'import { a } from "./a";\nexport const b = () => a;\n',
    });
    expect((await findImportCircles(circle)).map(formatImportCircle)).toEqual([
      "packages/core/src/a.ts → packages/core/src/b.ts → packages/core/src/a.ts",
    ]);
    const chain = writeTree({
      "packages/core/src/a.ts": 'import { b } from "./b";\nexport const a = () => b;\n',
      "packages/core/src/b.ts": "export const b = 1;\n",
    });
    expect(await findImportCircles(chain)).toEqual([]);
  });
});
