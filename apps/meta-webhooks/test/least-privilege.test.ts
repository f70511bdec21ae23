// The pipeline's service binding as meta-webhooks holds it: the Meta ingest API and nothing else.
// A compromised or buggy ingress Worker cannot delete a tenant, read drafts, change settings or
// route email.
import { env, exports } from "cloudflare:workers";
import { HEALTH_ENTRYPOINT_METHODS, WorkerConfigReportSchema } from "@concierge/core";
import { getTenant } from "@concierge/storage";
import { declaredConfigNames, listedConfigNames } from "@concierge/testing/config-names";
import { methodsReachedOutside } from "@concierge/testing/least-privilege";
import { newWamid } from "@concierge/testing/meta";
import { DEMO } from "@concierge/testing/seed";
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import devVarsExample from "../.dev.vars.example?raw";
import { HealthEntrypoint, META_WEBHOOKS_CONFIG } from "../src/health.ts";
import wranglerConfig from "../wrangler.jsonc?raw";

const message = (channel: "whatsapp" | "email") => ({
  channel,
  accountExternalId: channel === "email" ? "nobody.cncg.email" : "000000000000000",
  providerMessageId: channel === "email" ? `<${newWamid()}@customer.example>` : newWamid(),
  customerId: channel === "email" ? "c@customer.example" : "919800000001",
  text: "hello",
  sentAt: Date.now(),
  kind: "text" as const,
  hasAttachment: false,
});

describe("meta-webhooks' binding to the pipeline", () => {
  it("reaches the Meta ingest API", async () => {
    const r = await env.PIPELINE.ingest([message("whatsapp")]);
    // An account nobody connected: accepted by the binding, refused by the pipeline's own check.
    expect(r).toEqual({ ok: true, results: [expect.objectContaining({ status: "unknown_account" })] });
  });

  it("cannot bring in email", async () => {
    const r = await env.PIPELINE.ingest([message("email")]);
    expect(r).toMatchObject({ ok: false, error: { code: "channel_not_allowed" } });
  });

  it("cannot call any method of the email, tenant, Discord, billing or operator APIs", async () => {
    expect(await methodsReachedOutside(env.PIPELINE, "MetaIngestEntrypoint")).toEqual([]);
    // Among them deleteTenant: the demo tenant is still there.
    expect(await getTenant(env.DB, DEMO.tenantId)).not.toBeNull();
  });
});

// The Worker's own named entrypoint for the platform health page: only the dashboard's
// HEALTH_META_WEBHOOKS binding reaches it; the internet reaches the default export alone.
describe("meta-webhooks's health entrypoint", () => {
  it("reports its configuration by name only: here, nothing missing", async () => {
    const report = await exports.HealthEntrypoint.configReport();
    expect(report).toEqual({ worker: "meta-webhooks", missing: [], optionalMissing: [] });
    expect(v.is(WorkerConfigReportSchema, report)).toBe(true);
    expect(JSON.stringify(report)).not.toContain(String(env.META_APP_SECRET));
  });

  it("checks every name its wrangler.jsonc and .dev.vars.example declare, so the list cannot drift", () => {
    expect(listedConfigNames(META_WEBHOOKS_CONFIG)).toEqual(
      declaredConfigNames(wranglerConfig, devVarsExample),
    );
  });

  it("has exactly the contract's one method, and no route from the internet", async () => {
    const own = Object.getOwnPropertyNames(HealthEntrypoint.prototype).filter((m) => m !== "constructor");
    expect(own).toEqual([...HEALTH_ENTRYPOINT_METHODS]);
    for (const path of ["/configReport", "/HealthEntrypoint/configReport", "/health"]) {
      expect((await exports.default.fetch(`https://meta-webhooks.test${path}`)).status, path).toBe(404);
    }
  });
});
