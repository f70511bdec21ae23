import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createChannelAccount, grantCredits } from "@concierge/storage";
import { launchBrowser } from "@concierge/testing/browser";
import { dashboardPages, devSignIn, layoutProblems } from "@concierge/testing/dashboard";
import { addGraphPhoneNumber, sentTo } from "@concierge/testing/sandbox-client";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "../../../../scripts/stack.ts";

// A tenant's first session, as a person clicks through it in Chromium against the whole local
// stack. The steps build on each other, in order: sign in, rules, persona, approvals, locale,
// layout, and finally deleting the account.
let stack: Stack;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let persistDir: string;
let tenantId: string;
let accountId: string;
const email = `owner-${Date.now()}@browser.example`;
const phoneNumberId = "100200300400777";
const customer = "919811122233";

beforeAll(async () => {
  persistDir = mkdtempSync(path.join(os.tmpdir(), "concierge-browser-"));
  [stack, browser] = await Promise.all([
    startStack({ persistDir, demoWaitSeconds: 0, quiet: true }),
    launchBrowser(),
  ]);
  context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: "en-US" });
  page = await context.newPage();
});

afterAll(async () => {
  await browser?.close();
  await stack?.dispose();
  if (persistDir) rmSync(persistDir, { recursive: true, force: true });
});

const url = (p: string) => `${stack.urls.dashboard}${p}`;

