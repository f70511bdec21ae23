// The email-subdomain plan on /admin/email: the price per extra subdomain in the tenant's locale,
// Subscribe → Checkout for the subscription → Razorpay's callback, the banner while it is not
// paid (halted, cancelled), paying again, and cancelling.
import { env } from "cloudflare:workers";
import { getCurrentSubscription } from "@concierge/storage";
import { describe, expect, it } from "vitest";
import { deliver, eventsAbout, moveSubscription, pay } from "./billing-helpers.ts";
import { get, post, signIn, type TestSession } from "./helpers.ts";

const uniqueName = () => `sub${crypto.randomUUID().replaceAll("-", "").slice(0, 10)}`;

/** Subscribe → the subscription the checkout page opens. */
async function subscribe(s: TestSession, quantity: number, extra: Record<string, string> = {}) {
  const res = await post(s, "/admin/email/subscription", { quantity, ...extra });
  expect(res.status).toBe(303);
  const location = res.headers.get("location")!;
  const id = /^\/admin\/email\/subscription\/checkout\/(sub_[A-Za-z0-9]+)$/.exec(location)?.[1];
  expect(id).toBeTruthy();
  return { id: id!, page: await (await get(s, location)).text() };
}

/** Razorpay's callback after the subscription's Checkout: cross-site, no session or CSRF token. */
const complete = (id: string, fields: Record<string, string>, session: TestSession | null = null) =>
  post(session, `/admin/email/subscription/complete?subscription=${id}`, fields, { csrf: false });

/** Subscribes and pays through Checkout's callback, as a person would. */
async function subscribed(s: TestSession, quantity: number): Promise<string> {
  const { id } = await subscribe(s, quantity);
  const { response } = await pay(id);
  const res = await complete(id, response!);
  expect(res.status).toBe(303);
  expect(res.headers.get("location")).toBe("/admin/email?subscription=active#subscription");
  return id;
}

describe("the extra-subdomain subscription", () => {
  it("shows the plan's price per extra subdomain in the tenant's locale", async () => {
    const s = await signIn();
    const page = await (await get(s, "/admin/email")).text();
    const section = /<section class="card" id="subscription"[\s\S]*?<\/section>/.exec(page)![0];
    expect(section).toContain("₹499 per extra subdomain per month. Your first 3 subdomains are included.");
    expect(section).toContain('action="/admin/email/subscription#subscription"');
    expect(section).toContain(">Subscribe</button>");
    const us = await signIn();
    await post(us, "/admin/settings/preferences", {
      locale: "en-US",
      currency: "USD",
      timeZone: "America/New_York",
    });
    const usPage = await (await get(us, "/admin/email")).text();
    expect(usPage).toContain("$9 per extra subdomain per month.");
  });

  it("refuses a quantity out of range with a field error", async () => {
    const s = await signIn();
    for (const quantity of ["0", "21", "1.5", ""]) {
      const res = await post(s, "/admin/email/subscription", { quantity });
      expect(res.status).toBe(422);
      expect(await res.text()).toMatch(/Enter a whole number from 1 to 20\.|Enter a (whole )?number\./);
    }
    expect(await getCurrentSubscription(env.DB, s.tenantId)).toBeNull();
  });

  it("opens the subscription in Checkout, with and without JavaScript", async () => {
    const s = await signIn();
    const { id, page } = await subscribe(s, 2);
    expect(page).toContain(`<input type="hidden" name="subscription_id" value="${id}">`);
    expect(page).not.toContain('name="order_id"');
    expect(page).not.toContain('name="amount"');
    expect(page).toContain(
      `<input type="hidden" name="callback_url" value="https://dash.test/admin/email/subscription/complete?subscription=${id}">`,
    );
    expect(page).toContain("2 extra email subdomains");
    expect(page).toContain("₹998 per month");
    expect(page).toContain('<script type="module" src="/assets/checkout.js');
    // Started, not paid: the email page offers to continue to the payment.
    const email = await (await get(s, "/admin/email")).text();
    expect(email).toContain(`href="/admin/email/subscription/checkout/${id}">Continue to payment</a>`);
  });
});

