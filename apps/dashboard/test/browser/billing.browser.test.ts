import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { launchBrowser } from "@concierge/testing/browser";
import { devSignIn, layoutProblems } from "@concierge/testing/dashboard";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "../../../../scripts/stack.ts";

// Buying credits as a person does it, in Chromium against the whole local stack with the
// sandbox playing Razorpay: at 1280 px with JavaScript (Checkout's modal), at 375 px without
// (Razorpay's hosted page). Each ends on the receipt and the balance, in the tenant's locale.
// BILLING_SCREENSHOTS=<dir> also saves the billing, checkout and receipt pages at both widths.
let stack: Stack;
let browser: Browser;
let persistDir: string;
const shots = process.env.BILLING_SCREENSHOTS;

beforeAll(async () => {
  persistDir = mkdtempSync(path.join(os.tmpdir(), "concierge-billing-browser-"));
  [stack, browser] = await Promise.all([
    startStack({ persistDir, demoWaitSeconds: 0, quiet: true }),
    launchBrowser(),
  ]);
  if (shots) mkdirSync(shots, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await stack?.dispose();
  if (persistDir) rmSync(persistDir, { recursive: true, force: true });
});

const url = (p: string) => `${stack.urls.dashboard}${p}`;

async function seeText(locator: Locator, expected: string | RegExp, timeout = 10_000) {
  await expect
    .poll(async () => (await locator.count()) > 0 && ((await locator.first().textContent()) ?? ""), {
      timeout,
    })
    .toMatch(
      typeof expected === "string" ? new RegExp(expected.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")) : expected,
    );
}

async function shoot(page: Page, name: string): Promise<void> {
  if (shots) await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
}

async function fits(page: Page): Promise<void> {
  expect(await layoutProblems(page)).toEqual([]);
}

/** A new business signed in through the development sign-in, in a browser of this locale. */
async function newBusiness(
  opts: { width: number; height: number; locale: string; javaScript: boolean },
  name: string,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    viewport: { width: opts.width, height: opts.height },
    locale: opts.locale,
    javaScriptEnabled: opts.javaScript,
  });
  const page = await context.newPage();
  await devSignIn(page, stack.urls.dashboard, {
    email: `billing-${opts.width}-${Date.now()}@browser.example`,
    business: "new",
    businessName: name,
  });
  return { context, page };
}

describe("buying credits in a browser", () => {
  it("buys a pack in Checkout's modal at 1280 px and sees the balance and the receipt in en-IN", async () => {
    const { context, page } = await newBusiness(
      { width: 1280, height: 800, locale: "en-IN", javaScript: true },
      "Browser Chai",
    );
    await page.goto(url("/admin/billing"));
    await seeText(page.locator("#balance .stat"), "50");
    await seeText(page.locator("#pack-inr-500"), "₹1,999");
    await fits(page);
    await shoot(page, "billing-1280");

    await page.click("#pack-inr-500 button:has-text('Buy 500 credits for ₹1,999')");
    await page.waitForURL((u) => u.pathname.startsWith("/admin/billing/checkout/"));
    await seeText(page.locator("#checkout-pay"), "Pay ₹1,999");
    await fits(page);
    await shoot(page, "checkout-1280");

    await page.click("#checkout-pay");
    const modal = page.frameLocator("iframe[title='Razorpay Checkout']");
    await modal.locator("button[data-outcome=pay]:not([disabled])").click();
    await page.waitForURL((u) => u.pathname.startsWith("/admin/billing/payments/pay_"), { timeout: 20_000 });
    await seeText(page.locator("main .notice"), "Payment received: 500 credits were added to your balance.");
    const receipt = page.locator("article.receipt");
    await seeText(receipt, "Browser Chai");
    await seeText(receipt, "500 AI reply credits");
    await seeText(receipt, "₹1,999");
    await seeText(receipt, /\d{1,2} [A-Z][a-z]{2} \d{4}/);
    await seeText(receipt, "Paid");
    await fits(page);
    await shoot(page, "receipt-1280");
    // Print: with JavaScript a Print button; printed, only the receipt itself.
    expect(await page.locator("button[data-print]").isVisible()).toBe(true);
    await page.emulateMedia({ media: "print" });
    expect(await page.locator("nav.main").isVisible()).toBe(false);
    expect(await page.locator("button[data-print]").isVisible()).toBe(false);
    expect(await receipt.isVisible()).toBe(true);
    await shoot(page, "receipt-print-1280");
    await page.emulateMedia({ media: "screen" });

    await page.goto(url("/admin/billing"));
    await seeText(page.locator("#balance .stat"), "550");
    await page.goto(url("/admin/billing/payments"));
    await seeText(page.locator("#payments"), "₹1,999");
    await context.close();
  });

  it("buys a pack on Razorpay's hosted page without JavaScript at 375 px, in en-US", async () => {
    const { context, page } = await newBusiness(
      { width: 375, height: 812, locale: "en-US", javaScript: false },
      "Browser Bagels",
    );
    await page.goto(url("/admin/settings"));
    await page.selectOption("[name=currency]", "USD");
    await page.click("button:has-text('Save preferences')");
    await page.waitForURL((u) => u.searchParams.get("saved") === "1");

    await page.goto(url("/admin/billing"));
    await seeText(page.locator("#pack-usd-2000"), "$99");
    await fits(page);
    await shoot(page, "billing-375");

    await page.click("#pack-usd-2000 button[type=submit]");
    await page.waitForURL((u) => u.pathname.startsWith("/admin/billing/checkout/"));
    await seeText(page.locator("#checkout-pay"), "Pay $99");
    await fits(page);
    await shoot(page, "checkout-375");

    // Without JavaScript the form goes to the hosted page, which posts back (its Continue button).
    await page.click("#checkout-pay");
    await page.waitForURL((u) => u.pathname.endsWith("/checkout/embedded"));
    await page.click("button[name=action][value=pay]");
    await page.click("#rzp-return button[type=submit]");
    await page.waitForURL((u) => u.pathname.startsWith("/admin/billing/payments/pay_"), { timeout: 20_000 });
    const receipt = page.locator("article.receipt");
    await seeText(receipt, "2,000 AI reply credits");
    await seeText(receipt, "$99");
    await seeText(receipt, /[A-Z][a-z]{2} \d{1,2}, \d{4}/);
    await fits(page);
    await shoot(page, "receipt-375");
    // No JavaScript, no Print button: the browser's own Print does it.
    expect(await page.locator("button[data-print]").isVisible()).toBe(false);

    await page.goto(url("/admin/billing"));
    await seeText(page.locator("#balance .stat"), "2,050");
    await page.goto(url("/admin/billing/payments"));
    await seeText(page.locator("#payments"), "$99");
    await fits(page);
    await context.close();
  });
});
