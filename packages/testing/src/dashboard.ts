// Node-side helpers for driving the dashboard in Chromium (browser tests, `npm run screenshots`)
// and for giving a tenant enough data that every page has something to show.
import { type Persona, personaHash } from "@concierge/prompt";
import {
  createChannelAccount,
  grantCredits,
  recordMessages,
  recordPersonaVerdict,
  savePersona,
  saveReplyConfig,
} from "@concierge/storage";
import type { Page } from "playwright-core";

/** Signs in through the development sign-in form, as a person would. */
export async function devSignIn(
  page: Page,
  dashboardUrl: string,
  opts: { email: string; business?: "new" | "demo"; businessName?: string },
): Promise<void> {
  await page.goto(`${dashboardUrl}/sign-in`);
  await page.fill("#dev-email", opts.email);
  await page.check(`input[name=business][value=${opts.business ?? "new"}]`);
  if (opts.businessName) await page.fill("#dev-name", opts.businessName);
  await Promise.all([
    page.waitForURL((u) => u.pathname.startsWith("/admin")),
    page.click("form[action='/auth/dev'] button[type=submit]"),
  ]);
}

/**
 * What is wrong with the page's layout at this viewport: horizontal scrolling (with the widest
 * offenders named), and navigation items that are hidden, cut off or covered.
 */
export async function layoutProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    const width = window.innerWidth;
    const doc = document.documentElement;
    const describe = (el: Element) =>
      `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ""}${el.className && typeof el.className === "string" ? `.${el.className.trim().split(/\s+/).join(".")}` : ""}`;
    if (doc.scrollWidth > width) {
      const offenders = [...document.body.querySelectorAll("*")]
        .filter((el) => el.getBoundingClientRect().right > width + 1)
        .slice(0, 5)
        .map(describe);
      problems.push(`scrolls horizontally (${doc.scrollWidth}px > ${width}px): ${offenders.join(", ")}`);
    }
    window.scrollTo(0, 0);
    for (const item of document.querySelectorAll("header a, header button, nav a")) {
      const r = item.getBoundingClientRect();
      const label = (item.textContent ?? "").trim();
      if (r.width === 0 || r.height === 0) {
        problems.push(`navigation item "${label}" is hidden`);
        continue;
      }
      if (r.left < -0.5 || r.right > width + 0.5) {
        problems.push(`navigation item "${label}" is cut off`);
        continue;
      }
      const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      if (!hit || !(hit === item || item.contains(hit)))
        problems.push(`navigation item "${label}" is covered`);
    }
    return problems;
  });
}

export const SHOWCASE_PERSONA: Persona = {
  kind: "builder",
  voice: "friendly",
  businessName: "Chai & Co.",
  businessType: "tea shop",
  city: "Bengaluru",
  hours: "7am to 7pm every day",
  goal: "Book a table",
  catchPhrases: ["Chai is always a good idea"],
  offTopics: ["politics"],
  never: ["promise discounts"],
  handoffConditions: ["the customer wants a refund"],
};

/**
 * Gives a tenant a WhatsApp number with rules, an approved persona, a balance and 30 days of
 * message metadata (no text anywhere), so every dashboard page has something to show.
 */
export async function seedShowcase(
  db: D1Database,
  tenantId: string,
  opts: { phoneNumberId: string; credits?: number; now?: number },
): Promise<{ accountId: string }> {
  const account = await createChannelAccount(db, {
    tenantId,
    channel: "whatsapp",
    externalId: opts.phoneNumberId,
    displayName: "+91 98765 00000",
  });
  await saveReplyConfig(db, tenantId, account.id, {
    enabled: true,
    wait_seconds: 0,
    rules: [
      {
        id: "hours",
        label: "Opening hours",
        matcher: { kind: "static_text", keywords: ["hours", "open"] },
        response: { kind: "canned", text: "We're open 7am–7pm every day." },
      },
      {
        id: "booking",
        label: "Table bookings",
        matcher: { kind: "prompt", description: "The customer wants to book or reserve a table." },
        response: {
          kind: "prompt",
          text: "Help the customer book a table; ask for the time and party size.",
        },
        approval: "always",
      },
    ],
    // Anything else gets an AI draft that waits for a person: the approvals page has work.
    default_rule: { response: { kind: "prompt", text: "Answer briefly and helpfully." }, approval: "always" },
  });
  const hash = await personaHash(SHOWCASE_PERSONA);
  await savePersona(db, tenantId, SHOWCASE_PERSONA, hash);
  await recordPersonaVerdict(db, tenantId, hash, "approved", null);
  await grantCredits(db, {
    tenantId,
    amount: opts.credits ?? 100_000,
    source: "grant",
    reference: "showcase",
  });
  const now = opts.now ?? Date.now();
  const rows = [];
  for (let day = 0; day < 30; day++) {
    const count = 2 + ((day * 7) % 5);
    for (let i = 0; i < count; i++) {
      const at = now - day * 86_400_000 - i * 600_000;
      const customer = `9198${String(day * 10 + i).padStart(8, "0")}`;
      const action = i % 3 === 0 ? "ai_reply" : i % 5 === 4 ? "handoff" : "canned_reply";
      const base = {
        tenantId,
        accountId: account.id,
        channel: "whatsapp" as const,
        conversationId: `c_${day}_${i}`,
      };
      rows.push(
        {
          ...base,
          direction: "inbound" as const,
          providerMessageId: `wamid.in.${tenantId}.${day}.${i}`,
          senderId: customer,
          recipientId: opts.phoneNumberId,
          action,
          ruleId: null,
          at,
        },
        {
          ...base,
          direction: "outbound" as const,
          providerMessageId: `wamid.out.${tenantId}.${day}.${i}`,
          senderId: opts.phoneNumberId,
          recipientId: customer,
          action,
          ruleId: null,
          at: at + 2000,
        },
      );
    }
  }
  await recordMessages(db, rows);
  return { accountId: account.id };
}

