import { env } from "cloudflare:workers";
import type { Channel, SafetyStatus } from "@concierge/core";
import { personaHash } from "@concierge/prompt";
import {
  accountHealth,
  buildInsights,
  completeWizardStep,
  createApproval,
  createChannelAccount,
  DAY_MS,
  debitCredit,
  grantCredits,
  HEALTH_WINDOW_MS,
  launchTenant,
  recordMessages,
  recordPersonaVerdict,
  restoreCredit,
  savePersona,
  saveReplyConfig,
} from "@concierge/storage";
import { describe, expect, it } from "vitest";
import { niceMax } from "../src/pages/insights.ts";
import { get, signIn, type TestSession } from "./helpers.ts";

/** Gives the tenant a persona in the given safety state (pending: saved, not yet judged). */
async function persona(s: TestSession, status: SafetyStatus): Promise<void> {
  const p = { kind: "raw", prompt: `Friendly and brief, for a tea shop ${crypto.randomUUID()}.` } as const;
  const hash = await personaHash(p);
  await savePersona(env.DB, s.tenantId, p, hash);
  if (status !== "pending") await recordPersonaVerdict(env.DB, s.tenantId, hash, status, null);
}

/** The overview's one "AI replies" card: its state and its words. */
function aiCard(page: string): { state: string; text: string } {
  const m = /<section class="card ov-card" id="ai-status" data-state="([a-z_]+)"[\s\S]*?<\/section>/.exec(
    page,
  );
  if (!m) throw new Error("no AI replies card");
  return { state: m[1]!, text: m[0] };
}

const CONFIG = {
  enabled: true,
  rules: [],
  default_rule: { response: { kind: "canned" as const, text: "Thanks, we'll be in touch." } },
};

/** A WhatsApp account whose automatic replies are switched on (or off): something answers. */
async function answeringAccount(s: TestSession, enabled = true) {
  const account = await createChannelAccount(env.DB, {
    tenantId: s.tenantId,
    channel: "whatsapp",
    externalId: `pn-${uid()}`,
  });
  await saveReplyConfig(env.DB, s.tenantId, account.id, { ...CONFIG, enabled });
  return account;
}

/** Every sentence on the page that says what AI replies are doing. */
const aiClaims = (page: string) => page.match(/AI replies are [a-z]+/g) ?? [];

let seq = 0;
/** One metadata row, as the pipeline records it (there is no text column to fill). */
async function message(
  tenantId: string,
  accountId: string,
  channel: Channel,
  direction: "inbound" | "outbound",
  action: string | null,
  at: number,
): Promise<void> {
  seq += 1;
  await env.DB.prepare(
    `INSERT INTO messages (tenant_id, account_id, channel, direction, provider_message_id, conversation_id,
       sender_id, recipient_id, action, rule_id, created_at) VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, NULL, ?)`,
  )
    .bind(
      tenantId,
      accountId,
      channel,
      direction,
      `pm-${crypto.randomUUID()}-${seq}`,
      direction === "inbound" ? "cust-1" : "biz",
      direction === "inbound" ? "biz" : "cust-1",
      action,
      at,
    )
    .run();
}

const uid = () => crypto.randomUUID().slice(0, 12);
// The test tenants are in Asia/Kolkata (+5:30): the insights count their local days.
const today = () => Math.floor((Date.now() + 330 * 60_000) / DAY_MS) * DAY_MS;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The numbers of one row of the insights table (channels, canned, AI, handoffs, credits). */
function tableRow(page: string, day: string): number[] {
  const m = new RegExp(`<tr data-day="${day}">(.*?)</tr>`, "s").exec(page);
  if (!m) throw new Error(`no insights row for ${day}`);
  return [...m[1]!.matchAll(/<td class="num">([^<]*)<\/td>/g)].map((x) => Number(x[1]!.replace(/,/g, "")));
}

