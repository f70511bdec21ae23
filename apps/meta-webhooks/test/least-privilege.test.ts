// The pipeline's service binding as meta-webhooks holds it: the ingest API and nothing else. A
// compromised or buggy ingress Worker cannot delete a tenant, read drafts or change settings.
import { env } from "cloudflare:workers";
import { newWamid } from "@concierge/testing/meta";
import { DEMO } from "@concierge/testing/seed";
import { getTenant } from "@concierge/storage";
import { describe, expect, it } from "vitest";

/** The binding seen as a bag of methods, the way an attacker's code would call it. */
const anyMethod = env.PIPELINE as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;

/** Calls a method through the binding; the error it was refused with, or null if it ran. */
async function refusal(method: string, args: unknown[]): Promise<Error | null> {
  try {
    await anyMethod[method]!(...args);
    return null;
  } catch (err) {
    return err as Error;
  }
}

describe("meta-webhooks' binding to the pipeline", () => {
  it("reaches the ingest API", async () => {
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
    // An account nobody connected: accepted by the binding, refused by the pipeline's own check.
    expect(r).toEqual({ ok: true, results: [expect.objectContaining({ status: "unknown_account" })] });
  });

  it.each([
    ["deleteTenant", [DEMO.tenantId]],
    ["createTenant", [{ name: "Mallory" }]],
    ["saveConversationSettings", [DEMO.tenantId, {}]],
    ["readApprovalDraft", [DEMO.tenantId, "ap_x"]],
    ["sendHumanReply", [DEMO.tenantId, "acc", "9198", "hi", "mallory"]],
    ["relayAction", [DEMO.tenantId, "rl_x", { kind: "drop" }, { id: "1", name: "m" }]],
    ["rotateTenantKey", [DEMO.tenantId]],
  ])("cannot call %s (tenant, Discord and operator APIs)", async (method, args) => {
    const err = await refusal(method, args);
    expect(err?.message).toBe(`The RPC receiver does not implement the method "${method}".`);
  });

  it("leaves the tenant in place after trying to delete it", async () => {
    expect(await refusal("deleteTenant", [DEMO.tenantId])).toBeInstanceOf(Error);
    expect(await getTenant(env.DB, DEMO.tenantId)).not.toBeNull();
  });
});
