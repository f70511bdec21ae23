// Workers Logs record each request's URL. Secrets travel in some query strings (a forward
// address's confirmation token, OAuth's code and state), so every Worker's config must turn
// Workers Logs on with query strings redacted. Our own log lines are redacted by the logger.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";
import { listApps, REPO_ROOT } from "./tree.ts";

export interface ObservabilityFinding {
  app: string;
  enabled: unknown;
  redact_query_string: unknown;
}

/** The apps that are Workers (have a wrangler.jsonc): the ones the check below reads. */
export function workerApps(root: string = REPO_ROOT): string[] {
  return listApps(root)
    .map((a) => a.dir)
    .filter((dir) => existsSync(path.join(root, "apps", dir, "wrangler.jsonc")));
}

/** Each app whose wrangler.jsonc lacks `observability: { enabled: true, redact_query_string: true }`. */
export function findUnredactedWorkers(root: string = REPO_ROOT): ObservabilityFinding[] {
  const findings: ObservabilityFinding[] = [];
  for (const { dir: app } of listApps(root)) {
    const file = path.join(root, "apps", app, "wrangler.jsonc");
    if (!existsSync(file)) continue;
    // TypeScript's JSON reader accepts the comments and trailing commas JSONC allows.
    const parsed = ts.parseConfigFileTextToJson(file, readFileSync(file, "utf8"));
    if (parsed.error)
      throw new Error(`${file}: ${ts.flattenDiagnosticMessageText(parsed.error.messageText, "\n")}`);
    const obs = (parsed.config as { observability?: Record<string, unknown> }).observability ?? {};
    if (obs.enabled !== true || obs.redact_query_string !== true) {
      findings.push({ app, enabled: obs.enabled, redact_query_string: obs.redact_query_string });
    }
  }
  return findings;
}
