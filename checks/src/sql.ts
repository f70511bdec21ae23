// Check 3: SQL only in storage and the conversation store (ARCHITECTURE.md §2: `storage` is "the
// only place with D1 SQL"; the Durable Object's own SQLite lives in one conversation-store module).
// Each source file under apps/ and packages/ is parsed with the TypeScript compiler, and only
// code is looked at: string and template literals that hold an SQL statement, and calls that run
// one (`<db>.prepare(…)` on D1, `<…>.sql.exec(…)` on Durable Object SQLite). Comments, prose and
// Fluent messages are not code, and user-facing English such as "Delete from this list" is not SQL:
// statements are recognised by their upper-case keywords (the repository's SQL style) or, in lower
// case, only in a shape no sentence has (`insert into t (`, `update t set c =`, …).
import { readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";
import { existing, walkFiles } from "./tree.ts";

export type SqlFinding = {
  /** File relative to the root. */
  file: string;
  /** 1-based line of the literal or the call. */
  line: number;
  /** The statement (whitespace collapsed, shortened) or the call. */
  statement: string;
};

/**
 * Where SQL may be, as paths relative to the root: D1 SQL in packages/storage, each Durable
 * Object's SQLite in its one store module (the conversation's, the demo quota's), migrations, and
 * tests. `packages/testing` is the tests' own package (fixtures, seeds, factories; never
 * deployed), so it counts as tests.
 */
export const SQL_ALLOWED: readonly RegExp[] = [
  /^packages\/storage\/src\//,
  /^apps\/pipeline\/src\/conversation\/store\.ts$/,
  /^apps\/pipeline\/src\/demo\/quota-store\.ts$/,
  /(^|\/)migrations\//,
  /(^|\/)(test|tests|__tests__)\//,
  /\.(test|spec)\.[cm]?[jt]sx?$/,
  /(^|\/)vitest(\.[\w-]+)*\.[cm]?[jt]s$/,
  /^packages\/testing\//,
];

const SOURCE = /\.([cm]?[jt]sx?)$/;

/** SQL statement shapes. Upper-case keywords are SQL; lower case only in a shape prose never has. */
const STATEMENTS: readonly RegExp[] = [
  /\bSELECT\b[\s\S]*?\bFROM\b/,
  /\bINSERT\s+(OR\s+[A-Z]+\s+)?INTO\b/,
  /\bREPLACE\s+INTO\b/,
  /\bUPDATE\s+[\w."`]+\s+SET\b/,
  /\bDELETE\s+FROM\b/,
  /\b(CREATE|DROP|ALTER)\s+(TABLE|VIEW|TRIGGER|(UNIQUE\s+)?INDEX)\b/,
  /\bselect\s+(\*|[\w.]+(\s+as\s+\w+)?(\s*,\s*[\w.]+(\s+as\s+\w+)?)*|count\(\*\))\s+from\s+[\w."`]+\s+(where|order\s+by|group\s+by|limit|join)\b/i,
  /\binsert\s+(or\s+\w+\s+)?into\s+[\w."`]+\s*\(/i,
  /\bupdate\s+[\w."`]+\s+set\s+[\w."`]+\s*=/i,
  /\bdelete\s+from\s+[\w."`]+\s+where\b/i,
  /\bcreate\s+table\s+(if\s+not\s+exists\s+)?[\w."`]+\s*\(/i,
];

export function looksLikeSql(text: string): boolean {
  return STATEMENTS.some((re) => re.test(text));
}

/** `x.prepare(…)` (D1) or `….sql.exec(…)` / `sql.exec(…)` (Durable Object SQLite). */
function sqlCall(node: ts.CallExpression): { label: string; at: ts.Node } | null {
  const callee = node.expression;
  if (!ts.isPropertyAccessExpression(callee)) return null;
  const name = callee.name.text;
  if (name === "prepare") return { label: ".prepare(", at: callee.name };
  if (name === "exec") {
    const target = callee.expression;
    const last = ts.isPropertyAccessExpression(target)
      ? target.name.text
      : ts.isIdentifier(target)
        ? target.text
        : null;
    if (last === "sql") return { label: "sql.exec(", at: callee.name };
  }
  return null;
}

function literalText(node: ts.Node): string | null {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isTemplateExpression(node))
    return node.head.text + node.templateSpans.map((s) => `…${s.literal.text}`).join("");
  return null;
}

const shorten = (s: string) => {
  const one = s.replace(/\s+/g, " ").trim();
  return one.length > 100 ? `${one.slice(0, 99)}…` : one;
};

/** The SQL in one file's source text (no allowlist: callers decide where SQL may be). */
export function findSqlInSource(file: string, text: string): SqlFinding[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: SqlFinding[] = [];
  const reported = new Set<ts.Node>();
  const lineOf = (n: ts.Node) => source.getLineAndCharacterOfPosition(n.getStart(source)).line + 1;
  const visit = (node: ts.Node) => {
    if (ts.isCallExpression(node)) {
      const call = sqlCall(node);
      if (call) {
        const arg = node.arguments[0];
        const argText = arg ? literalText(arg) : null;
        if (arg && argText !== null) reported.add(arg);
        const detail = argText !== null ? shorten(argText) : arg ? arg.getText(source) : "";
        found.push({ file, line: lineOf(call.at), statement: `${call.label}${shorten(detail)})` });
      }
    } else if (!reported.has(node)) {
      const t = literalText(node);
      if (t !== null && looksLikeSql(t)) found.push({ file, line: lineOf(node), statement: shorten(t) });
      // A template's parts are visited with it; its substitutions may hold literals of their own.
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  // A call on a later line than its statement, e.g. `db\n  .prepare(\n "…")`: keep source order.
  return found.sort((a, b) => a.line - b.line);
}

/** SQL under apps/ and packages/ outside the places in `allowed`. */
export function findSqlOutsideStores(
  root: string,
  allowed: readonly RegExp[] = SQL_ALLOWED,
  dirs: readonly string[] = ["apps", "packages"],
): SqlFinding[] {
  return existing(root, dirs)
    .flatMap((dir) => walkFiles(root, dir))
    .filter((f) => SOURCE.test(f) && !allowed.some((re) => re.test(f)))
    .flatMap((f) => findSqlInSource(f, readFileSync(path.join(root, f), "utf8")));
}

export function formatSqlFinding(f: SqlFinding): string {
  return `${f.file}:${f.line} → ${f.statement}`;
}
