// The pipeline's service bindings as the dashboard holds them: the tenant API and nothing else (the
// Razorpay webhook route has its own binding to the billing API, the operator panel its own to the
// operator API, the public live demo its own to the demo API). The dashboard cannot ingest customer messages or act as the Discord inbox, and
// its tenant pages cannot reach an operator's method.
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

describe("the dashboard's operator binding (the /manage panel's only way to write)", () => {
  it("reaches the operator API, which refuses a caller that is no operator", async () => {
    const res = await env.OPERATOR.suspendTenant(
      { email: "not an email" },
      { tenantId: "t_demo", reason: "x" },
    );
    expect(res.ok).toBe(false);
  });

  it("cannot call any method of the ingest, Discord, tenant or billing APIs", async () => {
    expect(await methodsReachedOutside(env.OPERATOR, "OperatorEntrypoint")).toEqual([]);
  });
});

describe("the dashboard's demo binding (the public live demo's only way in)", () => {
  it("reaches the demo API, which refuses a turn that is not one", async () => {
    const res = await env.DEMO.demoReply({ archetypeId: "cafe-host" });
    expect(res.ok).toBe(false);
  });

  it("cannot call any method of the tenant, ingest, Discord, billing or operator APIs", async () => {
    expect(await methodsReachedOutside(env.DEMO, "DemoEntrypoint")).toEqual([]);
  });
});