/** Waits until the element's text contains what a person would read (playwright-core has no expect). */
async function seeText(locator: Locator, expected: string | RegExp, timeout = 10_000) {
  await expect
    .poll(async () => (await locator.count()) > 0 && ((await locator.first().textContent()) ?? ""), {
      timeout,
    })
    .toMatch(
      typeof expected === "string" ? new RegExp(expected.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")) : expected,
    );
}
const ruleIds = () => page.locator("#rule-list li").evaluateAll((els) => els.map((e) => e.id));

describe("the dashboard in a browser", () => {
  it("signs a new business in with the development sign-in and shows the overview", async () => {
    await devSignIn(page, stack.urls.dashboard, { email, business: "new", businessName: "Browser Café" });
    // A new business starts in the onboarding wizard (its own test: wizard.browser.test.ts); this
    // session leaves it for the overview, as "Finish later" does.
    expect(new URL(page.url()).pathname).toBe("/dashboard/wizard/basics");
    await page.goto(url("/admin"));
    await seeText(page.locator("header.top"), "Browser Café");
    const user = await stack.db
      .prepare("SELECT tenant_id AS tenantId FROM users WHERE subject = ?")
      .bind(email)
      .first<{ tenantId: string }>();
    tenantId = user!.tenantId;
    // Connecting a number is the WhatsApp issue's page; here the number is simply there.
    accountId = (
      await createChannelAccount(stack.db, { tenantId, channel: "whatsapp", externalId: phoneNumberId })
    ).id;
    await grantCredits(stack.db, { tenantId, amount: 200_000, source: "grant", reference: "browser-test" });
  });

  it("creates a keyword rule and an intent rule, reorders them and tries the test panel", async () => {
    await page.goto(url("/admin/rules"));
    await page.click(`a[href="/admin/rules/whatsapp/${accountId}"]`);
    const addRule = async (fill: () => Promise<void>) => {
      await page.click("text=New rule");
      await fill();
      await Promise.all([
        page.waitForURL(`**/admin/rules/whatsapp/${accountId}**`),
        page.click("button:has-text('Add rule')"),
      ]);
    };
    await addRule(async () => {
      await page.fill("[name=label]", "Opening hours");
      await page.check("[name=matcherKind][value=static_text]");
      await page.fill("[name=keywords]", "hours, open");
      await page.check("[name=responseKind][value=canned]");
      await page.fill("[name=responseText]", "We're open 7am to 7pm.");
    });
    await addRule(async () => {
      await page.fill("[name=label]", "Table bookings");
      await page.check("[name=matcherKind][value=prompt]");
      await page.fill("[name=description]", "book a table reservation for dinner");
      await page.check("[name=responseKind][value=canned]");
      await page.fill("[name=responseText]", "Reply with the time and party size and we'll book it.");
    });
    expect(await ruleIds()).toEqual(["rule-opening-hours", "rule-table-bookings"]);

    await page.locator("#rule-table-bookings").locator("button:has-text('Move up')").click();
    await page.waitForLoadState();
    expect(await ruleIds()).toEqual(["rule-table-bookings", "rule-opening-hours"]);

    await page.fill("#test-panel [name=text]", "What are your opening hours?");
    await page.click("#test-panel button:has-text('Test')");
    await seeText(page.locator("#test-result"), "Opening hours");
    await seeText(page.locator("#test-result"), "We're open 7am to 7pm.");

    await page.fill("#test-panel [name=text]", "Can I book a table for dinner?");
    await page.click("#test-panel button:has-text('Test')");
    await seeText(page.locator("#test-result"), "Table bookings");
    await seeText(page.locator("#test-result"), /0\.\d\d/);
  });

  it("builds a persona and sees its safety status change to approved on its own", async () => {
    await page.goto(url("/admin/persona"));
    await page.check("#kind-builder");
    await page.check("#voice-friendly");
    await page.fill("[name=businessName]", "Browser Café");
    await page.fill("[name=businessType]", "café");
    await seeText(page.locator("#persona-preview"), "You speak for Browser Café, a café", 5000);
    await page.click("button:has-text('Save persona')");
    await page.waitForURL("**/admin/persona?saved=1");
    await seeText(page.locator("#persona-status"), "Approved", 20_000);
  });

  it("approves a held AI draft and the reply reaches the customer once", async () => {
    await page.goto(url(`/admin/rules/whatsapp/${accountId}`));
    await page.fill("#account-settings [name=waitSeconds]", "0");
    await page.click("#account-settings button[type=submit]");
    await page.waitForLoadState();
    await page.check("#default-rule [name=responseKind][value=prompt]");
    await page.fill("#default-rule [name=responseText]", "Answer briefly and kindly.");
    await page.check("#default-rule [name=approval][value=always]");
    await page.click("#default-rule button[type=submit]");
    await page.waitForLoadState();

    const res = await fetch(`${stack.urls.sandbox}/api/whatsapp/send`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ phoneNumberId, from: customer, name: "Asha", text: "Do you have oat milk?" }),
    });
    expect(res.ok).toBe(true);

    await expect
      .poll(
        async () => {
          await page.goto(url("/admin/approvals"));
          return page.locator("article.approval").count();
        },
        { timeout: 20_000, interval: 500 },
      )
      .toBe(1);
    await page.locator("article.approval button:has-text('Approve')").click();
    await page.waitForLoadState();
    await expect.poll(() => page.locator("article.approval").count()).toBe(0);
    await expect
      .poll(async () => (await sentTo(stack.urls.sandbox, customer)).length, { timeout: 10_000 })
      .toBe(1);
  });

  it("switches the locale and groups numbers the Indian way", async () => {
    await page.goto(url("/admin/billing"));
    // 2,00,000 granted and the 50 trial credits, one spent on the approved AI reply.
    await seeText(page.locator("#balance"), "200,049");
    await page.goto(url("/admin/settings"));
    await page.selectOption("[name=locale]", "en-IN");
    await page.click("button:has-text('Save preferences')");
    await page.waitForLoadState();
    await page.goto(url("/admin/billing"));
    await seeText(page.locator("#balance"), "2,00,049");
  });

  it("fits every page on a 375 px wide phone without horizontal scrolling", async () => {
    const phone = await browser.newContext({ viewport: { width: 375, height: 812 } });
    const p = await phone.newPage();
    await devSignIn(p, stack.urls.dashboard, { email });
    const problems: string[] = [];
    for (const entry of dashboardPages(accountId, "opening-hours", null)) {
      await p.goto(url(entry.path));
      for (const problem of await layoutProblems(p)) problems.push(`${entry.path}: ${problem}`);
    }
    await phone.close();
    expect(problems).toEqual([]);
  });

  it("connects a WhatsApp number by hand with the code Meta sent it, on a 375 px phone", async () => {
    const phone = await browser.newContext({ viewport: { width: 375, height: 812 } });
    const p = await phone.newPage();
    await devSignIn(p, stack.urls.dashboard, { email });
    const number = "100200300400888";
    await addGraphPhoneNumber(stack.urls.sandbox, { id: number, display_phone_number: "+91 98888 00888" });
    await p.goto(url("/admin/whatsapp/manual"));
    expect(await layoutProblems(p)).toEqual([]);
    await p.fill('input[name="phoneNumberId"]', number);
    await p.click('form[action="/admin/whatsapp/manual"] button[type="submit"]');
    // Step two: the code sent to the number, and the two-step PIN.
    await p.waitForSelector('input[name="code"][type]:not([type="hidden"])');
    expect(await layoutProblems(p)).toEqual([]);
    const sent = (await (
      await fetch(`${stack.urls.sandbox}/__sandbox/whatsapp/code?phone_number_id=${number}`)
    ).json()) as { code: string };
    await p.fill('input[name="code"]:not([type="hidden"])', sent.code);
    await p.fill('input[name="pin"]:not([type="hidden"])', "123456");
    await p.click('form:has(input[name="step"]) button[type="submit"]');
    await seeText(p.locator("main"), "+91 98888 00888");
    const row = await stack.db
      .prepare("SELECT tenant_id AS t FROM channel_accounts WHERE channel = 'whatsapp' AND external_id = ?")
      .bind(number)
      .first<{ t: string }>();
    expect(row?.t).toBe(tenantId);
    await phone.close();
  });

  it("shows the too-many-tries page, fitting a 375 px phone, past a limit", async () => {
    const phone = await browser.newContext({ viewport: { width: 375, height: 812 } });
    const p = await phone.newPage();
    await devSignIn(p, stack.urls.dashboard, { email });
    // Instagram's OAuth start is limited per visitor network (20 a minute).
    let res = await p.request.get(url("/admin/instagram/start"), { maxRedirects: 0 });
    for (let i = 0; i < 30 && res.status() !== 429; i++) {
      res = await p.request.get(url("/admin/instagram/start"), { maxRedirects: 0 });
    }
    expect(res.status()).toBe(429);
    const shown = await p.goto(url("/admin/instagram/start"));
    expect(shown?.status()).toBe(429);
    await seeText(p.locator("h1"), "Too many tries");
    expect(await layoutProblems(p)).toEqual([]);
    await phone.close();
  });

  it("deletes the account and everything in it", async () => {
    await page.goto(url("/admin/settings"));
    await page.fill("#delete-account [name=confirmName]", "Browser Café");
    await page.click("button:has-text('Delete account permanently')");
    await page.waitForURL((u) => u.pathname === "/account-deleted");
    await seeText(page.locator("main"), "Your account and all its data were deleted.");
    const row = await stack.db.prepare("SELECT id FROM tenants WHERE id = ?").bind(tenantId).first();
    expect(row).toBeNull();
    await page.goto(url("/admin"));
    expect(new URL(page.url()).pathname).toBe("/sign-in");
  });
});
