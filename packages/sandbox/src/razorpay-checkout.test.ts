import { createHmac, randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { launchBrowser } from "@concierge/testing/browser";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "./server.ts";

// A person at a merchant's page in Chromium: the sandbox's checkout.js opens its modal over the
// page (a strict CSP like the dashboard's: nonce scripts, no inline styles, forms to itself and
// the payment side only), Pay / Fail / Dismiss do what Razorpay's Checkout does, and the hosted
// page works with JavaScript off. At 375 px, nothing overflows.
const KEY_ID = "rzp_test_BrowserTest0001";
const KEY_SECRET = "browser-test-key-secret";
const hmac = (message: string) => createHmac("sha256", KEY_SECRET).update(message).digest("hex");

let sb: Sandbox;
let browser: Browser;
let merchant: Server;
let shop = "";
/** What the merchant's callback_url received, in order. */
const posted: Record<string, string>[] = [];

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function merchantPage(body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Shop</title></head>
<body><main><h1>Shop</h1>${body}</main></body></html>`;
}

function csp(nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}' 'strict-dynamic' ${sb.url}`,
    `style-src 'self' 'nonce-${nonce}'`,
    "connect-src 'self'",
    `frame-src ${sb.url}`,
    `form-action 'self' ${sb.url}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join("; ");
}

beforeAll(async () => {
  sb = await startSandbox({ appSecret: "s", razorpayKeyId: KEY_ID, razorpayKeySecret: KEY_SECRET });
  merchant = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://merchant");
    const nonce = randomBytes(12).toString("base64");
    if (req.method === "POST" && url.pathname === "/callback") {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const fields = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString("utf8")));
        posted.push(fields);
        res.writeHead(200, {
          "content-type": "text/html; charset=utf-8",
          "content-security-policy": csp(nonce),
        });
        res.end(merchantPage(`<p id="posted">${esc(JSON.stringify(fields))}</p>`));
      });
      return;
    }
    const order = url.searchParams.get("order") ?? "";
    if (url.pathname === "/nojs") {
      res.writeHead(200, {
        "content-type": "text/html; charset=utf-8",
        "content-security-policy": csp(nonce),
      });
      res.end(
        merchantPage(
          `<form method="post" action="${sb.razorpayHostedCheckoutUrl}">
<input type="hidden" name="key_id" value="${KEY_ID}"><input type="hidden" name="order_id" value="${esc(order)}">
<input type="hidden" name="name" value="Shop"><input type="hidden" name="description" value="100 credits">
<input type="hidden" name="prefill[email]" value="owner@example.com">
<input type="hidden" name="callback_url" value="${shop}/callback"><input type="hidden" name="cancel_url" value="${shop}/nojs">
<button type="submit">Pay with Razorpay</button></form>`,
        ),
      );
      return;
    }
    // /shop?order=…&flow=handler|redirect: a Buy button opening Checkout; results in #out.
    const options = {
      key: KEY_ID,
      order_id: order,
      name: "Shop",
      description: "100 credits",
      prefill: { email: "owner@example.com", contact: "+919000090000" },
      theme: { color: "#0f766e" },
      ...(url.searchParams.get("flow") === "redirect"
        ? { callback_url: `${shop}/callback`, redirect: true }
        : {}),
    };
    res.writeHead(200, { "content-type": "text/html; charset=utf-8", "content-security-policy": csp(nonce) });
    res.end(
      merchantPage(
        `<button type="button" id="buy">Buy</button><p id="out" role="status"></p>
<script nonce="${nonce}" src="${sb.razorpayCheckoutUrl}"></script>
<script nonce="${nonce}">
const options = ${JSON.stringify(options)};
const out = document.getElementById("out");
const log = (s) => { out.textContent += (out.textContent ? " | " : "") + s; };
document.getElementById("buy").addEventListener("click", () => {
  const rzp = new Razorpay({ ...options,
    handler: (r) => log("paid " + JSON.stringify(r)),
    modal: { ondismiss: () => log("dismissed") } });
  rzp.on("payment.failed", (r) => log("failed " + r.error.description + " " + r.error.metadata.payment_id));
  rzp.open();
});
</script>`,
      ),
    );
  });
  await new Promise<void>((resolve) => merchant.listen(0, "127.0.0.1", resolve));
  // localhost, not 127.0.0.1: the merchant is another site than the payment side, as in real life.
  shop = `http://localhost:${(merchant.address() as AddressInfo).port}`;
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  merchant?.closeAllConnections();
  merchant?.close();
  await sb?.close();
});

