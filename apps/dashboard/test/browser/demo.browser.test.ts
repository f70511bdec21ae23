import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { launchBrowser } from "@concierge/testing/browser";
import { layoutProblems } from "@concierge/testing/dashboard";
import { aiRequests } from "@concierge/testing/sandbox-client";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "../../../../scripts/stack.ts";

// The live demo in Chromium against the whole local stack, with the pipeline's AI provider aimed
// at the sandbox's fake OpenAI-compatible server: a visitor on the welcome page picks a persona,
// sends a message that goes to the AI, gets the reply without a reload, opens "View prompt", and
// what it shows is exactly what the fake model server received for that call. At a desktop's
// width and a phone's.
let stack: Stack;
let browser: Browser;
let persistDir: string;

beforeAll(async () => {
  persistDir = mkdtempSync(path.join(os.tmpdir(), "concierge-demo-browser-"));
  [stack, browser] = await Promise.all([
    startStack({ persistDir, demoWaitSeconds: 0, quiet: true, ai: "sandbox" }),
    launchBrowser(),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await stack?.dispose();
  if (persistDir) rmSync(persistDir, { recursive: true, force: true });
});

const VIEWPORTS = [
  { name: "desktop", width: 1280, height: 800 },
  { name: "phone", width: 375, height: 812 },
] as const;

describe("the live demo in a browser", () => {
  it.each(VIEWPORTS)(
    "at $width×$height: picks a persona, gets an AI reply in place, and View prompt shows the exact request",
    async ({ width, height }) => {
      const context = await browser.newContext({ viewport: { width, height }, locale: "en-US" });
      const page = await context.newPage();
      try {
        await page.goto(`${stack.urls.dashboard}/`);
        const chat = page.locator("section#demo");
        await expect.poll(() => chat.count()).toBe(1);
        expect(await layoutProblems(page)).toEqual([]);

        // Pick a persona other than the preselected one, by its label.
        const personas = chat.locator("input[name=archetype]");
        expect(await personas.count()).toBeGreaterThan(1);
        const chosen = personas.nth(1);
        const chosenId = await chosen.getAttribute("id");
        await chat.locator(`label[for="${chosenId}"]`).click();
        expect(await chosen.isChecked()).toBe(true);

        // A message the sample café answers with its AI (its menu rule), with a marker of our own.
        const marker = `browser-${width}-${crypto.randomUUID().slice(0, 8)}`;
        const text = `Do you have oat milk for the coffee? (${marker})`;
        await chat.locator("#demo-text").fill(text);
        // A reload would lose this: the reply must arrive in place.
        await page.evaluate(() => {
          (window as unknown as { demoNoReload: boolean }).demoNoReload = true;
        });
        await chat.locator("#demo-send").click();

        const reply = chat.locator("#demo-log li.demo-msg-business");
        await expect.poll(() => reply.count(), { timeout: 20_000 }).toBe(1);
        expect(await reply.locator(".demo-text").textContent()).toMatch(/^\[sandbox AI\]/);
        expect(await chat.locator("#demo-log li.demo-msg-you .demo-text").textContent()).toBe(text);
        expect(
          await page.evaluate(() => (window as unknown as { demoNoReload?: boolean }).demoNoReload),
        ).toBe(true);
        // Focus is back in the message box, emptied for the next message; the persona stays.
        expect(await page.evaluate(() => document.activeElement?.id)).toBe("demo-text");
        expect(await chat.locator("#demo-text").inputValue()).toBe("");
        expect(await chat.locator(`#${chosenId}`).isChecked()).toBe(true);

        // View prompt.
        await chat.locator("#demo-prompt summary").click();
        const system = chat.locator("#demo-prompt pre[data-role=system]").first();
        await expect.poll(() => system.isVisible()).toBe(true);
        const shownSystem = (await system.textContent()) ?? "";
        const shownMessages = await chat
          .locator("#demo-prompt .demo-messages pre")
          .evaluateAll((pres) =>
            pres.map((p) => ({ role: p.getAttribute("data-role"), content: p.textContent })),
          );
        const middle = (await chat.locator("#demo-prompt mark.demo-middle").textContent()) ?? "";
        expect(middle.length).toBeGreaterThan(0);
        expect(shownSystem).toContain(middle);

        // What the fake model server received for this reply.
        const requests = await aiRequests(stack.urls.sandbox, { contains: marker, kind: "generate" });
        expect(requests).toHaveLength(1);
        const [request] = requests;
        expect(shownSystem).toBe(request!.system);
        expect(shownMessages).toEqual(request!.messages);
        // Byte for byte: the panel's messages, serialized as the provider sends them, are the body's.
        const sent = [{ role: "system", content: shownSystem }, ...shownMessages];
        expect(request!.body).toContain(`"messages":${JSON.stringify(sent)}`);
        expect(shownMessages.at(-1)).toEqual({ role: "user", content: text });

        // The open panel and the conversation still fit the screen.
        expect(await layoutProblems(page)).toEqual([]);

        // Another persona mid-chat: the pipeline starts the chat over, and the log shows the new
        // chat alone (its message and its reply), not the old one with nothing added.
        const other = personas.nth(0);
        await chat.locator(`label[for="${await other.getAttribute("id")}"]`).click();
        const second = `Do you have oat milk? (${marker}-again)`;
        await chat.locator("#demo-text").fill(second);
        await chat.locator("#demo-send").click();
        await expect
          .poll(() => chat.locator("#demo-log li.demo-msg-you .demo-text").first().textContent(), {
            timeout: 20_000,
          })
          .toBe(second);
        expect(await chat.locator("#demo-log ol > li").count()).toBe(2);
        expect(
          await page.evaluate(() => (window as unknown as { demoNoReload?: boolean }).demoNoReload),
        ).toBe(true);
      } finally {
        await context.close();
      }
    },
  );
});
