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
});
