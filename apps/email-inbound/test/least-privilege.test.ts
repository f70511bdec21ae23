// The pipeline's service binding as email-inbound holds it: the email ingest API and nothing
// else. It cannot bring in WhatsApp or Instagram messages nor reach any tenant's configuration.
import { env } from "cloudflare:workers";
import { methodsReachedOutside } from "@concierge/testing/least-privilege";
import { newWamid } from "@concierge/testing/meta";
import { describe, expect, it } from "vitest";

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