async function newOrder(): Promise<string> {
  const r = await fetch(`${sb.razorpayApiBaseUrl}/orders`, {
    method: "POST",
    headers: {
      authorization: `Basic ${Buffer.from(`${KEY_ID}:${KEY_SECRET}`).toString("base64")}`,
      "content-type": "application/json",
    },
    body: JSON.stringify({ amount: 49900, currency: "INR" }),
  });
  return ((await r.json()) as { id: string }).id;
}

const noOverflow = (p: Page | import("playwright-core").Frame) =>
  p.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);

async function withPage<T>(
  width: number,
  fn: (page: Page) => Promise<T>,
  javaScriptEnabled = true,
): Promise<T> {
  const context = await browser.newContext({ viewport: { width, height: 800 }, javaScriptEnabled });
  const page = await context.newPage();
  page.setDefaultTimeout(8000);
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("response", (r) => {
    if (r.status() >= 400) errors.push(`${r.status()} ${r.url()}`);
  });
  try {
    const out = await fn(page);
    // Nothing the CSP refused, no script error.
    expect(errors).toEqual([]);
    return out;
  } finally {
    await context.close();
  }
}

describe("the sandbox's Checkout in Chromium", { timeout: 30_000 }, () => {
  for (const width of [1280, 375]) {
    it(`Pay calls the handler with the signed fields (${width} px)`, async () => {
      const order = await newOrder();
      await withPage(width, async (page) => {
        await page.goto(`${shop}/shop?order=${order}`);
        await page.click("#buy");
        const frame = page.frameLocator('iframe[title="Razorpay Checkout"]');
        const dialog = frame.getByRole("dialog", { name: "Shop" });
        await dialog.waitFor();
        expect(await dialog.textContent()).toContain("₹499.00");
        // Focus starts on Pay, inside the dialog.
        await frame.locator("button.pay:focus").waitFor();
        // The page behind is out of reach while Checkout is open.
        expect(await page.locator("main").evaluate((m) => (m as HTMLElement).inert)).toBe(true);
        const inner = page.frames().find((f) => f.url().includes("/razorpay/checkout/modal"))!;
        expect(await noOverflow(inner)).toBe(true);
        expect(await noOverflow(page)).toBe(true);
        await frame.getByRole("button", { name: "Pay", exact: true }).click();
        await page.locator("#out", { hasText: "paid" }).waitFor();
        const r = JSON.parse((await page.textContent("#out"))!.replace(/^paid /, "")) as Record<
          string,
          string
        >;
        expect(r.razorpay_order_id).toBe(order);
        expect(r.razorpay_signature).toBe(hmac(`${order}|${r.razorpay_payment_id}`));
        expect(await page.locator("iframe").count()).toBe(0);
        expect(await page.locator("main").evaluate((m) => (m as HTMLElement).inert)).toBe(false);
      });
      expect(sb.razorpay.orders.get(order)?.status).toBe("paid");
    });
  }

  it("Fail fires payment.failed and keeps the modal for a retry; Dismiss and Escape call ondismiss (375 px)", async () => {
    const order = await newOrder();
    await withPage(375, async (page) => {
      await page.goto(`${shop}/shop?order=${order}`);
      await page.click("#buy");
      const frame = page.frameLocator('iframe[title="Razorpay Checkout"]');
      await frame.getByRole("button", { name: "Fail", exact: true }).click();
      await page.locator("#out", { hasText: "failed Payment failed pay_" }).waitFor();
      await frame.getByText("Payment failed. You can try again").waitFor();
      await frame.getByRole("button", { name: "Dismiss", exact: true }).click();
      await page.locator("#out", { hasText: "dismissed" }).waitFor();
      expect(await page.locator("iframe").count()).toBe(0);
      // Again, closed with the keyboard.
      await page.click("#buy");
      // Focused once the modal's script runs.
      await frame.locator("button.pay:enabled:focus").waitFor();
      await page.keyboard.press("Escape");
      await page.waitForFunction(() => document.querySelectorAll("iframe").length === 0);
      expect(await page.textContent("#out")).toMatch(/dismissed \| dismissed$/);
    });
    expect(sb.razorpay.orders.get(order)).toMatchObject({ status: "attempted", attempts: 1 });
  });

  it("redirect: true posts the result to callback_url, success and failure (375 px)", async () => {
    const order = await newOrder();
    await withPage(375, async (page) => {
      await page.goto(`${shop}/shop?order=${order}&flow=redirect`);
      await page.click("#buy");
      const frame = page.frameLocator('iframe[title="Razorpay Checkout"]');
      await frame.getByRole("button", { name: "Fail", exact: true }).click();
      await page.waitForURL(`${shop}/callback`);
      expect(posted.at(-1)).toMatchObject({
        "error[code]": "BAD_REQUEST_ERROR",
        "error[reason]": "payment_failed",
      });
      await page.goto(`${shop}/shop?order=${order}&flow=redirect`);
      await page.click("#buy");
      await frame.getByRole("button", { name: "Pay", exact: true }).click();
      await page.waitForURL(`${shop}/callback`);
      await page.locator("#posted").waitFor();
    });
    const fields = posted.at(-1)!;
    expect(Object.keys(fields).sort()).toEqual([
      "razorpay_order_id",
      "razorpay_payment_id",
      "razorpay_signature",
    ]);
    expect(fields.razorpay_signature).toBe(hmac(`${order}|${fields.razorpay_payment_id}`));
  });

  it("the hosted page works without JavaScript: Pay, then Continue to callback_url (375 px)", async () => {
    const order = await newOrder();
    await withPage(
      375,
      async (page) => {
        await page.goto(`${shop}/nojs?order=${order}`);
        await page.getByRole("button", { name: "Pay with Razorpay" }).click();
        await page.getByRole("button", { name: "Pay", exact: true }).waitFor();
        expect(await noOverflow(page)).toBe(true);
        await page.getByRole("button", { name: "Pay", exact: true }).click();
        await page.getByRole("button", { name: "Continue" }).click();
        await page.waitForURL(`${shop}/callback`);
      },
      false,
    );
    const fields = posted.at(-1)!;
    expect(fields.razorpay_order_id).toBe(order);
    expect(fields.razorpay_signature).toBe(hmac(`${order}|${fields.razorpay_payment_id}`));
  });

  it("the /razorpay page lists what happened and opens Checkout (375 px)", async () => {
    await withPage(375, async (page) => {
      await page.goto(`${sb.url}/razorpay`);
      await page.getByRole("button", { name: "Create an order and open Checkout" }).click();
      const frame = page.frameLocator('iframe[title="Razorpay Checkout"]');
      await frame.getByRole("button", { name: "Pay", exact: true }).click();
      await page.locator("#try-status", { hasText: "Paid: pay_" }).waitFor();
      await page.locator("#payments .badge.captured").first().waitFor();
      expect(await noOverflow(page)).toBe(true);
      await page.getByRole("button", { name: "Refund" }).first().click();
      await page.locator("#hooks-status", { hasText: "Refunded" }).waitFor();
    });
  });
});