describe("overview", () => {
  it("sends signed-out visitors to sign in", async () => {
    const res = await get(null, "/admin");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/sign-in?next=%2Fadmin");
  });

  it("shows the empty state, the balance, no pending approvals and a chart of 30 empty days", async () => {
    const s = await signIn({ trial: false });
    const res = await get(s, "/admin");
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toContain("No channels connected yet.");
    expect(page).toMatch(/id="balance"[\s\S]*?<p class="stat">0<\/p>/);
    expect(page).toContain("No credits left");
    expect(page).toMatch(/id="pending-approvals"[\s\S]*?<p class="stat">0<\/p>/);
    expect(page).toContain("Not set up");
    expect(page).toContain('href="/admin/persona"');
    // No persona and no credits: one story, told once (off, for want of a persona).
    expect(aiCard(page).state).toBe("no_persona");
    expect(aiClaims(page)).toEqual(["AI replies are off"]);
    const rows = page.match(/<tr data-day="\d{4}-\d\d-\d\d">/g) ?? [];
    expect(rows).toHaveLength(30);
    expect(page).toContain(`<tr data-day="${isoDay(today())}">`);
    expect(page).toContain(`<tr data-day="${isoDay(today() - 29 * DAY_MS)}">`);
    expect(tableRow(page, "total")).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(page).toContain("No reply rule has answered in these 30 days.");
    expect(page).toContain("No replies to measure yet.");
  });

  it("shows the tenant's channels with health, balance, pending approvals and insights matching its metadata only", async () => {
    const s = await signIn({ trial: false });
    const other = await signIn();
    const wa = await createChannelAccount(env.DB, {
      tenantId: s.tenantId,
      channel: "whatsapp",
      externalId: `pn-${uid()}`,
      displayName: "Front desk phone",
    });
    const mail = await createChannelAccount(env.DB, {
      tenantId: s.tenantId,
      channel: "email",
      externalId: `shop-${uid()}.cncg.email`,
    });
    const ig = await createChannelAccount(env.DB, {
      tenantId: s.tenantId,
      channel: "instagram",
      externalId: `ig-${uid()}`,
      displayName: "Shop on Instagram",
    });
    const theirs = await createChannelAccount(env.DB, {
      tenantId: other.tenantId,
      channel: "whatsapp",
      externalId: `pn-${uid()}`,
      displayName: "Someone else's phone",
    });
    const d0 = today() + 1000;
    const d1 = d0 - DAY_MS;
    const d5 = d0 - 5 * DAY_MS;
    // Today: three WhatsApp messages, answered canned, canned and AI.
    await message(s.tenantId, wa.id, "whatsapp", "inbound", "canned_reply", d0);
    await message(s.tenantId, wa.id, "whatsapp", "inbound", "canned_reply", d0 + 1);
    await message(s.tenantId, wa.id, "whatsapp", "inbound", "ai_reply", d0 + 2);
    await message(s.tenantId, wa.id, "whatsapp", "outbound", "canned_reply", d0 + 3);
    await message(s.tenantId, wa.id, "whatsapp", "outbound", "canned_reply", d0 + 4);
    await message(s.tenantId, wa.id, "whatsapp", "outbound", "ai_reply", d0 + 5);
    // A person answered from the live inbox too.
    await message(s.tenantId, wa.id, "whatsapp", "outbound", "human_reply", d0 + 6);
    // Yesterday: two emails; one handed off, an approved draft sent; the newest failed to send.
    await message(s.tenantId, mail.id, "email", "inbound", "handoff", d1);
    await message(s.tenantId, mail.id, "email", "outbound", "handoff", d1 + 1);
    await message(s.tenantId, mail.id, "email", "outbound", "approved_reply", d1 + 2);
    await message(s.tenantId, mail.id, "email", "inbound", "send_failed", d1 + 3);
    await message(s.tenantId, mail.id, "email", "outbound", "send_failed", d1 + 4);
    // Five days ago: one Instagram message, no reply (auto-reply off).
    await message(s.tenantId, ig.id, "instagram", "inbound", "auto_reply_off", d5);
    // Outside the window: not counted.
    await message(s.tenantId, wa.id, "whatsapp", "inbound", "canned_reply", d0 - 40 * DAY_MS);
    await message(s.tenantId, wa.id, "whatsapp", "outbound", "canned_reply", d0 - 40 * DAY_MS);
    // Another tenant, same day: never counted here.
    for (let i = 0; i < 7; i++) {
      await message(other.tenantId, theirs.id, "whatsapp", "inbound", "ai_reply", d0 + i);
      await message(other.tenantId, theirs.id, "whatsapp", "outbound", "ai_reply", d0 + i);
    }
    await grantCredits(env.DB, { tenantId: s.tenantId, amount: 500, source: "grant", reference: "g1" });
    for (const ref of ["t1", "t2", "t3"]) await debitCredit(env.DB, s.tenantId, ref, d0);
    await restoreCredit(env.DB, s.tenantId, "t3");
    await grantCredits(env.DB, { tenantId: other.tenantId, amount: 50, source: "grant", reference: "g1" });
    for (const ref of ["o1", "o2"]) await debitCredit(env.DB, other.tenantId, ref, d0);
    await createApproval(env.DB, {
      id: `apr_${uid()}`,
      tenantId: s.tenantId,
      accountId: wa.id,
      threadKey: `thread-${uid()}`,
      conversationId: null,
      ruleId: null,
      creditRef: "t1",
      reasons: ["money"],
    });

    const res = await get(s, "/admin");
    expect(res.status).toBe(200);
    const page = await res.text();

    // Channels with health: a badge with words, not colour only.
    expect(page).toContain("Front desk phone");
    expect(page).toContain(wa.externalId);
    expect(page).toContain(mail.externalId);
    expect(page).not.toContain("Someone else&#39;s phone");
    expect(page).not.toContain(theirs.externalId);
    const row = (id: string) =>
      new RegExp(`<li class="card" data-account="${id}">([\\s\\S]*?)</li>`).exec(page)![1]!;
    expect(row(wa.id)).toContain('<span class="badge ok">Healthy</span>');
    expect(row(wa.id)).toContain("Receiving messages and replying.");
    expect(row(mail.id)).toContain('<span class="badge danger">Not working</span>');
    expect(row(mail.id)).toContain("The reply to the latest message failed to send.");
    expect(row(ig.id)).toContain("Healthy");
    expect(row(ig.id)).toContain("Never"); // no reply sent yet
    expect(page).not.toContain("Needs attention");

    // Balance 500 - 2 used (the third given back); one pending approval.
    expect(page).toMatch(/id="balance"[\s\S]*?<p class="stat">498<\/p>/);
    expect(page).not.toContain("Low balance");
    expect(page).toMatch(/id="pending-approvals"[\s\S]*?<p class="stat">1<\/p>/);
    expect(page).toContain('href="/admin/approvals"');

    // The chart: an accessible SVG with a title, a description of the totals and a legend.
    const svg = /<svg id="insights-chart"[\s\S]*?<\/svg>/.exec(page)![0];
    expect(svg).toContain('role="img"');
    expect(svg).toContain('aria-labelledby="insights-chart-title insights-chart-desc"');
    expect(svg).toMatch(/viewBox="0 0 \d+ \d+"/);
    expect(svg).not.toMatch(/\bstyle=/);
    expect(svg).not.toMatch(/\bwidth="\d+px"/);
    expect(svg).toContain(
      "6 messages received (WhatsApp 3, Instagram 1, email 2); 2 canned replies, 2 AI replies and 1 handoff sent; 1 reply from a person; 1 reply that could not be delivered; 2 credits used.",
    );
    expect(page).toMatch(
      /<ul class="legend">[\s\S]*WhatsApp[\s\S]*Canned replies[\s\S]*Credits used[\s\S]*<\/ul>/,
    );

    // The numbers: WhatsApp, Instagram, email, canned, AI, handoffs, a person's, not delivered, credits.
    expect(tableRow(page, isoDay(d0))).toEqual([3, 0, 0, 2, 1, 0, 1, 0, 2]);
    expect(tableRow(page, isoDay(d1))).toEqual([0, 0, 2, 0, 1, 1, 0, 1, 0]);
    expect(tableRow(page, isoDay(d5))).toEqual([0, 1, 0, 0, 0, 0, 0, 0, 0]);
    expect(tableRow(page, "total")).toEqual([3, 1, 2, 2, 2, 1, 1, 1, 2]);
    expect(page).toContain("Show the numbers");
    // Stat cards for the period.
    expect(page).toMatch(/id="stat-received"[\s\S]*?<p class="stat">6<\/p>/);
    expect(page).toMatch(/id="stat-credits"[\s\S]*?<p class="stat">2<\/p>/);
    expect(page).toMatch(/id="stat-human"[\s\S]*?<p class="stat">1<\/p>/);
    expect(page).toMatch(/id="stat-failed"[\s\S]*?<p class="stat">1<\/p>/);
  });

  it("names the rules that answered most, the default reply's share, who asked for a person and how long customers waited (issue 19 item 6)", async () => {
    const s = await signIn({ trial: false });
    const wa = await answeringAccount(s);
    await saveReplyConfig(env.DB, s.tenantId, wa.id, {
      ...CONFIG,
      rules: [
        {
          id: "hours",
          label: "Opening hours",
          matcher: { kind: "static_text", keywords: ["hours"] },
          response: { kind: "canned", text: "Open 7 to 7." },
        },
      ],
    });
    const at = today() + 60_000;
    const reply = (action: string, ruleId: string | null, replyWaitMs: number | null) => ({
      tenantId: s.tenantId,
      accountId: wa.id,
      channel: "whatsapp" as const,
      direction: "outbound" as const,
      providerMessageId: `pm-${uid()}`,
      conversationId: null,
      senderId: "biz",
      recipientId: "cust-1",
      action,
      ruleId,
      at,
      replyWaitMs,
    });
    // Through the pipeline's own write: the triggers count rules and waits (migration 0037).
    await recordMessages(env.DB, [
      reply("canned_reply", "hours", 2_000),
      reply("canned_reply", "hours", 3_000),
      reply("ai_reply", "hours", 200_000),
      reply("canned_reply", "default", 30_000),
      reply("handoff", "person", 40_000),
      reply("ai_handoff", null, null),
      reply("human_reply", null, 7_200_000),
    ]);
    const page = await (await get(s, "/admin")).text();
    const rules =
      /<div class="card" id="insights-rules">([\s\S]*?)<\/div>\n?<div class="card" id="insights-handoff/.exec(
        page,
      )![1]!;
    // Most first, by the tenant's own label; a rule without a saved label by its id.
    expect(
      [
        ...rules.matchAll(
          /<tr data-rule="([^"]+)"><th scope="row">([^<]+)<\/th><td class="num">(\d+)<\/td>/g,
        ),
      ].map((m) => [m[1], m[2], Number(m[3])]),
    ).toEqual([
      ["hours", "Opening hours", 3],
      ["default", "Default reply (nothing else matched)", 1],
      ["person", "person", 1],
    ]);
    expect(page).toContain("The default reply answered 20% of the replies your rules gave (1 of 5).");
    expect(page).toMatch(/data-reason="rule">1</);
    expect(page).toMatch(/data-reason="ai">1</);
    // Waits: 2 s, 3 s, 30 s, 40 s, 200 s and 2 h: the third of six is under a minute.
    expect(page).toContain("Half of the replies came within a minute.");
    expect(page).toMatch(/<tr data-wait="lt1m"><th scope="row">Under a minute<\/th><td class="num">4<\/td>/);
    expect(page).toMatch(/<tr data-wait="lt5m">[\s\S]*?<td class="num">1<\/td>/);
    expect(page).toMatch(/<tr data-wait="lt4h">[\s\S]*?<td class="num">1<\/td>/);

    // The same day table as CSV, for a spreadsheet.
    expect(page).toContain('href="/admin/insights.csv"');
    const csv = await get(s, "/admin/insights.csv");
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(csv.headers.get("content-disposition")).toBe(
      `attachment; filename="concierge-insights-${isoDay(today())}.csv"`,
    );
    expect(csv.headers.get("cache-control")).toBe("private, no-store");
    const lines = (await csv.text()).split("\r\n");
    expect(lines[0]).toBe(
      "Day,WhatsApp,Instagram,Email,Canned replies,AI replies,Handoffs,Replies by a person,Not delivered,Credits used",
    );
    expect(lines).toHaveLength(33); // header, 30 days, total, and the final line break
    expect(lines[1]!.startsWith(`${isoDay(today() - 29 * DAY_MS)},`)).toBe(true);
    expect(lines[30]).toBe(`${isoDay(today())},0,0,0,3,1,2,1,0,0`);
    expect(lines[31]).toBe("Total,0,0,0,3,1,2,1,0,0");
    expect(lines[32]).toBe("");
    // Signed out: no figures, the sign-in page.
    const anonymous = await get(null, "/admin/insights.csv");
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get("location")).toBe("/sign-in?next=%2Fadmin%2Finsights.csv");
  });

  it("shows a low balance against the tenant's threshold", async () => {
    const s = await signIn({ trial: false });
    await grantCredits(env.DB, { tenantId: s.tenantId, amount: 5, source: "grant", reference: "g1" });
    const page = await (await get(s, "/admin")).text();
    expect(page).toMatch(/id="balance"[\s\S]*?<p class="stat">5<\/p>/);
    expect(page).toContain("Low balance");
    expect(page).toContain("at or below your warning level of 20 credits");
  });
});

