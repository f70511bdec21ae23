// The payments page (newest first, paged by cursor), each payment's printable receipt (billing
// details, amounts in the tenant's locale, refunds), and the billing details form in settings.
import { env } from "cloudflare:workers";
import { getBillingDetails, insertOrder, recordCapturedPayment } from "@concierge/storage";
import { razorpayRefund } from "@concierge/testing/sandbox-client";
import { describe, expect, it } from "vitest";
import { buy, callback, deliver, eventsAbout, pay } from "./billing-helpers.ts";
import { get, post, signIn, type TestSession } from "./helpers.ts";

const DETAILS = {
  legalName: "Chai & Co. Private Limited",
  address: "12 MG Road\nBengaluru 560001\nKarnataka",
  gstin: "29ABCDE1234F1Z5",
};

async function bought(s: TestSession, packId: string): Promise<string> {
  const { orderId, razorpayOrderId } = await buy(s, packId);
  const { paymentId, response } = await pay(razorpayOrderId);
  expect((await callback(orderId, response!)).status).toBe(303);
  return paymentId;
}

/** The billing-details form's own version (the settings page's other forms carry the settings version). */
const billingVersion = (page: string) =>
  /action="\/admin\/settings\/billing-details[^"]*"[\s\S]*?name="version" value="(\d+)"/.exec(page)![1]!;

async function saveDetails(s: TestSession, fields: Record<string, string> = DETAILS) {
  const page = await (await get(s, "/admin/settings")).text();
  const version = billingVersion(page);
  return post(s, "/admin/settings/billing-details", { ...fields, version });
}

describe("payments and receipts", () => {
  it("lists payments newest first with amounts in the tenant's locale (en-IN)", async () => {
    const s = await signIn();
    const first = await bought(s, "inr-100");
    const second = await bought(s, "inr-2000");
    const res = await get(s, "/admin/billing/payments");
    expect(res.status).toBe(200);
    const page = await res.text();
    const rows = [...page.matchAll(/<tr data-payment="(pay_[A-Za-z0-9]+)">/g)].map((m) => m[1]);
    expect(rows).toEqual([second, first]);
    const table = /<table id="payments">([\s\S]*?)<\/table>/.exec(page)![1]!;
    expect(table).toContain("2,000 AI reply credits");
    expect(table).toContain("₹6,999");
    expect(table).toContain("₹499");
    expect(table).toContain('<span class="badge ok">Paid</span>');
    expect(table).toContain(`href="/admin/billing/payments/${second}"`);
    expect(page).not.toContain("Older payments");
  });

  it("pages the payments 25 at a time with a cursor, and shows no other tenant's", async () => {
    const s = await signIn();
    const other = await signIn();
    for (let i = 0; i < 27; i++) {
      const orderId = `ord_page${i}${Date.now()}`;
      await insertOrder(env.DB, {
        id: orderId,
        tenantId: s.tenantId,
        packId: "inr-100",
        credits: 100,
        amount: 49900,
        currency: "INR",
        razorpayOrderId: `order_Page${String(i).padStart(4, "0")}${Date.now()}`,
      });
      await recordCapturedPayment(env.DB, {
        tenantId: s.tenantId,
        orderId,
        paymentId: `pay_Page${String(i).padStart(4, "0")}${Date.now()}`,
        amount: 49900,
        currency: "INR",
        method: "card",
        credits: 100,
      });
    }
    const otherPayment = await bought(other, "inr-100");
    const first = await (await get(s, "/admin/billing/payments")).text();
    const rows = (p: string) => [...p.matchAll(/<tr data-payment="(pay_[A-Za-z0-9]+)">/g)].map((m) => m[1]!);
    expect(rows(first)).toHaveLength(25);
    const older = /href="\/admin\/billing\/payments\?before=([^"]+)">Older payments<\/a>/.exec(first);
    expect(older).not.toBeNull();
    const second = await (await get(s, `/admin/billing/payments?before=${older![1]}`)).text();
    expect(rows(second)).toHaveLength(2);
    expect(second).toContain("Newest payments");
    expect(new Set([...rows(first), ...rows(second)]).size).toBe(27);
    expect([...rows(first), ...rows(second)]).not.toContain(otherPayment);
    // A cursor that is not one is the first page.
    expect(rows(await (await get(s, "/admin/billing/payments?before=junk")).text())).toHaveLength(25);
  });

  it("prints a receipt with the billing details, in en-IN", async () => {
    const s = await signIn();
    expect((await saveDetails(s)).status).toBe(303);
    const paymentId = await bought(s, "inr-500");
    const res = await get(s, `/admin/billing/payments/${paymentId}`);
    expect(res.status).toBe(200);
    const page = await res.text();
    const receipt = /<article class="card receipt"[\s\S]*?<\/article>/.exec(page)![0];
    expect(receipt).toContain('<p class="receipt-platform">Concierge</p>');
    expect(receipt).toContain("<strong>Chai &amp; Co. Private Limited</strong>");
    expect(receipt).toContain("12 MG Road\nBengaluru 560001\nKarnataka");
    expect(receipt).toContain("GSTIN: 29ABCDE1234F1Z5");
    expect(receipt).toContain("500 AI reply credits");
    expect(receipt).toContain("₹1,999");
    expect(receipt).toContain(`<code>${paymentId}</code>`);
    expect(receipt).toMatch(/<dt>Date<\/dt><dd>\d{1,2} [A-Z][a-z]{2} \d{4}/);
    expect(receipt).toContain('<span class="badge ok">Paid</span>');
    expect(receipt).toContain("Total paid");
    expect(page).toContain('<button type="button" class="secondary" data-print hidden>Print</button>');
    expect(page).toContain('<p class="no-print row">');
  });

  it("prints a receipt in en-US, without billing details until they are entered, and with a refund", async () => {
    const s = await signIn();
    expect(
      (
        await post(s, "/admin/settings/preferences", {
          locale: "en-US",
          currency: "USD",
          timeZone: "America/New_York",
        })
      ).status,
    ).toBe(303);
    const paymentId = await bought(s, "usd-500");
    let page = await (await get(s, `/admin/billing/payments/${paymentId}`)).text();
    expect(page).toContain("$29");
    expect(page).toMatch(/<dt>Date<\/dt><dd>[A-Z][a-z]{2} \d{1,2}, \d{4}/);
    expect(page).toContain("Test business");
    expect(page).toContain("Your legal name and address are not on this receipt yet.");
    expect(page).not.toContain("GSTIN");
    // Razorpay refunds $14.50 of it: the receipt shows the refund and what it took back.
    await razorpayRefund(env.SANDBOX_URL, paymentId, 1450);
    const [processed] = await eventsAbout({ payment: paymentId, event: "refund.processed" });
    expect((await deliver(processed!)).status).toBe(200);
    page = await (await get(s, `/admin/billing/payments/${paymentId}`)).text();
    expect(page).toContain('<span class="badge warn">Partly refunded</span>');
    expect(page).toContain("−$14.50");
    expect(page).toContain("250 unspent credits taken back");
    expect(page).toContain("Total after refunds");
    expect(page).toContain("$14.50");
    const list = await (await get(s, "/admin/billing/payments")).text();
    expect(list).toContain("Partly refunded");
  });

  it("answers 404 for another tenant's payment and for ids that are not payments", async () => {
    const owner = await signIn();
    const other = await signIn();
    const paymentId = await bought(owner, "inr-100");
    expect((await get(other, `/admin/billing/payments/${paymentId}`)).status).toBe(404);
    expect((await get(owner, "/admin/billing/payments/pay_Missing0000001")).status).toBe(404);
    expect((await get(owner, "/admin/billing/payments/not-a-payment")).status).toBe(404);
  });
});

