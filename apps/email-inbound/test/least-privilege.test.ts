// The pipeline's service binding as email-inbound holds it: the email ingest API and nothing
// else. It cannot bring in WhatsApp or Instagram messages nor reach any tenant's configuration.
import { env, exports } from "cloudflare:workers";
import { HEALTH_ENTRYPOINT_METHODS, WorkerConfigReportSchema } from "@concierge/core";
import { declaredConfigNames, listedConfigNames } from "@concierge/testing/config-names";
import { methodsReachedOutside } from "@concierge/testing/least-privilege";
import { newWamid } from "@concierge/testing/meta";
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import devVarsExample from "../.dev.vars.example?raw";
import { EMAIL_INBOUND_CONFIG, HealthEntrypoint } from "../src/health.ts";
import wranglerConfig from "../wrangler.jsonc?raw";

describe("email-inbound's binding to the pipeline", () => {
  it("cannot bring in WhatsApp messages", async () => {
    const r = await env.PIPELINE.ingest([
      {
        channel: "whatsapp",
        accountExternalId: "000000000000000",
        providerMessageId: newWamid(),
        customerId: "919800000001",
        text: "hello",
        sentAt: Date.now(),
        kind: "text",
        hasAttachment: false,
      },
    ]);
    expect(r).toMatchObject({ ok: false, error: { code: "channel_not_allowed" } });
  });

  it("reaches the email ingest API", async () => {
    expect(await env.PIPELINE.emailRoute("nobody.cncg.email")).toEqual({ ok: true, route: null });
  });

  it("cannot call any method of the Meta ingest, tenant, Discord, billing or operator APIs", async () => {
    expect(await methodsReachedOutside(env.PIPELINE, "EmailIngestEntrypoint")).toEqual([]);
  });
});

// The Worker's own named entrypoint for the platform health page: only the dashboard's
// HEALTH_EMAIL_INBOUND binding reaches it; the internet reaches the default export alone.
describe("email-inbound's health entrypoint", () => {
  it("reports its configuration by name only: here, nothing missing", async () => {
    const report = await exports.HealthEntrypoint.configReport();
    expect(report).toEqual({ worker: "email-inbound", missing: [], optionalMissing: [] });
    expect(v.is(WorkerConfigReportSchema, report)).toBe(true);
  });

  it("checks every name its wrangler.jsonc and .dev.vars.example declare, so the list cannot drift", () => {
    expect(listedConfigNames(EMAIL_INBOUND_CONFIG)).toEqual(
      declaredConfigNames(wranglerConfig, devVarsExample),
    );
  });

  it("has exactly the contract's one method, and no route from the internet", async () => {
    const own = Object.getOwnPropertyNames(HealthEntrypoint.prototype).filter((m) => m !== "constructor");
    expect(own).toEqual([...HEALTH_ENTRYPOINT_METHODS]);
    for (const path of ["/configReport", "/HealthEntrypoint/configReport", "/health"]) {
      expect((await exports.default.fetch(`https://email-inbound.test${path}`)).status, path).toBe(404);
    }
  });
});
