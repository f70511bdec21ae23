// The pipeline's service binding as the dashboard holds it: the tenant API and nothing else (the
// Razorpay webhook route has its own binding to the billing API). The dashboard cannot ingest
// customer messages, act as the Discord inbox or rotate keys.
import { env } from "cloudflare:workers";
import { methodsReachedOutside } from "@concierge/testing/least-privilege";
import { describe, expect, it } from "vitest";

describe("the dashboard's binding to the pipeline", () => {
  it("reaches the tenant API", async () => {
    expect(await env.PIPELINE.listApprovals("t_nobody")).toEqual([]);
  });

  it("cannot call any method of the ingest, Discord, billing or operator APIs", async () => {
    expect(await methodsReachedOutside(env.PIPELINE, "TenantEntrypoint")).toEqual([]);
  });
});
