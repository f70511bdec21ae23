import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { launchBrowser } from "@concierge/testing/browser";
import { accessSignIn, layoutProblems, managePages } from "@concierge/testing/dashboard";
import { DEMO } from "@concierge/testing/seed";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "../../../../scripts/stack.ts";

// The operator panel in Chromium against the whole local stack: an operator signs in through the
// sandbox's Cloudflare Access, finds the demo tenant, grants it credits and sees the audit entry;
// every panel page fits a 375 px phone.
let stack: Stack;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let persistDir: string;
const email = `ops-${Date.now()}@browser.example`;

beforeAll(async () => {
  persistDir = mkdtempSync(path.join(os.tmpdir(), "concierge-manage-browser-"));
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

async function seeText(locator: Locator, expected: string | RegExp, timeout = 10_000) {
  await expect
    .poll(async () => (await locator.count()) > 0 && ((await locator.first().textContent()) ?? ""), {
      timeout,
    })
    .toMatch(
      typeof expected === "string" ? new RegExp(expected.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")) : expected,
    );
}

const balance = async () =>
  (await stack.db
    .prepare(
      "SELECT COALESCE(SUM(remaining), 0) AS n FROM credit_lots WHERE tenant_id = ? AND (expires_at IS NULL OR expires_at > ?)",
    )
    .bind(DEMO.tenantId, Date.now())
    .first<{ n: number }>())!.n;

describe("the operator panel in a browser", () => {
  it("refuses /manage until Access signs the operator in, then shows the panel", async () => {
    const res = await page.goto(url("/manage"));
    expect(res?.status()).toBe(403);
    await accessSignIn(page, stack.urls.dashboard, email);
    expect(new URL(page.url()).pathname).toBe("/manage");
    await seeText(page.locator("header.top"), `Signed in as ${email}`);
  });

  it("finds the demo tenant, grants it credits and sees the grant in its ledger", async () => {
    const before = await balance();
    await page.fill("[name=q]", DEMO.whatsapp.displayPhoneNumber);
    await Promise.all([
      page.waitForURL("**/manage?q=*"),
      page.click("form[role=search] button[type=submit]"),
    ]);
    await page.click(`#tenants a[href="/manage/tenants/${DEMO.tenantId}"]`);
    await page.waitForURL(`**/manage/tenants/${DEMO.tenantId}`);
    await seeText(page.locator("h1"), DEMO.tenantName);

    await page.fill("#grant [name=credits]", "321");
    await page.fill("#grant [name=reason]", "Browser test goodwill");
    await Promise.all([
      page.waitForURL(`**/manage/tenants/${DEMO.tenantId}?done=granted*`),
      page.click("#grant button[type=submit]"),
    ]);
    await seeText(page.locator("p.notice[role=status]"), "The credits were granted.");
    expect(await balance()).toBe(before + 321);
    await seeText(page.locator("#ledger tbody tr").first(), "+321");
  });

  it("shows the grant in the audit log, by this operator", async () => {
    await page.click("nav.main a:has-text('Audit log')");
    await page.waitForURL("**/manage/audit");
    const row = page.locator("#audit tbody tr").first();
    await seeText(row, "Granted credits");
    await seeText(row, email);
    await seeText(row, DEMO.tenantId);
    await seeText(row, "Browser test goodwill");
    // Filtering by another action hides it.
    await page.selectOption("[name=action]", "tenant.suspend");
    await Promise.all([
      page.waitForURL("**/manage/audit?*"),
      page.click("form[role=search] button[type=submit]"),
    ]);
    await seeText(page.locator("#audit-empty"), "No entries match.");
  });

  it("fits every panel page on a 375 px wide phone without horizontal scrolling", async () => {
    const phone = await browser.newContext({ viewport: { width: 375, height: 812 } });
    const p = await phone.newPage();
    await accessSignIn(p, stack.urls.dashboard, email);
    const problems: string[] = [];
    for (const entry of managePages(DEMO.tenantId)) {
      const res = await p.goto(url(entry.path));
      if (res?.status() !== 200) problems.push(`${entry.path}: answered ${res?.status()}`);
      for (const problem of await layoutProblems(p)) problems.push(`${entry.path}: ${problem}`);
    }
    await phone.close();
    expect(problems).toEqual([]);
  });
});
