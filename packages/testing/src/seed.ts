import type { Persona } from "@concierge/prompt";
import {
  createChannelAccount,
  createTenant,
  getReplyConfig,
  getTenant,
  getTenantSettings,
  grantCredits,
  launchTenant,
  phoneDigits,
  saveBusinessHours,
  saveDiscordInstall,
  saveReplyConfig,
  updateDiscordSettings,
} from "@concierge/storage";
import { approvePersona } from "./tenant-fixtures.ts";

/** The demo tenant `npm start` seeds and the tests build on: one WhatsApp number, canned rules. */
export const DEMO = {
  tenantId: "t_demo",
  tenantName: "Chai & Co. (demo)",
  whatsapp: {
    accountId: "acc_demo_whatsapp",
    // As Meta issues them: the phone_number_id names the number in the Cloud API and is not the
    // number itself, which is only the formatted display number (and its digits, for search).
    phoneNumberId: "100200300400500",
    displayPhoneNumber: "+91 98765 43210",
  },
  replyConfig: {
    enabled: true,
    wait_seconds: 2,
    rules: [
      {
        id: "hours",
        label: "Hours / location",
        matcher: { kind: "static_text", keywords: ["hours", "open", "closed", "address"] },
        response: { kind: "canned", text: "We're open 7am–7pm every day at 12 MG Road. Come say hi! ☕" },
      },
      {
        id: "menu",
        label: "Menu and prices",
        matcher: { kind: "static_text", keywords: ["menu", "price", "cost"] },
        response: {
          kind: "canned",
          text: "Our menu is at chai.example/menu: masala chai, filter coffee and snacks.",
        },
      },
    ],
    default_rule: {
      response: { kind: "canned", text: "Thanks for your message! We'll get back to you shortly." },
    },
  },
} as const;

/** Idempotent: running it again leaves one demo tenant exactly as defined here. */
export async function seedDemoTenant(
  db: D1Database,
  masterKeyB64: string,
  overrides: { waitSeconds?: number } = {},
): Promise<void> {
  if (!(await getTenant(db, DEMO.tenantId))) {
    await createTenant(db, masterKeyB64, { id: DEMO.tenantId, name: DEMO.tenantName, locale: "en-IN" });
  }
  // The demo is a business already running: launched, so signing in to it never opens the
  // onboarding wizard (a second launch changes nothing).
  await launchTenant(db, DEMO.tenantId, Date.now());
  const existing = await db
    .prepare("SELECT id FROM channel_accounts WHERE id = ?")
    .bind(DEMO.whatsapp.accountId)
    .first();
  if (!existing) {
    await createChannelAccount(db, {
      id: DEMO.whatsapp.accountId,
      tenantId: DEMO.tenantId,
      channel: "whatsapp",
      externalId: DEMO.whatsapp.phoneNumberId,
      displayName: DEMO.whatsapp.displayPhoneNumber,
      phoneDigits: phoneDigits(DEMO.whatsapp.displayPhoneNumber),
    });
  }
  await saveReplyConfig(db, DEMO.tenantId, DEMO.whatsapp.accountId, {
    ...DEMO.replyConfig,
    wait_seconds: overrides.waitSeconds ?? DEMO.replyConfig.wait_seconds,
  });
}

/**
 * The demo tenant's email subdomain for `npm start` (the sandbox's /email page writes to it):
 * active, newsletters dropped, anything about an invoice relayed to a person, the rest answered
 * by the same canned rules as WhatsApp. Kept apart from seedDemoTenant so tests that count the
 * demo tenant's channels are not affected.
 */
export const DEMO_EMAIL = {
  accountId: "acc_demo_email",
  name: "demo",
  /** Matches the pipeline's default EMAIL_DOMAIN. */
  domain: "demo.cncg.email",
  routing: {
    rules: [
      {
        id: "newsletters",
        name: "Newsletters",
        priority: 10,
        when: { from: "*@news.*" },
        action: { kind: "drop" },
      },
      {
        id: "invoices",
        name: "Invoices to a person",
        priority: 20,
        when: { subject: "*invoice*" },
        action: { kind: "relay" },
      },
    ],
    defaultAction: { kind: "auto_reply" },
  },
} as const;

/** Idempotent, like seedDemoTenant (which must have run first). */
export async function seedDemoEmail(db: D1Database, overrides: { waitSeconds?: number } = {}): Promise<void> {
  const existing = await db
    .prepare("SELECT id FROM channel_accounts WHERE id = ?")
    .bind(DEMO_EMAIL.accountId)
    .first();
  if (!existing) {
    await createChannelAccount(db, {
      id: DEMO_EMAIL.accountId,
      tenantId: DEMO.tenantId,
      channel: "email",
      externalId: DEMO_EMAIL.domain,
      displayName: DEMO_EMAIL.domain,
    });
  }
  const now = Date.now();
  await db
    .prepare(
      `INSERT INTO email_subdomains (account_id, tenant_id, name, domain, status, routing_json, created_at, updated_at)
       VALUES (?, ?, ?, ?, 'active', ?, ?, ?)
       ON CONFLICT (account_id) DO UPDATE SET status = 'active', routing_json = excluded.routing_json,
         updated_at = excluded.updated_at`,
    )
    .bind(
      DEMO_EMAIL.accountId,
      DEMO.tenantId,
      DEMO_EMAIL.name,
      DEMO_EMAIL.domain,
      JSON.stringify(DEMO_EMAIL.routing),
      now,
      now,
    )
    .run();
  await saveReplyConfig(db, DEMO.tenantId, DEMO_EMAIL.accountId, {
    ...DEMO.replyConfig,
    wait_seconds: overrides.waitSeconds ?? DEMO.replyConfig.wait_seconds,
  });
}