describe("billing details in settings", () => {
  it("saves legal name, address and GSTIN (upper-cased), and shows them again", async () => {
    const s = await signIn();
    const res = await saveDetails(s, { ...DETAILS, gstin: " 29abcde1234f1z5 " });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/admin/settings?saved=1#billing-details");
    expect(await getBillingDetails(env.DB, s.tenantId)).toMatchObject({ ...DETAILS });
    const page = await (await get(s, "/admin/settings?saved=1")).text();
    expect(page).toContain('value="Chai &amp; Co. Private Limited"');
    expect(page).toContain(">12 MG Road\nBengaluru 560001\nKarnataka</textarea>");
    expect(page).toContain('value="29ABCDE1234F1Z5"');
    // GSTIN is optional: cleared, it is saved as none.
    expect((await saveDetails(s, { ...DETAILS, gstin: "" })).status).toBe(303);
    expect(await getBillingDetails(env.DB, s.tenantId)).toMatchObject({ gstin: null });
  });

  it.each([
    ["en-IN", { legalName: "  " }, "legalName", "Enter your legal name, up to 200 characters."],
    ["en-US", { address: "" }, "address", "Enter your billing address, up to 500 characters."],
    ["en-US", { legalName: "x".repeat(201) }, "legalName", "Enter your legal name, up to 200 characters."],
    ["en-IN", { gstin: "29ABCDE1234F1X5" }, "gstin", "A GSTIN is 15 characters like 29ABCDE1234F1Z5"],
  ])(
    "refuses bad details (%s, %j) with a translated error next to the field, saving nothing",
    async (locale, bad, name, error) => {
      const s = await signIn();
      if (locale === "en-US")
        await post(s, "/admin/settings/preferences", {
          locale,
          currency: "USD",
          timeZone: "America/New_York",
        });
      const res = await saveDetails(s, { ...DETAILS, ...bad });
      expect(res.status).toBe(422);
      const page = await res.text();
      expect(page).toContain(`<html lang="${locale}">`);
      expect(page).toContain(error);
      expect(page).toMatch(
        new RegExp(`id="f-${name}"[^>]*aria-invalid="true"|name="${name}"[^>]*aria-invalid="true"`),
      );
      expect(await getBillingDetails(env.DB, s.tenantId)).toBeNull();
    },
  );

  it("refuses a stale save instead of overwriting newer details", async () => {
    const s = await signIn();
    const page = await (await get(s, "/admin/settings")).text();
    const version = billingVersion(page);
    expect((await post(s, "/admin/settings/billing-details", { ...DETAILS, version })).status).toBe(303);
    // A second tab, opened before that save, saves its own version.
    const stale = await post(s, "/admin/settings/billing-details", {
      ...DETAILS,
      legalName: "Old Name Ltd",
      version,
    });
    expect(stale.status).toBe(409);
    const body = await stale.text();
    expect(body).toContain("changed somewhere else");
    expect(body).toContain('value="Chai &amp; Co. Private Limited"');
    expect(await getBillingDetails(env.DB, s.tenantId)).toMatchObject({ legalName: DETAILS.legalName });
  });

  it("refuses a save without the session's CSRF token", async () => {
    const s = await signIn();
    const res = await post(s, "/admin/settings/billing-details", { ...DETAILS, version: 0 }, { csrf: false });
    expect(res.status).toBe(403);
    expect(await getBillingDetails(env.DB, s.tenantId)).toBeNull();
  });
});
