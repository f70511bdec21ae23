import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createChannelAccount, saveReplyConfig } from "@concierge/storage";
import { launchBrowser } from "@concierge/testing/browser";
import { devSignIn, layoutProblems } from "@concierge/testing/dashboard";
import { sentTo } from "@concierge/testing/sandbox-client";
import type { Browser, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "../../../../scripts/stack.ts";

// The live inbox (issue 19 items 1 and 2) as a person uses it in Chromium against the whole local
// stack: a customer writes through the sandbox, the conversation appears without a reload, the
// person takes over and replies, the bot stays silent, then answers again once handed back.
let stack: Stack;
let browser: Browser;
let page: Page;
let persistDir: string;
const email = `inbox-${Date.now()}@browser.example`;
const phoneNumberId = "100200300400888";
const customer = "919811155577";
const CANNED = "Thanks! Someone will be with you shortly.";

beforeAll(async () => {
  persistDir = mkdtempSync(path.join(os.tmpdir(), "concierge-inbox-"));
  [stack, browser] = await Promise.all([
    startStack({ persistDir, demoWaitSeconds: 0, quiet: true }),
    launchBrowser(),
  ]);
  const context = await browser.newContext({ viewport: { width: 375, height: 812 }, locale: "en-US" });
  page = await context.newPage();
});

afterAll(async () => {
  await browser?.close();
  await stack?.dispose();
  if (persistDir) rmSync(persistDir, { recursive: true, force: true });
});

const url = (p: string) => `${stack.urls.dashboard}${p}`;

async function seeText(locator: Locator, expected: string, timeout = 15_000) {
  await expect
    .poll(async () => (await locator.count()) > 0 && ((await locator.first().textContent()) ?? ""), {
      timeout,
    })
    .toContain(expected);
}

/** The customer writes on WhatsApp (the sandbox signs the webhook as Meta would). */
async function customerWrites(text: string) {
  const res = await fetch(`${stack.urls.sandbox}/api/whatsapp/send`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ phoneNumberId, from: customer, name: "Asha", text }),
  });
  expect(res.ok).toBe(true);
}

const received = async () => (await sentTo(stack.urls.sandbox, customer)).map((r) => r.text);

describe("the live inbox in a browser", () => {
  it("shows a new message without a reload; a person takes over, replies, and hands back", async () => {
    await devSignIn(page, stack.urls.dashboard, { email, business: "new", businessName: "Inbox Café" });
    const user = await stack.db
      .prepare("SELECT tenant_id AS tenantId FROM users WHERE subject = ?")
      .bind(email)
      .first<{ tenantId: string }>();
    const tenantId = user!.tenantId;
    const account = await createChannelAccount(stack.db, {
      tenantId,
      channel: "whatsapp",
      externalId: phoneNumberId,
    });
    await saveReplyConfig(stack.db, tenantId, account.id, {
      wait_seconds: 0,
      rules: [],
      default_rule: {
        label: "Everything else",
        response: { kind: "canned", text: CANNED },
        approval: "auto",
      },
    });

    await page.goto(url("/admin/inbox"));
    await seeText(page.locator("#inbox-list"), "No customer has written");
    await customerWrites("Hello, is the café open today?");
    // The list refreshes itself: the row appears while the page stays where it is.
    const row = page.locator(`#inbox-list a:has-text("…${customer.slice(-4)}")`);
    await expect.poll(() => row.count(), { timeout: 20_000, interval: 250 }).toBe(1);
    await expect.poll(received, { timeout: 15_000 }).toEqual([CANNED]);

    await row.click();
    await seeText(page.locator("#inbox-messages"), "Hello, is the café open today?");
    expect(await layoutProblems(page)).toEqual([]);
    await page.click("#inbox-controls button:has-text('Take over')");
    await page.waitForURL("**?done=take_over");
    await page.fill("#inbox-reply-text", "Yes! Open until 9 tonight. — Priya");
    await page.click("#inbox-reply button[type=submit]");
    await page.waitForURL("**?done=sent");
    await expect.poll(received, { timeout: 15_000 }).toEqual([CANNED, "Yes! Open until 9 tonight. — Priya"]);

    // The bot stays silent on the next message, which shows up in the open conversation by itself.
    await customerWrites("Great, can I book a table?");
    await seeText(page.locator("#inbox-messages"), "Great, can I book a table?");
    await seeText(page.locator("#inbox-messages"), "A person");
    expect(await received()).toHaveLength(2);

    await page.click("#inbox-controls button:has-text('Hand back')");
    await page.waitForURL("**?done=hand_back");
    await customerWrites("And do you have oat milk?");
    await expect
      .poll(received, { timeout: 15_000 })
      .toEqual([CANNED, "Yes! Open until 9 tonight. — Priya", CANNED]);
  });
});