/**
 * The demo tenant's Discord inbox (npm start): the bot installed in the sandbox's guild, relaying
 * what needs a person to its #inbox channel. The fake Discord makes new channel ids each run, so
 * this runs on every start and points the install at this run's channel.
 */
export async function seedDemoDiscord(
  db: D1Database,
  guild: { id: string; name: string; inboxChannelId: string },
): Promise<void> {
  const saved = await saveDiscordInstall(db, {
    tenantId: DEMO.tenantId,
    guildId: guild.id,
    guildName: guild.name,
    installedBy: "demo seed",
  });
  if (!saved.ok) return;
  await updateDiscordSettings(db, DEMO.tenantId, {
    inboxChannelId: guild.inboxChannelId,
    staffRoleId: null,
    relayMode: "needs_human",
    afterHumanReply: "silent",
  });
}

/**
 * What lets a person try the AI half of the product from the first `npm start`: credits, a
 * persona approved as the safety queue would approve it, a hand-off rule, and two AI rules on the
 * demo's WhatsApp number (one answered at once, one always held for approval). Canned rules stay
 * first, so the demo's canned answers are unchanged. Idempotent: the grant's reference and the persona's hash
 * apply once; the rules are saved again as defined here.
 */
export const DEMO_AI = {
  credits: 200,
  persona: {
    kind: "builder",
    voice: "friendly",
    businessName: "Chai & Co.",
    businessType: "tea and coffee café",
    city: "Bengaluru",
    hours: "7am–7pm every day",
    goal: "Bring people in for a cup, or take a catering enquiry",
    catchPhrases: ["Chai's on!"],
    offTopics: ["politics"],
    never: ["promise a delivery time"],
    handoffConditions: ["the customer wants to place a catering order"],
  } satisfies Persona,
  rules: [
    {
      // Free, and works with no credits or persona: the customer is told a person will follow,
      // the bot goes quiet, and the tenant is paged once.
      id: "person",
      label: "Talk to a person",
      matcher: {
        kind: "static_text",
        keywords: ["talk to a person", "speak to a person", "real person", "talk to a human"],
      },
      response: {
        kind: "handoff",
        text: "Sure. I've asked someone from our team to reply to you here as soon as they can.",
      },
      approval: "auto",
    },
    {
      id: "recommend",
      label: "Recommendations (AI)",
      matcher: { kind: "static_text", keywords: ["recommend", "suggest", "favourite", "favorite"] },
      response: { kind: "prompt", text: "Suggest one or two drinks from the menu that fit what they ask." },
      approval: "auto",
    },
    {
      id: "catering",
      label: "Catering enquiries (AI, held for approval)",
      matcher: { kind: "static_text", keywords: ["catering", "bulk order", "party order"] },
      response: {
        kind: "prompt",
        text: "Thank them and say a person will confirm details; ask for the date and head count.",
      },
      approval: "always",
    },
  ],
} as const;

export async function seedDemoAi(db: D1Database): Promise<void> {
  await grantCredits(db, {
    tenantId: DEMO.tenantId,
    amount: DEMO_AI.credits,
    source: "grant",
    reference: "demo-seed",
  });
  await approvePersona(db, DEMO.tenantId, DEMO_AI.persona);
  const stored = await getReplyConfig(db, DEMO.whatsapp.accountId);
  const rules = [...DEMO.replyConfig.rules, ...DEMO_AI.rules];
  await saveReplyConfig(db, DEMO.tenantId, DEMO.whatsapp.accountId, {
    ...DEMO.replyConfig,
    wait_seconds: stored?.config.wait_seconds ?? DEMO.replyConfig.wait_seconds,
    rules,
    // Outside the demo's business hours (below) the rules still answer, so a local run answers
    // at any hour; the rules editor and the test panel show the choice.
    outside_hours: stored?.config.outside_hours ?? { mode: "rules" },
  });
  // The demo's business hours, once (a later change by hand is kept): a café's week in IST.
  if (!(await getTenantSettings(db, DEMO.tenantId))?.businessHours) {
    const day = [{ open: "08:00", close: "21:00" }];
    await saveBusinessHours(db, DEMO.tenantId, {
      enabled: true,
      week: {
        mon: day,
        tue: day,
        wed: day,
        thu: day,
        fri: day,
        sat: day,
        sun: [{ open: "10:00", close: "18:00" }],
      },
      holidays: [],
    });
  }
}
