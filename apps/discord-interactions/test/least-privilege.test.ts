// The pipeline's service binding as discord-interactions holds it: the Discord API and nothing
// else. A forged or buggy interaction cannot create or delete tenants, ingest messages or pay.
import { env, exports } from "cloudflare:workers";
import { HEALTH_ENTRYPOINT_METHODS, WorkerConfigReportSchema } from "@concierge/core";
import { declaredConfigNames, listedConfigNames } from "@concierge/testing/config-names";
import { methodsReachedOutside } from "@concierge/testing/least-privilege";
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import devVarsExample from "../.dev.vars.example?raw";
import { DISCORD_INTERACTIONS_CONFIG, HealthEntrypoint } from "../src/health.ts";
import wranglerConfig from "../wrangler.jsonc?raw";

describe("discord-interactions' binding to the pipeline", () => {
  it("reaches the Discord API", async () => {
    expect(await env.PIPELINE.discordGuild("1")).toMatchObject({
      ok: false,
      error: { code: "not_installed" },
    });
  });

  it("cannot call any method of the ingest, tenant, billing or operator APIs", async () => {
    expect(await methodsReachedOutside(env.PIPELINE, "DiscordEntrypoint")).toEqual([]);
  });
});

// The Worker's own named entrypoint for the platform health page: only the dashboard's
// HEALTH_DISCORD binding reaches it; the internet reaches the default export alone.
describe("discord-interactions's health entrypoint", () => {
  it("reports its configuration by name only: here, nothing missing", async () => {
    const report = await exports.HealthEntrypoint.configReport();
    expect(report).toEqual({ worker: "discord-interactions", missing: [], optionalMissing: [] });
    expect(v.is(WorkerConfigReportSchema, report)).toBe(true);
    expect(JSON.stringify(report)).not.toContain(String(env.DISCORD_PUBLIC_KEY));
  });

  it("checks every name its wrangler.jsonc and .dev.vars.example declare, so the list cannot drift", () => {
    expect(listedConfigNames(DISCORD_INTERACTIONS_CONFIG)).toEqual(
      declaredConfigNames(wranglerConfig, devVarsExample),
    );
  });

  it("has exactly the contract's one method, and no route from the internet", async () => {
    const own = Object.getOwnPropertyNames(HealthEntrypoint.prototype).filter((m) => m !== "constructor");
    expect(own).toEqual([...HEALTH_ENTRYPOINT_METHODS]);
    for (const path of ["/configReport", "/HealthEntrypoint/configReport", "/health"]) {
      expect((await exports.default.fetch(`https://discord-interactions.test${path}`)).status, path).toBe(
        404,
      );
    }
  });
});
