import { describe, expect, it } from "vitest";
import { findUnredactedWorkers, workerApps } from "../src/observability.ts";
import { REPO_ROOT } from "../src/tree.ts";
import { appsSkeleton, writeTree } from "./fixture.ts";

// Secrets travel in some request URLs (a forward address's confirmation token, OAuth's code and
// state) and Workers Logs record each request's URL: every Worker must redact query strings there.
describe("every Worker's Workers Logs drop query strings", () => {
  it("holds in the repository", () => {
    // Every Worker is read: a config renamed away would otherwise pass unchecked.
    expect(workerApps(REPO_ROOT)).toEqual([
      "dashboard",
      "discord-interactions",
      "email-inbound",
      "meta-webhooks",
      "pipeline",
    ]);
    expect(findUnredactedWorkers(REPO_ROOT)).toEqual([]);
  });

  it("finds a Worker whose config logs query strings or has no observability block", () => {
    const root = writeTree({
      ...appsSkeleton(),
      // JSONC: comments and trailing commas are read.
      "apps/pipeline/wrangler.jsonc": `{
        // logs on, query strings kept
        "observability": { "enabled": true, },
      }`,
      "apps/dashboard/wrangler.jsonc": `{ "observability": { "enabled": true, "redact_query_string": true } }`,
      "apps/meta-webhooks/wrangler.jsonc": `{ "name": "meta" }`,
    });
    expect(findUnredactedWorkers(root)).toEqual([
      { app: "meta-webhooks", enabled: undefined, redact_query_string: undefined },
      { app: "pipeline", enabled: true, redact_query_string: undefined },
    ]);
  });
});
