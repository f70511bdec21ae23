// One way to run dependency-cruiser over a tree, shared by the import checks: TypeScript read
// before compilation (so `import type` counts), workspace packages resolved through their
// `exports` to the source files they point at, and nothing under node_modules followed.
import { cruise, type ICruiseResult, type IForbiddenRuleType } from "dependency-cruiser";

const SKIPPED = "(^|/)(node_modules|\\.wrangler|\\.turbo|dist|\\.local)(/|$)";

export async function cruiseTree(
  root: string,
  dirs: readonly string[],
  forbidden: IForbiddenRuleType[],
): Promise<ICruiseResult> {
  const result = await cruise(
    [...dirs],
    {
      baseDir: root,
      validate: true,
      ruleSet: { forbidden },
      tsPreCompilationDeps: true,
      exclude: { path: SKIPPED },
      doNotFollow: { path: "(^|/)node_modules(/|$)" },
      builtInModules: {
        override: [],
        add: ["cloudflare:workers", "cloudflare:test", "cloudflare:email", "cloudflare:sockets"],
      },
      enhancedResolveOptions: {
        exportsFields: ["exports"],
        conditionNames: ["import", "workerd", "worker", "browser", "types", "default"],
        extensions: [".ts", ".tsx", ".d.ts", ".mts", ".js", ".mjs", ".json"],
        mainFields: ["module", "main", "types"],
      },
    },
    {},
  );
  if (typeof result.output === "string") throw new Error("dependency-cruiser returned text, not a result");
  return result.output;
}
