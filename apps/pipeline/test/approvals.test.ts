import { createScheduledController, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { creditBalance, getApproval } from "@concierge/storage";
import { injectGraphFault, sentTo, uniqueCustomer } from "@concierge/testing/sandbox-client";
import { beforeEach, describe, expect, it, vi } from "vitest";
import worker from "../src/index.ts";
import { approvePersona, newAccount, setBalance, tenantApi, tenantId } from "./helpers.ts";

function usePersona(offTopics: string[] = []) {
  return approvePersona({
    kind: "builder",
    voice: "concise",
    businessName: "Chai & Co.",
    businessType: "tea shop",
    catchPhrases: [],
    offTopics,
    never: [],
    handoffConditions: [],
  });
}

function account(approval: "auto" | "always") {
  return newAccount({
    wait_seconds: 0,
    rules: [],
    default_rule: { response: { kind: "prompt", text: "Answer kindly." }, approval },
  });
}

/** A held draft for a new customer; returns its approval id. */
async function heldDraft(
  approval: "auto" | "always" = "always",
  text = "Do you have oat milk? canary-ap-77",
) {
  const acc = await account(approval);
  const customer = uniqueCustomer();
  await acc.send(customer, text);
  await vi.waitUntil(
    async () => (await tenantApi.listApprovals(tenantId)).some((a) => a.accountId === acc.id),
    {
      timeout: 5000,
    },
  );
  const a = (await tenantApi.listApprovals(tenantId)).find((x) => x.accountId === acc.id)!;
  return { id: a.id, approval: a, customer, acc };
}

beforeEach(async () => {
  await usePersona();
  await setBalance(5);
});

describe("approvals", () => {
  it("holds an always-approval draft: nothing sent, one credit held, the text encrypted in the conversation", async () => {
    const { id, approval, customer, acc } = await heldDraft();
    expect(approval).toMatchObject({ status: "pending", reasons: ["approval_always"] });
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(0);
    expect(await creditBalance(env.DB, tenantId)).toBe(4);
    const draft = await tenantApi.readApprovalDraft(tenantId, id);
    expect(draft).toMatchObject({ ok: true, text: expect.stringMatching(/^\[offline AI\]/) });
    const stored = await runInDurableObject(acc.conversation(customer), (_o, state) =>
      JSON.stringify(state.storage.sql.exec("SELECT * FROM drafts").toArray()),
    );
    expect(stored).toContain(id);
    expect(stored).not.toContain("offline AI");
    const d1 = JSON.stringify((await env.DB.prepare("SELECT * FROM approvals").all()).results);
    expect(d1).not.toContain("offline AI");
    expect(d1).not.toContain("canary-ap-77");
  });

  it("sends an approved draft once, however many times it is clicked", async () => {
    const { id, customer } = await heldDraft();
    const results = await Promise.all([
      tenantApi.decideApproval(tenantId, id, { action: "approve" }, "asha"),
      tenantApi.decideApproval(tenantId, id, { action: "approve" }, "ravi"),
    ]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.find((r) => !r.ok)).toMatchObject({ error: { code: "already_decided" } });
    const sent = await sentTo(env.SANDBOX_URL, customer);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.text).toMatch(/^\[offline AI\]/);
    expect(await getApproval(env.DB, tenantId, id)).toMatchObject({ status: "sent" });
    expect(await creditBalance(env.DB, tenantId)).toBe(4);
    expect(await tenantApi.readApprovalDraft(tenantId, id)).toMatchObject({ ok: false });
  });

  it("sends the person's edit instead of the draft", async () => {
    const { id, customer } = await heldDraft();
    expect(
      await tenantApi.decideApproval(tenantId, id, { action: "edit", text: "Yes, we do! 🥛" }, "asha"),
    ).toEqual({
      ok: true,
      status: "sent",
    });
    expect((await sentTo(env.SANDBOX_URL, customer))[0]!.text).toBe("Yes, we do! 🥛");
    expect(await tenantApi.decideApproval(tenantId, id, { action: "edit", text: " " }, "asha")).toMatchObject(
      {
        ok: false,
        error: { code: "invalid_text" },
      },
    );
  });

  it("rejects a draft: nothing is sent and the credit comes back", async () => {
    const { id, customer } = await heldDraft();
    expect(await tenantApi.decideApproval(tenantId, id, { action: "reject" }, "asha")).toEqual({
      ok: true,
      status: "rejected",
    });
    expect(await creditBalance(env.DB, tenantId)).toBe(5);
    expect(await tenantApi.decideApproval(tenantId, id, { action: "approve" }, "asha")).toMatchObject({
      ok: false,
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(0);
  });

  it("says a channel down for now is worth another try (send_retryable), and the draft waits again", async () => {
    const { id, customer } = await heldDraft();
    // Meta's "service temporarily unavailable": not the customer's fault, gone in a moment.
    await injectGraphFault(env.SANDBOX_URL, {
      status: 503,
      code: 2,
      message: "Service temporarily unavailable",
      to: customer,
    });
    expect(await tenantApi.decideApproval(tenantId, id, { action: "approve" }, "asha")).toMatchObject({
      ok: false,
      error: { code: "send_retryable" },
    });
    expect(await getApproval(env.DB, tenantId, id)).toMatchObject({ status: "pending" });
    expect(await creditBalance(env.DB, tenantId)).toBe(4);
    // The second try goes through.
    expect(await tenantApi.decideApproval(tenantId, id, { action: "approve" }, "asha")).toEqual({
      ok: true,
      status: "sent",
    });
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(1);
  });

  it("expires drafts after 24 hours by cron, restoring the credit", async () => {
    const { id, customer } = await heldDraft();
    await env.DB.prepare("UPDATE approvals SET expires_at = ? WHERE id = ?")
      .bind(Date.now() - 1, id)
      .run();
    expect(await tenantApi.decideApproval(tenantId, id, { action: "approve" }, "late")).toMatchObject({
      ok: false,
    });
    await worker.scheduled(
      createScheduledController({ cron: "*/15 * * * *", scheduledTime: Date.now() }),
      env,
    );
    expect(await getApproval(env.DB, tenantId, id)).toMatchObject({ status: "expired" });
    expect(await creditBalance(env.DB, tenantId)).toBe(5);
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(0);
  });

  it("holds an auto-approval draft the risk check flags (a persona off-topic)", async () => {
    await usePersona(["offline provider"]);
    const { approval } = await heldDraft("auto", "Hello there");
    expect(approval.reasons).toEqual(["off_topic"]);
  });

  it("keeps another tenant's approvals out of reach", async () => {
    const { id } = await heldDraft();
    expect(await tenantApi.readApprovalDraft("t_other", id)).toMatchObject({
      ok: false,
      error: { code: "not_found" },
    });
    expect(await tenantApi.decideApproval("t_other", id, { action: "approve" }, "x")).toMatchObject({
      ok: false,
      error: { code: "not_found" },
    });
    expect(await getApproval(env.DB, tenantId, id)).toMatchObject({ status: "pending" });
  });
});
