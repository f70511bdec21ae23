import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";

/** The repository this package lives in (checks/ is one level below its root). */
export const REPO_ROOT = path.resolve(import.meta.dirname, "../..");

/** Folders that hold no source of ours: installed packages, build output, local state. */
export const SKIPPED_DIRS = new Set(["node_modules", ".wrangler", ".turbo", "dist", ".local", ".git"]);

export type App = { dir: string; packageName: string };

/** The apps of a tree: every `apps/<dir>` with a package.json, with its package name. */
export function listApps(root: string): App[] {
  const appsDir = path.join(root, "apps");
  if (!existsSync(appsDir)) return [];
  return readdirSync(appsDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(appsDir, d.name, "package.json")))
    .map((d) => {
      const pkg = JSON.parse(readFileSync(path.join(appsDir, d.name, "package.json"), "utf8")) as {
        name?: string;
      };
      return { dir: d.name, packageName: pkg.name ?? d.name };
    })
    .sort((a, b) => a.dir.localeCompare(b.dir));
}

/** Every file under `dir` (relative to `root`, with `/`), skipping SKIPPED_DIRS. */
export function walkFiles(root: string, dir: string): string[] {
  const out: string[] = [];
  const visit = (rel: string) => {
    const abs = path.join(root, rel);
    if (!existsSync(abs)) return;
    for (const entry of readdirSync(abs, { withFileTypes: true })) {
      if (SKIPPED_DIRS.has(entry.name)) continue;
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) visit(child);
      else if (entry.isFile()) out.push(child);
    }
  };
  visit(dir);
  return out.sort();
}

/** Dirs that exist in `root`, of those asked for (a fixture may have only apps/ or packages/). */
export function existing(root: string, dirs: readonly string[]): string[] {
  return dirs.filter((d) => existsSync(path.join(root, d)));
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** A regex alternative group of literal strings: `(a|b\.c)`. */
export function alternatives(names: readonly string[]): string {
  return `(${names.map(escapeRegExp).join("|")})`;
}
