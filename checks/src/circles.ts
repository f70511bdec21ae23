// Check 2: no import circles anywhere in apps/ and packages/, type-only imports included
// (dependency-cruiser's `no-circular` over TypeScript read before compilation). Tests are not
// excluded: a test that sits in a circle is as hard to follow as source that does.
import { cruiseTree } from "./cruise.ts";
import { existing } from "./tree.ts";

/** Each circle once, as the files in import order, starting from its smallest path. */
export type ImportCircle = string[];

export async function findImportCircles(
  root: string,
  dirs: readonly string[] = ["apps", "packages"],
): Promise<ImportCircle[]> {
  const present = existing(root, dirs);
  if (present.length === 0) return [];
  const result = await cruiseTree(root, present, [
    { name: "no-circular", severity: "error", from: {}, to: { circular: true } },
  ]);
  const circles = new Map<string, ImportCircle>();
  for (const v of result.summary.violations) {
    if (!v.cycle) continue;
    // A violation is one edge from → cycle[0] → … → from: the whole circle is from + cycle.
    const names = [v.from, ...v.cycle.map((c) => c.name)];
    if (names.at(-1) === v.from) names.pop();
    const start = names.indexOf([...names].sort()[0]!);
    const circle = [...names.slice(start), ...names.slice(0, start)];
    circles.set(circle.join("\0"), circle);
  }
  return [...circles.values()].sort((a, b) => a.join().localeCompare(b.join()));
}

export function formatImportCircle(circle: ImportCircle): string {
  return [...circle, circle[0]].join(" → ");
}
