// Issue 17 items 10–12 as the tenant and the operator see them: customers left unanswered by a
// turn that gave up (overview), a persona verdict that is overdue (overview, persona page and its
// polled fragment), and conversations whose alarm gave up plus overdue verdicts (the operator's
// health page). Through the Worker's routes; the rows are what the pipeline writes.
import { env } from "cloudflare:workers";
import { createChannelAccount, recordMessages, recordStuckAlarm, savePersona } from "@concierge/storage";
import { beforeAll, describe, expect, it } from "vitest";
import { get, signIn } from "./helpers.ts";
import { asOperator, signInOperator, type TestOperator } from "./operator-helpers.ts";

const pageOf = async (res: Response) => {
  expect(res.status).toBe(200);
  return res.text();
};

/** The tenant's persona saved `minutes` ago and still without a verdict. */
async function pendingPersona(tenantId: string, minutes: number) {
  await savePersona(
    env.DB,
    tenantId,
    { kind: "raw", prompt: "Friendly and brief." },
    `h-${crypto.randomUUID()}`,
  );
  await env.DB.prepare("UPDATE personas SET updated_at = ? WHERE tenant_id = ?")
    .bind(Date.now() - minutes * 60_000, tenantId)
    .run();
}

describe("the tenant", () => {
  it("sees a verdict overdue on the overview, the persona page and its polled status", async () => {
    const s = await signIn();
    await pendingPersona(s.tenantId, 2);
    expect(await pageOf(await get(s, "/admin"))).not.toContain("Check delayed");
    await pendingPersona(s.tenantId, 20);
    const overview = await pageOf(await get(s, "/admin"));
    expect(overview).toContain("Check delayed");
    expect(overview).toContain("our team has been alerted");
    expect(await pageOf(await get(s, "/admin/persona"))).toContain("Check delayed");
    const fragment = await pageOf(await get(s, "/admin/persona/status", { "x-partial": "1" }));
    expect(fragment).toContain("Check delayed");
  });

  it("sees customers left unanswered by a turn that gave up, only when there are some", async () => {
    const s = await signIn();
    expect(await pageOf(await get(s, "/admin"))).not.toContain('id="unanswered"');
    const account = await createChannelAccount(env.DB, {
      tenantId: s.tenantId,
      channel: "whatsapp",
      externalId: `80${Date.now() % 1e9}`,
    });
    await recordMessages(
      env.DB,
      [1, 2].map((i) => ({
        tenantId: s.tenantId,
        accountId: account.id,
        channel: "whatsapp" as const,
        direction: "inbound" as const,
        providerMessageId: `wamid.given-up-${i}-${account.id}`,
        conversationId: null,
        senderId: "919800000001",
        recipientId: account.externalId,
        action: "given_up",
        ruleId: null,
        at: Date.now() - i * 3600_000,
      })),
    );
    const overview = await pageOf(await get(s, "/admin"));
    const card = /<section class="card ov-card" id="unanswered"[\s\S]*?<\/section>/.exec(overview)?.[0];
    expect(card).toContain("2 customer messages in the last 7 days got no reply");
  });
});

describe("the operator's health page", () => {
  let op: TestOperator;
  beforeAll(async () => {
    op = await signInOperator();
  });

  it("shows stuck conversations by tenant and account (never the customer) and overdue verdicts", async () => {
    const s = await signIn();
    const account = await createChannelAccount(env.DB, {
      tenantId: s.tenantId,
      channel: "whatsapp",
      externalId: `81${Date.now() % 1e9}`,
    });
    await recordStuckAlarm(env.DB, {
      tenantId: s.tenantId,
      threadKey: `${s.tenantId}/${account.id}/919811112222`,
      accountId: account.id,
      attempts: 8,
      failedAt: Date.now(),
    });
    await pendingPersona(s.tenantId, 30);
    const html = await pageOf(await asOperator(op, "/manage/health"));
    const section = /<section aria-labelledby="stuck-h" id="stuck-alarms">[\s\S]*?<\/section>/.exec(
      html,
    )?.[0];
    expect(section).toContain(`data-stuck-tenant="${s.tenantId}"`);
    expect(section).toContain(account.id);
    expect(section).not.toContain("919811112222");
    expect(html).toMatch(/id="safety-overdue">[1-9]/);
    expect(html).toContain('id="safety-overdue-alert"');
  });
});