describe("overview: the first run tells one story", () => {
  it.each([
    ["no persona, credits", null, 50, "no_persona", "Off", "AI replies are off"],
    ["pending persona, credits", "pending", 50, "persona_not_approved", "Paused", "AI replies are paused"],
    ["rejected persona, credits", "rejected", 50, "persona_not_approved", "Paused", "AI replies are paused"],
    ["approved persona, no credits", "approved", 0, "no_credits", "Stopped", "AI replies are stopped"],
    ["approved persona, credits", "approved", 50, "on", "On", "AI replies are on"],
  ] as const)(
    "%s: one AI replies status, and the cards agree with it",
    async (_, status, credits, state, badge, claim) => {
      const s = await signIn({ trial: false });
      await answeringAccount(s);
      if (status) await persona(s, status);
      if (credits)
        await grantCredits(env.DB, {
          tenantId: s.tenantId,
          amount: credits,
          source: "grant",
          reference: "g",
        });
      const page = await (await get(s, "/admin")).text();
      const ai = aiCard(page);
      expect(ai.state).toBe(state);
      expect(ai.text).toContain(`>${badge}</span>`);
      // Said once, in the AI replies card: the persona and balance cards state only their facts.
      expect(aiClaims(page)).toEqual([claim]);
      const personaCard = /id="persona-status"[\s\S]*?<\/section>/.exec(page)![0];
      const balanceCard = /id="balance"[\s\S]*?<\/section>/.exec(page)![0];
      expect(personaCard).not.toMatch(/AI replies/);
      expect(balanceCard).not.toMatch(/AI replies (are|stop)/);
      if (credits === 0) expect(balanceCard).toContain("No credits left");
    },
  );

  it("does not say AI replies are on while no channel answers (nothing switched on, or no rules yet)", async () => {
    const s = await signIn({ trial: false });
    await persona(s, "approved");
    await grantCredits(env.DB, { tenantId: s.tenantId, amount: 50, source: "grant", reference: "g" });
    // An account without a saved config answers no one.
    await createChannelAccount(env.DB, {
      tenantId: s.tenantId,
      channel: "whatsapp",
      externalId: `pn-${uid()}`,
    });
    let page = await (await get(s, "/admin")).text();
    expect(aiCard(page).state).toBe("idle");
    expect(aiCard(page).text).toContain("nothing answers your customers for now");
    expect(aiClaims(page)).toEqual([]);
    // Switched off: still idle. Switched on: on.
    const account = await answeringAccount(s, false);
    page = await (await get(s, "/admin")).text();
    expect(aiCard(page).state).toBe("idle");
    await saveReplyConfig(env.DB, s.tenantId, account.id, { ...CONFIG, enabled: true });
    page = await (await get(s, "/admin")).text();
    expect(aiCard(page).state).toBe("on");
  });

  it("says suspended, above any persona or balance state, while the account is suspended", async () => {
    const s = await signIn({ trial: false });
    await persona(s, "approved");
    await grantCredits(env.DB, { tenantId: s.tenantId, amount: 50, source: "grant", reference: "g" });
    await env.DB.prepare("UPDATE tenants SET status = 'suspended', suspended_reason = 'unpaid' WHERE id = ?")
      .bind(s.tenantId)
      .run();
    const page = await (await get(s, "/admin")).text();
    expect(aiCard(page).state).toBe("suspended");
    expect(aiCard(page).text).toContain("no replies of any kind are sent");
    expect(aiClaims(page)).toEqual([]);
  });

  it("shows a brand-new channel as connected and waiting, and a broken one as broken", async () => {
    const s = await signIn({ trial: false });
    const fresh = await createChannelAccount(env.DB, {
      tenantId: s.tenantId,
      channel: "whatsapp",
      externalId: `pn-${uid()}`,
    });
    const broken = await createChannelAccount(env.DB, {
      tenantId: s.tenantId,
      channel: "email",
      externalId: `shop-${uid()}.cncg.email`,
    });
    await message(s.tenantId, broken.id, "email", "inbound", "send_failed", Date.now() - 1000);
    const old = await createChannelAccount(env.DB, {
      tenantId: s.tenantId,
      channel: "instagram",
      externalId: `ig-${uid()}`,
    });
    await env.DB.prepare("UPDATE channel_accounts SET created_at = ? WHERE id = ?")
      .bind(Date.now() - HEALTH_WINDOW_MS - DAY_MS, old.id)
      .run();
    const page = await (await get(s, "/admin")).text();
    const row = (id: string) =>
      new RegExp(`<li class="card" data-account="${id}">([\\s\\S]*?)</li>`).exec(page)![1]!;
    expect(row(fresh.id)).toContain('<span class="badge ok">Connected</span>');
    expect(row(fresh.id)).toContain("Waiting for the first message.");
    expect(row(fresh.id)).not.toContain("Needs attention");
    expect(row(broken.id)).toContain('<span class="badge danger">Not working</span>');
    // Connected over a week ago and never a message: worth a look.
    expect(row(old.id)).toContain('<span class="badge warn">Needs attention</span>');
    expect(row(old.id)).toContain("No messages received in the last 7 days.");
  });

  it("leads a tenant that has not launched back into the wizard, at the step it is on", async () => {
    const s = await signIn();
    let page = await (await get(s, "/admin")).text();
    const setup = () => /<section class="card ov-setup" id="finish-setup"[\s\S]*?<\/section>/.exec(page)?.[0];
    expect(setup()).toContain("Finish setting up — step 1 of 5");
    expect(setup()).toContain('href="/dashboard/wizard"');
    // First on the page, before the AI replies card.
    expect(page.indexOf('id="finish-setup"')).toBeLessThan(page.indexOf('id="ai-status"'));
    await completeWizardStep(env.DB, s.tenantId, 1);
    await completeWizardStep(env.DB, s.tenantId, 3);
    page = await (await get(s, "/admin")).text();
    expect(setup()).toContain("Finish setting up — step 4 of 5");
    // launched=1 says nothing before launch: the tenant has not launched.
    page = await (await get(s, "/admin?launched=1")).text();
    expect(page).not.toContain("automatic replies are live");
  });

  it("after launch: no setup card, and the launch lands on a notice that replies are live", async () => {
    const s = await signIn();
    await answeringAccount(s);
    expect(await launchTenant(env.DB, s.tenantId, Date.now())).toBe(true);
    const landed = await (await get(s, "/admin?launched=1")).text();
    expect(landed).toContain(
      '<p class="notice" role="status">You have launched: automatic replies are live on your connected channels.</p>',
    );
    expect(landed).not.toContain('id="finish-setup"');
    const later = await (await get(s, "/admin")).text();
    expect(later).not.toContain("automatic replies are live");
    expect(later).not.toContain("Finish setting up");
  });

  it("a launch with every channel switched off is told so, not that replies are live", async () => {
    const s = await signIn();
    await answeringAccount(s, false);
    expect(await launchTenant(env.DB, s.tenantId, Date.now())).toBe(true);
    const landed = await (await get(s, "/admin?launched=1")).text();
    expect(landed).toContain("automatic replies are switched off on every channel");
    expect(landed).not.toContain("automatic replies are live");
  });
});

