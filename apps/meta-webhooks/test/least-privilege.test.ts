// The pipeline's service binding as meta-webhooks holds it: the Meta ingest API and nothing else.
// A compromised or buggy ingress Worker cannot delete a tenant, read drafts, change settings or
// route email.
import { env } from "cloudflare:workers";
import { getTenant } from "@concierge/storage";
import { methodsReachedOutside } from "@concierge/testing/least-privilege";
import { newWamid } from "@concierge/testing/meta";
import { DEMO } from "@concierge/testing/seed";
import { describe, expect, it } from "vitest";

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
