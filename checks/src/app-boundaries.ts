// Check 1: no app imports another app's source (ARCHITECTURE.md §1: "Types that cross a binding
// live in packages/core; no app imports another app's source"). Every file under apps/<a>/ (src,
// test, vitest configs, generated types) is read; an import is a violation when it resolves into
// apps/<b>/, or, unresolved, names app <b> by its package name (`pipeline/src/…`) or by a
// relative path (`../../pipeline/src/…`). Vitest configs start other apps as auxiliary Workers
// through packages/testing helpers, by name, not by import, so they need no exception.
import type { IForbiddenRuleType } from "dependency-cruiser";
import { cruiseTree } from "./cruise.ts";
import { alternatives, existing, listApps } from "./tree.ts";

export type CrossAppImport = {
  /** The importing file, relative to the root. */
  from: string;
  /** The import specifier as written. */
  specifier: string;
  /** Where it resolves (or the specifier itself when it does not resolve). */
  to: string;
};

export async function findCrossAppImports(root: string): Promise<CrossAppImport[]> {
  const apps = listApps(root);
  if (apps.length < 2 || existing(root, ["apps"]).length === 0) return [];
  const rules: IForbiddenRuleType[] = apps.flatMap((app) => {
    const others = apps.filter((o) => o.dir !== app.dir);
    const from = { path: `^apps/${alternatives([app.dir])}/` };
    return [
      {
        name: `no-cross-app-source:${app.dir}`,
        severity: "error",
        from,
        to: { path: `^apps/${alternatives(others.map((o) => o.dir))}/` },
      },
      {
        name: `no-cross-app-package:${app.dir}`,
        severity: "error",
        from,
        to: {
          couldNotResolve: true,
          path: [
            `^${alternatives(others.map((o) => o.packageName))}(/|$)`,
            `^(\\.\\./)+(apps/)?${alternatives(others.map((o) => o.dir))}(/|$)`,
          ],
        },
      },
    ] satisfies IForbiddenRuleType[];
  });
  const result = await cruiseTree(root, ["apps"], rules);
  const modules = new Map(result.modules.map((m) => [m.source, m]));
  const found = result.summary.violations.map((v) => {
    const dep = modules.get(v.from)?.dependencies.find((d) => d.resolved === v.to);
    return { from: v.from, specifier: dep?.module ?? v.to, to: v.to };
  });
  return dedupe(found).sort((a, b) => a.from.localeCompare(b.from) || a.specifier.localeCompare(b.specifier));
}

function dedupe(list: CrossAppImport[]): CrossAppImport[] {
  const seen = new Set<string>();
  return list.filter((x) => {
    const key = `${x.from}\0${x.specifier}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export function formatCrossAppImport(x: CrossAppImport): string {
  return x.specifier === x.to ? `${x.from} → ${x.specifier}` : `${x.from} → ${x.specifier} (${x.to})`;
}
