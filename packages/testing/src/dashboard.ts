// Node-side helpers for driving the dashboard in Chromium (browser tests, `npm run screenshots`)
// and for giving a tenant enough data that every page has something to show.
import { type Persona, personaHash } from "@concierge/prompt";
import {
  createChannelAccount,
  completeWizardStep,
  finishDataDeletion,
  getOnboarding,
  grantCredits,
  insertDataDeletion,
  insertEmailSubdomain,
  insertOrder,
  recordCapturedPayment,
  recordMessages,
  recordPersonaVerdict,
  saveBusinessBasics,
  saveEmailRoutingJson,
  savePersona,
  saveReplyConfig,
  setEmailSubdomainState,
} from "@concierge/storage";
import type { Page } from "playwright-core";
import { DEMO_EMAIL } from "./seed.ts";

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
    // A business created by this sign-in lands in the onboarding wizard; an existing one in /admin.
    page.waitForURL((u) => u.pathname.startsWith("/admin") || u.pathname.startsWith("/dashboard/wizard")),
    page.click("form[action='/auth/dev'] button[type=submit]"),
  ]);
}

/**
 * What is wrong with the page's layout at this viewport: horizontal scrolling (with the widest
 * offenders named), and navigation items that are hidden, cut off or covered.
 *
 * A collapsed menu (the signed-in dashboard's Menu toggle on a phone: a checkbox in the header,
 * src/layout.ts) hides items on purpose. So items are judged closed and open: one hidden while
 * the menu is closed is fine only if the menu's toggle can be seen and pressed, and the item is
 * there, whole and uncovered, once it is open; anything cut off or covered in either state, or
 * hidden in both, is still a problem.
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
    const state = (item: Element): "hidden" | "cut off" | "covered" | null => {
      const r = item.getBoundingClientRect();
      if (r.width === 0 || r.height === 0) return "hidden";
      if (r.left < -0.5 || r.right > width + 0.5) return "cut off";
      const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      return hit && (hit === item || item.contains(hit)) ? null : "covered";
    };
    const items = [...document.querySelectorAll("header a, header button, nav a")];
    const label = (item: Element) => (item.textContent ?? "").trim();
    const closed = items.map(state);
    const toggles = [...document.querySelectorAll<HTMLInputElement>("header input[type=checkbox]")].filter(
      (t) => !t.checked,
    );
    let open: typeof closed = closed;
    if (toggles.length > 0 && closed.includes("hidden")) {
      for (const t of toggles) {
        const labels = [...(t.labels ?? [])];
        if (!labels.some((l) => state(l) === null))
          problems.push(`the menu toggle "${labels.map(label).join(" ")}" cannot be seen or pressed`);
        t.checked = true;
      }
      open = items.map(state);
      for (const t of toggles) t.checked = false;
    }
    items.forEach((item, i) => {
      const shut = closed[i];
      const opened = open[i];
      if (shut === "hidden" && opened === null) return; // behind the closed menu
      if (shut) problems.push(`navigation item "${label(item)}" is ${shut}`);
      else if (opened) problems.push(`navigation item "${label(item)}" is ${opened} with the menu open`);
    });
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
          // Which rule answered, and how long the customer waited: the insights' breakdowns.
          ruleId: action === "canned_reply" ? "hours" : action === "handoff" ? "booking" : "default",
          at: at + 2000,
          replyWaitMs: 2000,
        },
        // Every fourth customer also got a person's reply, half an hour later.
        ...(i % 4 === 1
          ? [
              {
                ...base,
                direction: "outbound" as const,
                providerMessageId: `wamid.person.${tenantId}.${day}.${i}`,
                senderId: opts.phoneNumberId,
                recipientId: customer,
                action: "human_reply",
                ruleId: null,
                at: at + 1_800_000,
                replyWaitMs: 1_800_000,
              },
            ]
          : []),
      );
    }
  }
  await recordMessages(db, rows);
  return { accountId: account.id };
}

/** The ids of what seedShowcaseExtras made, for the pages that show one thing. */
export type ShowcaseIds = {
  /** An email subdomain's account (its routing editor) and one of its routing rules. */
  emailAccountId: string;
  emailRuleId: string;
  /** An order still to be paid (the checkout page). */
  orderId: string;
  /** A captured payment (its receipt). */
  paymentId: string;
  /** A data deletion request (its status page). */
  deletionCode: string;
};

/**
 * What seedShowcase leaves out, for the pages that show one record: an active email subdomain
 * with routing rules, a paid order and one still open, and a finished data deletion request.
 * Everything through packages/storage, as the pipeline writes it.
 */
