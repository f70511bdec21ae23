import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { launchBrowser } from "@concierge/testing/browser";
import { devSignIn, layoutProblems } from "@concierge/testing/dashboard";
import { sentEmails } from "@concierge/testing/sandbox-client";
import type { Browser, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "../../../../scripts/stack.ts";

// A brand-new business, as its owner would go through the onboarding wizard in Chromium against
// the whole local stack: the five steps, WhatsApp through the sandbox's Embedded Signup (a fresh
// number for this tenant), an email subdomain created inline, a notification address verified by
// its link, the starter rules of a café; then a customer writes "what are your hours?" from the
// sandbox's customer page and the starter rule's reply arrives there. Once on a desktop, once on
// a 375 px phone, where every step must also lay out without horizontal scrolling.
let stack: Stack;
let browser: Browser;
let persistDir: string;

beforeAll(async () => {
  persistDir = mkdtempSync(path.join(os.tmpdir(), "concierge-wizard-"));
  [stack, browser] = await Promise.all([startStack({ persistDir, quiet: true }), launchBrowser()]);
});

afterAll(async () => {
  await browser?.close();
  await stack?.dispose();
  if (persistDir) rmSync(persistDir, { recursive: true, force: true });
});

/** Waits until the element's text matches (playwright-core has no expect of its own). */
async function seeText(locator: Locator, expected: RegExp, timeout = 15_000) {
  await expect
    .poll(async () => (await locator.count()) > 0 && ((await locator.first().textContent()) ?? ""), {
      timeout,
    })
    .toMatch(expected);
}

/** Submits a form by its button and waits for the page the server answers with. */
async function submit(page: Page, button: Locator, to: string | RegExp) {
  await Promise.all([page.waitForURL(to), button.click()]);
}

const VIEWPORTS = [
  { name: "desktop", width: 1280, height: 800 },
  { name: "phone", width: 375, height: 812 },
];

describe.each(VIEWPORTS)("the onboarding wizard on a $name ($width px)", (viewport) => {
  const email = `owner-${viewport.name}-${Date.now()}@wizard.example`;
  const business = `Wizard Café ${viewport.name}`;
  const subdomain = `wiz${viewport.name}${Date.now().toString(36)}`;
  const notifyAddress = `alerts-${viewport.name}@wizard.example`;
  let page: Page;
  const problems: string[] = [];
  const url = (p: string) => `${stack.urls.dashboard}${p}`;
  const checkLayout = async (step: string) => {
    for (const p of await layoutProblems(page)) problems.push(`${step}: ${p}`);
  };

  beforeAll(async () => {
    const context = await browser.newContext({
      viewport: { width: viewport.width, height: viewport.height },
      locale: "en-US",
      timezoneId: "Asia/Kolkata",
    });
    page = await context.newPage();
  });

  it("signs a new business in and lands on step 1, with defaults from the browser", async () => {
    await devSignIn(page, stack.urls.dashboard, { email, business: "new", businessName: business });
    expect(new URL(page.url()).pathname).toBe("/dashboard/wizard/basics");
    await seeText(page.locator("main"), /Step 1 of 5/);
    expect(await page.inputValue("[name=name]")).toBe(business);
    // en-US from Accept-Language, and the time zone the browser itself reports.
    expect(await page.inputValue("[name=currency]")).toBe("USD");
    // (Chromium names India's zone by its older name, Asia/Calcutta; both are the same zone.)
    expect(await page.inputValue("[name=timeZone]")).toMatch(/^Asia\/(Kolkata|Calcutta)$/);
    await checkLayout("basics");
    await page.check("[name=businessKind][value=cafe]");
    await submit(
      page,
      page.locator("form[action='/dashboard/wizard/basics'] button[type=submit]"),
      "**/dashboard/wizard/channels",
    );
  });

  it("connects a fresh WhatsApp number through Embedded Signup and creates an email subdomain inline", async () => {
    await checkLayout("channels");
    await page.click("a[href='/admin/whatsapp/connect?from=wizard']");
    await page.waitForURL("**/admin/whatsapp/connect?from=wizard");
    await page.fill("#wa-es-pin", "246810");
    await expect.poll(() => page.isEnabled("#wa-es-start"), { timeout: 15_000 }).toBe(true);
    const [popup] = await Promise.all([page.waitForEvent("popup"), page.click("#wa-es-start")]);
    await popup.waitForLoadState();
    expect(await popup.inputValue("#es-business")).toBe(business);
    await Promise.all([
      page.waitForURL("**/dashboard/wizard/channels**", { timeout: 20_000 }),
      popup.click("#es-continue"),
    ]);
    // The number is this tenant's own, fresh from the sandbox, and its self-test passed.
    await seeText(page.locator(".wizard-account").first(), /\+1 555/);

    await page.fill("#wizard-email [name=name]", subdomain);
    await submit(page, page.locator("#wizard-email button[type=submit]"), "**/dashboard/wizard/channels**");
    await seeText(page.locator("main"), new RegExp(subdomain));
    await submit(
      page,
      page.locator("form.wizard-next button[type=submit]"),
      "**/dashboard/wizard/notifications",
    );
  });

  it("verifies the notification address by its link and chooses the digest", async () => {
    await checkLayout("notifications");
    const form = page.locator("form[action='/dashboard/wizard/notifications']");
    await page.fill("[name=email]", notifyAddress);
    await submit(
      page,
      form.locator("button[formaction='/dashboard/wizard/notifications/verify']"),
      "**/dashboard/wizard/notifications**",
    );
    let link = "";
    await expect
      .poll(
        async () => {
          const mails = await sentEmails(stack.urls.sandbox, notifyAddress);
          const raw = (mails.at(-1)?.raw ?? "").replace(/=\r?\n/g, "").replace(/=3D/g, "=");
          link = /https?:\/\/[^\s"<>]+\/email\/verify\?token=[A-Za-z0-9_-]+/.exec(raw)?.[0] ?? "";
          return link;
        },
        { timeout: 10_000 },
      )
      .not.toBe("");
    // With ports chosen at random the pipeline cannot know the dashboard's address beforehand
    // (npm start's fixed port can): the link's path and token are what matter here.
    await page.goto(url(new URL(link).pathname + new URL(link).search));
    await page.click("form[action='/email/verify'] button[type=submit]");
    await page.waitForLoadState();

    await page.goto(url("/dashboard/wizard/notifications"));
    await page.fill("[name=email]", notifyAddress);
    await page.check("[name=cadence][value=hourly]");
    await page.check("[name=digest][value=daily]");
    await submit(
      page,
      page.locator("form[action='/dashboard/wizard/notifications'] > div > button:not([formaction])"),
      "**/dashboard/wizard/replies",
    );
  });

  it("tries the café's starter rules in the test panel as typed, then saves them with the persona", async () => {
    await checkLayout("replies");
    await page.fill("[name=goal]", "Book a table");
    await page.fill("[name=hours]", "8am to 9pm every day");
    await page.fill("[name=address]", "12 MG Road, Bengaluru");
    // The test panel matches the rules as typed, before anything is saved, and keeps what was typed.
    await page.fill("#wizard-test [name=text]", "what are your hours?");
    await submit(
      page,
      page.locator("#wizard-test button[type=submit]"),
      "**/dashboard/wizard/replies/test**",
    );
    await seeText(page.locator("#wizard-test-result"), /8am to 9pm every day/);
    expect(await page.inputValue("[name=hours]")).toBe("8am to 9pm every day");
    await checkLayout("replies-tested");
    await submit(
      page,
      page.locator("form.wizard-replies button[type=submit]:not([formaction])"),
      "**/dashboard/wizard/launch",
    );
  });

  it("launches, and a customer's question gets the starter rule's reply on WhatsApp", async () => {
    await checkLayout("launch");
    await seeText(page.locator("#wizard-balance"), /50/);
    await submit(
      page,
      page.locator("form[action='/dashboard/wizard/launch'] button[type=submit]"),
      "**/admin?launched=1",
    );
    await checkLayout("overview");

    // The sandbox's customer page offers the newest number (this tenant's) first.
    const customer = await page.context().newPage();
    await customer.goto(stack.urls.sandbox);
    await customer.fill("#from", `9198${String(Date.now()).slice(-8)}`);
    await customer.fill("#text", "what are your hours?");
    await customer.click("form#send button");
    await seeText(customer.locator("#log .b.them"), /8am to 9pm every day/, 30_000);
    await customer.close();
    expect(problems).toEqual([]);
  });
});