describe("the subscription's lifecycle on the email page", () => {
  it("pays, halts with a banner (mail still relayed), pays again, and cancels", async () => {
    const s = await signIn();
    const id = await subscribed(s, 1);
    let page = await (await get(s, "/admin/email?subscription=active")).text();
    expect(page).toContain("Payment received: your extra subdomains are paid for.");
    expect(page).toMatch(/Subscription for 1 extra subdomain:\s*<span class="badge ok">Active<\/span>/);
    expect(page).toContain("Cancel subscription");
    expect(page).not.toContain('id="subscription-banner"');
    // Three free subdomains and one paid for.
    for (let i = 0; i < 4; i++) {
      expect((await post(s, "/admin/email", { name: uniqueName() })).status).toBe(303);
    }

    expect(await (await get(s, "/admin/email")).text()).toContain("4 subdomains: 3 included, 1 extra.");

    // Razorpay gives up charging: the banner says what stopped and that mail is still relayed.
    await moveSubscription(id, "halted");
    const [halted] = await eventsAbout({ subscription: id, event: "subscription.halted" });
    expect((await deliver(halted!)).status).toBe(200);
    page = await (await get(s, "/admin/email")).text();
    const banner =
      /<div class="notice error banner" role="alert" id="subscription-banner">([\s\S]*?)<\/div>/.exec(
        page,
      )![1]!;
    expect(banner).toContain("Your subscription for extra subdomains: Halted");
    expect(banner).toContain("Automatic replies and forwards on your extra subdomain are stopped");
    expect(banner).toContain("still accepted and relayed to your inbox");
    expect(banner).toContain('href="#subscription"');
    expect(page).toContain(`<input type="hidden" name="replace" value="${id}">`);
    expect(page).toContain(">Pay again</button>");

    // Paying again replaces the halted subscription with a new one.
    const again = await subscribe(s, 1, { replace: id });
    expect(again.id).not.toBe(id);
    const { response } = await pay(again.id);
    expect((await complete(again.id, response!)).status).toBe(303);
    page = await (await get(s, "/admin/email")).text();
    expect(page).not.toContain('id="subscription-banner"');
    expect(page).toContain('<span class="badge ok">Active</span>');

    // Cancelling: at once, with the banner back since the extra subdomain is no longer paid for.
    const cancelled = await post(s, "/admin/email/subscription/cancel");
    expect(cancelled.status).toBe(303);
    expect(cancelled.headers.get("location")).toBe("/admin/email?subscription=cancelled#subscription");
    page = await (await get(s, cancelled.headers.get("location")!)).text();
    expect(page).toContain("Subscription cancelled. It will not be charged again.");
    expect(page).toContain("Your subscription for extra subdomains: Cancelled");
    expect(page).toContain(">Subscribe again</button>");
  });

  it("refuses a subscription callback that is not Razorpay's for that subscription", async () => {
    const owner = await signIn();
    const other = await signIn();
    const { id } = await subscribe(owner, 1);
    const { response } = await pay(id);
    const theirs = await subscribe(other, 1);
    expect((await complete(theirs.id, response!)).status).toBe(400);
    expect((await complete(id, { ...response!, razorpay_signature: "0".repeat(64) })).status).toBe(400);
    expect((await complete(id, { ...response!, quantity: "20" })).status).toBe(400);
    expect((await complete(id, response!, other)).status).toBe(404);
    expect((await getCurrentSubscription(env.DB, owner.tenantId))!.status).toBe("created");
    // A failure posted back: to the email page with a message.
    const failed = await complete(id, { "error[code]": "BAD_REQUEST_ERROR", "error[description]": "x" });
    expect(failed.headers.get("location")).toBe("/admin/email?subscription=failed#subscription");
  });
});
