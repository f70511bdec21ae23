import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { DEMO } from "@concierge/testing/seed";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "../scripts/stack.ts";
import { launchBrowser } from "./browser.ts";

// A person at the sandbox page: types as a WhatsApp customer, clicks Send, sees the auto-reply.
let stack: Stack;
let browser: Browser;
let persistDir: string;

beforeAll(async () => {
  persistDir = mkdtempSync(path.join(os.tmpdir(), "concierge-e2e-"));
  [stack, browser] = await Promise.all([startStack({ persistDir, demoWaitSeconds: 0 }), launchBrowser()]);
});

afterAll(async () => {
  await browser?.close();
  await stack?.dispose();
  rmSync(persistDir, { recursive: true, force: true });
});

describe("the sandbox's customer page", () => {
  for (const viewport of [
    { width: 1280, height: 800 },
    { width: 375, height: 812 },
  ]) {
    it(`shows the canned reply after a customer sends a message (${viewport.width}px)`, async () => {
      const page = await browser.newPage({ viewport });
      try {
        await page.goto(stack.urls.sandbox);
        await page.fill("#from", `91777${viewport.width}${Date.now() % 100000}`);
        await page.fill("#text", "Hi, what are your opening hours?");
        await page.click("button:has-text('Send')");
        await page.locator(".b.me", { hasText: "opening hours" }).waitFor();
        const reply = page.locator(".b.them");
        await reply.waitFor({ timeout: 10_000 });
        expect(await reply.textContent()).toBe(DEMO.replyConfig.rules[0].response.text);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
        expect(overflow).toBe(false);
        await page.screenshot({ path: path.join(os.tmpdir(), `sandbox-page-${viewport.width}.png`) });
      } finally {
        await page.close();
      }
    });
  }

  it("sends a photo whose caption matches a rule, then plays Meta marking the reply read (375px)", async () => {
    const page = await browser.newPage({ viewport: { width: 375, height: 812 } });
    const customer = `91766${Date.now() % 10_000_000}`;
    try {
      await page.goto(stack.urls.sandbox);
      await page.fill("#from", customer);
      await page.click("#wa-more summary");
      await page.selectOption("#kind", "image");
      await page.fill("#caption", "What are your hours today?");
      await page.click("#share");
      await page.locator(".b.me", { hasText: "Photo What are your hours today?" }).waitFor();
      const reply = page.locator(".b.them");
      await reply.waitFor({ timeout: 10_000 });
      expect(await reply.textContent()).toBe(DEMO.replyConfig.rules[0].response.text);
      await expect.poll(() => page.locator(".st .state").textContent()).toBe("✓ sent");

      await page.click("button[aria-label='Mark this reply read']");
      await expect.poll(() => page.locator(".st .state").textContent()).toBe("✓✓ read");
      const row = await stack.db
        .prepare("SELECT status FROM messages WHERE recipient_id = ? AND direction = 'outbound'")
        .bind(customer)
        .first<{ status: string }>();
      expect(row?.status).toBe("read");

      // Everything open at once still fits a phone's width.
      await page.click("#wa-meta summary");
      for (const kind of ["location", "contacts", "list_reply", "reaction"]) {
        await page.selectOption("#kind", kind);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
        expect(overflow, kind).toBe(false);
      }
      await page.screenshot({ path: path.join(os.tmpdir(), "sandbox-page-types-375.png"), fullPage: true });
    } finally {
      await page.close();
    }
  });

  it("makes the next reply fail with a 429 that the pipeline retries after Retry-After", async () => {
    const page = await browser.newPage();
    const customer = `91755${Date.now() % 10_000_000}`;
    try {
      await page.goto(stack.urls.sandbox);
      await page.fill("#from", customer);
      await page.click("#wa-meta summary");
      await page.click("button:has-text('Next reply: 429')");
      await page.locator(".b.sys", { hasText: "next reply will fail" }).waitFor();
      await page.fill("#text", "Are you open today?");
      await page.click("button:has-text('Send')");
      await page.locator(".b.them").waitFor({ timeout: 15_000 });
      const sent = await (await fetch(`${stack.urls.sandbox}/__sandbox/sent?to=${customer}`)).json();
      expect(sent).toMatchObject({ attempts: 2, sent: [{ to: customer }] });
    } finally {
      await page.close();
    }
  });
});