/** Every page a person can reach, signed in or not, for layout checks and screenshots. */
export function dashboardPages(
  accountId: string,
  ruleId = "hours",
  /** An email subdomain's account, for its routing editor (left out when there is none). */
  emailAccountId?: string,
): { name: string; path: string; signedIn: boolean }[] {
  return [
    { name: "welcome", path: "/", signedIn: false },
    { name: "sign-in", path: "/sign-in", signedIn: false },
    { name: "not-found", path: "/no-such-page", signedIn: false },
    { name: "account-deleted", path: "/account-deleted", signedIn: false },
    { name: "overview", path: "/admin", signedIn: true },
    { name: "channels", path: "/admin/channels", signedIn: true },
    { name: "whatsapp-connect", path: "/admin/whatsapp/connect", signedIn: true },
    { name: "whatsapp-manual", path: "/admin/whatsapp/manual", signedIn: true },
    { name: "instagram-connect", path: "/admin/instagram/connect", signedIn: true },
    { name: "rules-accounts", path: "/admin/rules", signedIn: true },
    { name: "rules-editor", path: `/admin/rules/whatsapp/${accountId}`, signedIn: true },
    { name: "rules-new", path: `/admin/rules/whatsapp/${accountId}/new-rule`, signedIn: true },
    { name: "rules-edit", path: `/admin/rules/whatsapp/${accountId}/rules/${ruleId}`, signedIn: true },
    { name: "persona", path: "/admin/persona", signedIn: true },
    { name: "conversations", path: "/admin/conversations", signedIn: true },
    { name: "approvals", path: "/admin/approvals", signedIn: true },
    { name: "billing", path: "/admin/billing", signedIn: true },
    { name: "settings", path: "/admin/settings", signedIn: true },
    { name: "email", path: "/admin/email", signedIn: true },
    { name: "email-addresses", path: "/admin/email/addresses", signedIn: true },
    ...(emailAccountId
      ? [{ name: "email-routing", path: `/admin/email/${emailAccountId}/routing`, signedIn: true }]
      : []),
  ];
}

/**
 * Signs an operator in to /manage through the sandbox's Cloudflare Access, as a person would: the
 * panel's 403 page links to the sandbox's sign-in, which asks for an email and lands the browser
 * back on the panel through the dashboard's /cdn-cgi/access/authorized (the CF_Authorization
 * cookie).
 */
export async function accessSignIn(
  page: Page,
  dashboardUrl: string,
  email: string,
  path = "/manage",
): Promise<void> {
  await page.goto(`${dashboardUrl}${path}`);
  await Promise.all([
    page.waitForURL((u) => u.pathname === "/access/cdn-cgi/access/login"),
    page.click("a[href*='/cdn-cgi/access/login']"),
  ]);
  await page.fill("#email", email);
  await Promise.all([
    page.waitForURL((u) => u.pathname.startsWith("/manage")),
    page.click("form button[type=submit]"),
  ]);
}

/** Every page of the operator panel, for layout checks and screenshots. */
export function managePages(tenantId: string, archetypeId = "cafe-host"): { name: string; path: string }[] {
  return [
    { name: "manage-tenants", path: "/manage" },
    { name: "manage-tenant", path: `/manage/tenants/${tenantId}` },
    { name: "manage-pricing", path: "/manage/pricing" },
    { name: "manage-archetypes", path: "/manage/archetypes" },
    { name: "manage-archetype", path: `/manage/archetypes/${archetypeId}` },
    { name: "manage-demo", path: "/manage/demo" },
    { name: "manage-health", path: "/manage/health" },
    { name: "manage-audit", path: "/manage/audit" },
  ];
}