export async function seedShowcaseExtras(
  db: D1Database,
  tenantId: string,
  opts: { subdomain?: string; now?: number } = {},
): Promise<ShowcaseIds> {
  const now = opts.now ?? Date.now();
  const name = opts.subdomain ?? "chai";
  const emailAccountId = `acc_showcase_${name}`;
  const created = await insertEmailSubdomain(
    db,
    { accountId: emailAccountId, tenantId, name, domain: `${name}.cncg.email` },
    now,
  );
  if (!created.ok) throw new Error(`the showcase's email subdomain: ${created.code}`);
  await setEmailSubdomainState(db, emailAccountId, { status: "active", statusError: null }, now);
  // A new subdomain's routing is at version 1 (the migration's default).
  const saved = await saveEmailRoutingJson(
    db,
    tenantId,
    emailAccountId,
    JSON.stringify(DEMO_EMAIL.routing),
    1,
    now,
  );
  if (saved === null) throw new Error("the showcase's email routing was not saved");

  const paid = { id: `ord_showcase_paid_${name}`, razorpayOrderId: `order_ShowcasePaid${name}` };
  const open = { id: `ord_showcase_open_${name}`, razorpayOrderId: `order_ShowcaseOpen${name}` };
  const pack = { packId: "inr-500", credits: 500, amount: 199_900, currency: "INR" as const };
  for (const o of [paid, open]) await insertOrder(db, { ...o, ...pack, tenantId }, now);
  const paymentId = `pay_Showcase${name}`;
  await recordCapturedPayment(db, { ...pack, tenantId, orderId: paid.id, paymentId, method: "upi" });

  const deletionCode = `showcase-${name}-deletion`;
  await insertDataDeletion(db, { code: deletionCode, status: "pending", requestedAt: now });
  await finishDataDeletion(db, deletionCode, "completed", now);
  return {
    emailAccountId,
    emailRuleId: DEMO_EMAIL.routing.rules[0].id,
    orderId: open.id,
    paymentId,
    deletionCode,
  };
}

/**
 * Every page a person can reach, signed in or not, for layout checks and screenshots. The pages
 * that show one record need every id of seedShowcaseExtras: a missing or empty one throws, so a
 * run never silently leaves a page out. `null` says, explicitly, that the caller seeded no such
 * records and wants only the other pages.
 */
export function dashboardPages(
  accountId: string,
  ruleId: string,
  ids: ShowcaseIds | null,
): { name: string; path: string; signedIn: boolean }[] {
  if (ids !== null) {
    const keys: (keyof ShowcaseIds)[] = [
      "emailAccountId",
      "emailRuleId",
      "orderId",
      "paymentId",
      "deletionCode",
    ];
    const missing = keys.filter((k) => typeof ids[k] !== "string" || ids[k] === "");
    if (missing.length > 0) throw new Error(`dashboardPages: showcase ids missing: ${missing.join(", ")}`);
  }
  const q = encodeURIComponent;
  const page = (name: string, path: string, signedIn: boolean) => ({ name, path, signedIn });
  return [
    page("welcome", "/", false),
    page("features", "/features", false),
    page("pricing", "/pricing", false),
    page("privacy", "/privacy", false),
    page("demo", "/demo", false),
    page("sign-in", "/sign-in", false),
    page("not-found", "/no-such-page", false),
    page("account-deleted", "/account-deleted", false),
    // The link in a forwarding address's verification mail: it only asks to confirm.
    page("email-verify", "/email/verify?token=showcase-token", false),
    ...(ids
      ? [page("data-deletion-status", `/data-deletion/status?code=${q(ids.deletionCode)}`, false)]
      : []),
    page("overview", "/admin", true),
    page("inbox", "/admin/inbox", true),
    // The onboarding wizard's steps: a tenant that has not launched can open each one it reached
    // (a later one sends it back to the step it is on).
    page("wizard-basics", "/dashboard/wizard/basics", true),
    page("wizard-channels", "/dashboard/wizard/channels", true),
    page("wizard-notifications", "/dashboard/wizard/notifications", true),
    page("wizard-replies", "/dashboard/wizard/replies", true),
    page("wizard-launch", "/dashboard/wizard/launch", true),
    page("channels", "/admin/channels", true),
    page("whatsapp-connect", "/admin/whatsapp/connect", true),
    page("whatsapp-manual", "/admin/whatsapp/manual", true),
    page("instagram-connect", "/admin/instagram/connect", true),
    page("discord", "/admin/discord", true),
    page("rules-accounts", "/admin/rules", true),
    page("rules-editor", `/admin/rules/whatsapp/${accountId}`, true),
    page("rules-new", `/admin/rules/whatsapp/${accountId}/new-rule`, true),
    page("rules-edit", `/admin/rules/whatsapp/${accountId}/rules/${ruleId}`, true),
    page("persona", "/admin/persona", true),
    page("conversations", "/admin/conversations", true),
    page("hours", "/admin/hours", true),
    page("approvals", "/admin/approvals", true),
    page("billing", "/admin/billing", true),
    page("billing-payments", "/admin/billing/payments", true),
    ...(ids
      ? [
          page("billing-receipt", `/admin/billing/payments/${q(ids.paymentId)}`, true),
          page("billing-checkout", `/admin/billing/checkout/${q(ids.orderId)}`, true),
        ]
      : []),
    page("settings", "/admin/settings", true),
    page("email", "/admin/email", true),
    page("email-addresses", "/admin/email/addresses", true),
    ...(ids
      ? [
          page("email-routing", `/admin/email/${q(ids.emailAccountId)}/routing`, true),
          page(
            "email-routing-rule",
            `/admin/email/${q(ids.emailAccountId)}/routing/rules/${q(ids.emailRuleId)}`,
            true,
          ),
        ]
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

/**
 * Takes a tenant that has not launched through step 4 of the onboarding wizard as a café, so that
 * every step can be opened (the screenshots show each one).
 */
export async function seedWizardThroughReplies(db: D1Database, tenantId: string): Promise<void> {
  const basics = await getOnboarding(db, tenantId);
  if (!basics) throw new Error(`no tenant ${tenantId}`);
  await saveBusinessBasics(db, tenantId, { ...basics, businessKind: "cafe" });
  await completeWizardStep(db, tenantId, 4);
}