describe("insights arithmetic", () => {
  it("keeps a fixed 30-day UTC window with empty days and ignores rows outside it", () => {
    const now = Date.UTC(2026, 2, 14, 23, 59);
    const day = Math.floor(now / DAY_MS);
    const r = buildInsights(
      now,
      [
        { day, channel: "whatsapp", direction: "inbound", action: "canned_reply", n: 4 },
        { day, channel: "whatsapp", direction: "outbound", action: "canned_reply", n: 4 },
        { day: day - 29, channel: "email", direction: "outbound", action: "edited_reply", n: 1 },
        { day: day - 30, channel: "email", direction: "inbound", action: null, n: 9 },
        { day: day + 1, channel: "email", direction: "inbound", action: null, n: 9 },
        { day, channel: "whatsapp", direction: "outbound", action: "something_new", n: 9 },
      ],
      [{ day, n: 3 }],
    );
    expect(r.days).toHaveLength(30);
    expect(r.days[0]!.date).toBe("2026-02-13");
    expect(r.days[29]!.date).toBe("2026-03-14");
    expect(r.from).toBe(Date.UTC(2026, 1, 13));
    expect(r.to).toBe(Date.UTC(2026, 2, 15));
    expect(r.days[29]).toMatchObject({ received: { whatsapp: 4 }, canned: 4, credits: 3 });
    expect(r.days[0]).toMatchObject({ ai: 1 });
    expect(r.totals).toMatchObject({ receivedAll: 4, canned: 4, ai: 1, handoffs: 0, credits: 3 });
  });

  it("says where an email address's mail for a person goes when no Discord inbox is connected: the live inbox (issue 19 item 6)", async () => {
    const s = await signIn();
    const mail = await createChannelAccount(env.DB, {
      tenantId: s.tenantId,
      channel: "email",
      externalId: `desk-${uid()}.cncg.email`,
    });
    await message(s.tenantId, mail.id, "email", "inbound", "relay_no_inbox", Date.now() - 1000);
    const page = await (await get(s, "/admin")).text();
    const row = new RegExp(`<li class="card" data-account="${mail.id}">([\\s\\S]*?)</li>`).exec(page)![1]!;
    expect(row).toContain('<span class="badge ok">Healthy</span>');
    expect(row).toContain("Mail for a person waits in your live inbox (no Discord inbox is connected)");
  });

  it("judges channel health from the newest message, recent failures and silence", () => {
    const now = Date.UTC(2026, 2, 14);
    const base = {
      id: "a",
      channel: "whatsapp" as const,
      externalId: "x",
      displayName: null,
      status: "active" as const,
      connectedAt: now - 30 * DAY_MS,
      lastInboundAt: now - 1000,
      lastOutboundAt: now - 500,
      failedSends: 0,
      lastInboundAction: "ai_reply",
    };
    expect(accountHealth(base, now)).toEqual({ level: "ok", reason: "working" });
    expect(accountHealth({ ...base, status: "disabled" }, now).reason).toBe("disabled");
    expect(accountHealth({ ...base, lastInboundAction: "send_failed", failedSends: 1 }, now)).toEqual({
      level: "danger",
      reason: "last_send_failed",
    });
    expect(accountHealth({ ...base, failedSends: 2 }, now)).toEqual({
      level: "warn",
      reason: "failed_sends",
    });
    const fresh = { ...base, connectedAt: now - DAY_MS, lastInboundAt: null, lastInboundAction: null };
    expect(accountHealth(fresh, now)).toEqual({ level: "ok", reason: "no_messages" });
    expect(accountHealth({ ...fresh, connectedAt: now - HEALTH_WINDOW_MS - 1 }, now)).toEqual({
      level: "warn",
      reason: "quiet",
    });
    expect(accountHealth({ ...base, lastInboundAt: now - 8 * DAY_MS }, now).reason).toBe("quiet");
    expect(accountHealth({ ...base, channel: "discord", lastInboundAt: null }, now).reason).toBe("connected");
  });

  it("rounds the chart's scale up to 1, 2 or 5 times a power of ten", () => {
    expect([0, 1, 2, 3, 7, 10, 11, 49, 51, 101].map(niceMax)).toEqual([1, 1, 2, 5, 10, 10, 20, 50, 100, 200]);
  });
});
