import { readFileSync } from "node:fs";

/**
 * The browser side of the sandbox's Razorpay: Checkout's script (razorpay-checkout.js, defining
 * `window.Razorpay`) and the modal it frames (razorpay-modal.js), the hosted no-JavaScript checkout
 * page, the auto-submitting form that carries a result to `callback_url`, and the /razorpay page
 * for a person at `npm start` (razorpay-console.js). Plain HTML, no external resources, simple
 * English (this is the outside world, not our product), fine at 375 px.
 */

const asset = (name: string) => readFileSync(new URL(name, import.meta.url), "utf8");
const ASSETS = {
  checkout: asset("./razorpay-checkout.js"),
  modal: asset("./razorpay-modal.js"),
  console: asset("./razorpay-console.js"),
};

/** checkout.js; it finds the sandbox's origin from its own src, `origin` being the fallback. */
export function checkoutScript(origin: string): string {
  return ASSETS.checkout.replace("__SANDBOX_ORIGIN__", origin.replace(/["\\]/g, ""));
}

export const modalScript = () => ASSETS.modal;
export const consoleScript = () => ASSETS.console;

export const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

/** "₹499.00", "$9.00": amounts are in minor units. */
export function money(amount: number, currency: string): string {
  const symbol = currency === "INR" ? "₹" : currency === "USD" ? "$" : `${currency} `;
  return `${symbol}${(amount / 100).toFixed(2)}`;
}

/** A theme colour Checkout accepts (#rgb or #rrggbb), and the text colour readable on it. */
function theme(color: unknown): { bg: string; fg: string } {
  const fallback = { bg: "#1d4ed8", fg: "#ffffff" };
  if (typeof color !== "string" || !/^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i.test(color)) return fallback;
  const hex = color.length === 4 ? color.replace(/[0-9a-f]/gi, (c) => c + c).slice(1) : color.slice(1);
  const [r, g, b] = [0, 2, 4].map((i) => Number.parseInt(hex.slice(i, i + 2), 16) / 255) as [
    number,
    number,
    number,
  ];
  const lin = (c: number) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
  const luminance = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  return { bg: color, fg: luminance > 0.4 ? "#111111" : "#ffffff" };
}

const BASE_CSS = `*{box-sizing:border-box} body{margin:0;font:16px/1.45 system-ui,sans-serif;color:#1a1a1a}
button{font:inherit;min-height:44px;padding:10px 18px;border-radius:8px;border:1px solid #8a8f98;background:#fff;color:#1a1a1a;cursor:pointer}
button:focus-visible,a:focus-visible{outline:3px solid #1d4ed8;outline-offset:2px}
button[disabled]{opacity:.6;cursor:progress}
.pay{background:#15803d;border-color:#15803d;color:#fff;font-weight:600}
.fail{border-color:#b91c1c;color:#b91c1c}
.choices{display:flex;flex-wrap:wrap;gap:8px} .choices button{flex:1 1 30%}
.note{font-size:13px;color:#4b5563;margin:12px 0 0} .err{color:#b91c1c;font-weight:600}
dl{display:grid;grid-template-columns:auto 1fr;gap:2px 12px;font-size:14px;margin:12px 0;overflow-wrap:anywhere} dt{color:#4b5563}`;

export type CheckoutView = {
  merchant: string;
  description: string | null;
  amount: { amount: number; currency: string } | null;
  /** The order or subscription id shown. */
  reference: string | null;
  payer: string | null;
  themeColor?: unknown;
  /** Why no payment can be made (unknown key or id, paid order…); null when it can. */
  problem: string | null;
};

function summary(v: CheckoutView, headingId: string): string {
  const t = theme(v.themeColor);
  return `<div class="band" style="background:${t.bg};color:${t.fg}">
  <p class="merchant" id="${headingId}">${esc(v.merchant)}</p>
  ${v.description ? `<p class="desc">${esc(v.description)}</p>` : ""}
  ${v.amount ? `<p class="amount">${esc(money(v.amount.amount, v.amount.currency))}</p>` : ""}
</div>
<dl class="refs">${v.reference ? `<dt>Reference</dt><dd>${esc(v.reference)}</dd>` : ""}${
    v.payer ? `<dt>Paying as</dt><dd>${esc(v.payer)}</dd>` : ""
  }</dl>`;
}

const SHEET_CSS = `.sheet{background:#fff;border-radius:12px;box-shadow:0 8px 30px #0005;width:min(420px,100% - 24px);overflow:hidden}
.band{padding:16px 20px} .band p{margin:0} .merchant{font-weight:700;font-size:18px} .desc{font-size:14px;opacity:.9}
.amount{font-size:26px;font-weight:700;margin-top:6px!important} .body{padding:4px 20px 20px}
.refs{margin:12px 20px 0}`;

/** The page inside Checkout's iframe: Pay, Fail and Dismiss. `config` goes to razorpay-modal.js. */
export function modalPage(v: CheckoutView, config: Record<string, unknown>): string {
  const json = JSON.stringify(config).replace(/</g, "\\u003c");
  const body = v.problem
    ? `<p class="err" role="alert">${esc(v.problem)}</p>
  <div class="choices"><button type="button" data-outcome="dismiss" disabled>Close</button></div>`
    : `<p class="note">Sandbox checkout: choose what the payment does. No real money moves.</p>
  <div class="choices" role="group" aria-label="Payment outcome">
    <button type="button" class="pay" data-outcome="pay" disabled>Pay</button>
    <button type="button" class="fail" data-outcome="fail" disabled>Fail</button>
    <button type="button" data-outcome="dismiss" disabled>Dismiss</button>
  </div>`;
  // The buttons are enabled by razorpay-modal.js once it listens (no click before it can act).
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<title>Razorpay Checkout (sandbox)</title>
<style>${BASE_CSS}
html,body{height:100%;background:transparent}
.backdrop{position:fixed;inset:0;background:#000a;display:flex;align-items:center;justify-content:center;padding:12px 0}
${SHEET_CSS}
.sheet{position:relative;max-height:100%;overflow:auto}
.close{position:absolute;top:8px;right:8px;min-height:36px;min-width:36px;padding:4px 10px;background:#fff;color:#1a1a1a;border-color:#fff}
#rzp-status{min-height:1.45em;margin:12px 0 0;font-weight:600}
</style></head>
<body>
<div class="backdrop" id="rzp-backdrop">
<div class="sheet" id="rzp-dialog" role="dialog" aria-modal="true" aria-labelledby="rzp-title" aria-describedby="rzp-status">
${summary(v, "rzp-title")}
<div class="body">
  ${body}
  <p id="rzp-status" role="status" aria-live="polite"></p>
</div>
<button type="button" class="close" data-outcome="dismiss" aria-label="Close checkout" disabled>✕</button>
</div></div>
<script type="application/json" id="rzp-config">${json}</script>
<script src="/razorpay/checkout/modal.js"></script>
</body></html>`;
}

function standalone(title: string, inner: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<title>${esc(title)}</title>
<style>${BASE_CSS}
body{background:#eef1f5;padding:24px 0}
${SHEET_CSS}
.sheet{margin:0 auto}
h1{font-size:20px;margin:0 0 8px}
</style></head>
<body><main class="sheet">
${inner}
</main></body></html>`;
}

/**
 * Razorpay's hosted checkout (POST /v1/checkout/embedded), without JavaScript: the three outcomes
 * are submit buttons of one form; `hidden` repeats what the merchant posted.
 */
export function hostedPage(v: CheckoutView, hidden: Record<string, string>): string {
  const inputs = Object.entries(hidden)
    .map(([k, value]) => `<input type="hidden" name="${esc(k)}" value="${esc(value)}">`)
    .join("\n  ");
  const body = v.problem
    ? `<h1>This payment cannot be made</h1><p class="err" role="alert">${esc(v.problem)}</p>`
    : `<h1>Pay ${v.amount ? esc(money(v.amount.amount, v.amount.currency)) : ""}</h1>
<p class="note">Sandbox checkout: choose what the payment does. No real money moves.</p>
<form method="post" action="/razorpay/checkout/hosted">
  ${inputs}
  <div class="choices" role="group" aria-label="Payment outcome" style="margin-top:16px">
    <button type="submit" class="pay" name="action" value="pay">Pay</button>
    <button type="submit" class="fail" name="action" value="fail">Fail</button>
    <button type="submit" name="action" value="dismiss">Dismiss</button>
  </div>
</form>`;
  return standalone(
    "Razorpay Checkout (sandbox)",
    `${summary(v, "rzp-title")}
<div class="body">
${body}
</div>`,
  );
}

/**
 * Carries a result to `callback_url` as a form POST, the way Razorpay's page does: submitted at
 * once by a script, or by the visible Continue button when scripts do not run.
 */
export function autoPostPage(action: string, fields: Record<string, string>, message: string): string {
  const inputs = Object.entries(fields)
    .map(([k, value]) => `<input type="hidden" name="${esc(k)}" value="${esc(value)}">`)
    .join("\n  ");
  let host = action;
  try {
    host = new URL(action).host;
  } catch {}
  return standalone(
    "Returning to the merchant",
    `<div class="body" style="padding-top:20px">
<h1>${esc(message)}</h1>
<p>Taking you back to ${esc(host)}…</p>
<form method="post" action="${esc(action)}" id="rzp-return">
  ${inputs}
  <button type="submit" class="pay">Continue</button>
</form>
<script>document.getElementById("rzp-return").submit();</script>
</div>`,
  );
}

/** A plain message (a result without callback_url, an error). */
export function messagePage(title: string, text: string, details: Record<string, string> = {}): string {
  const dl = Object.entries(details)
    .map(([k, value]) => `<dt>${esc(k)}</dt><dd>${esc(value)}</dd>`)
    .join("");
  return standalone(
    title,
    `<div class="body" style="padding-top:20px">
<h1>${esc(title)}</h1>
<p>${esc(text)}</p>${dl ? `<dl>${dl}</dl>` : ""}
</div>`,
  );
}

/** GET /razorpay: what the sandbox's Razorpay holds and sent, with its controls. */
export function consolePage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<title>Sandbox · Razorpay</title>
<style>${BASE_CSS}
body{background:#f4f6f8;margin:0}
header{background:#0c2451;color:#fff;padding:12px 16px} header h1{font-size:18px;margin:0} header p{margin:4px 0 0;font-size:13px}
header a{color:#fff}
main{max-width:960px;margin:0 auto;padding:12px;display:flex;flex-direction:column;gap:16px}
section{background:#fff;border-radius:10px;padding:12px 14px;box-shadow:0 1px 2px #0001;min-width:0}
h2{font-size:17px;margin:0 0 8px}
.cards{list-style:none;margin:0;padding:0;display:flex;flex-direction:column;gap:8px}
.card{border:1px solid #d5d9e0;border-radius:8px;padding:8px 10px;overflow-wrap:anywhere}
.card .top{display:flex;flex-wrap:wrap;gap:4px 10px;align-items:baseline}
.id{font-family:ui-monospace,monospace;font-size:13px} .meta{font-size:13px;color:#4b5563}
.badge{font-size:12px;font-weight:600;padding:2px 8px;border-radius:10px;background:#e5e7eb;color:#111}
.badge.paid,.badge.captured,.badge.active,.badge.delivered{background:#dcfce7;color:#14532d}
.badge.failed,.badge.halted,.badge.cancelled{background:#fee2e2;color:#7f1d1d}
.badge.pending,.badge.held,.badge.scheduled,.badge.refunded,.badge.attempted{background:#fef3c7;color:#78350f}
.actions{display:flex;flex-wrap:wrap;gap:6px;margin-top:6px;align-items:center}
.actions button{min-height:36px;padding:4px 12px;font-size:14px}
label{font-size:14px;display:block;margin-bottom:2px}
input,select{font:inherit;padding:6px 8px;border:1px solid #8a8f98;border-radius:6px;max-width:100%}
.row{display:flex;flex-wrap:wrap;gap:8px;align-items:flex-end}
.row>div{min-width:0}
.empty{color:#4b5563;font-size:14px;margin:0}
pre{white-space:pre-wrap;font-size:12px;background:#f3f4f6;padding:6px;border-radius:6px;max-height:240px;overflow:auto}
</style></head>
<body>
<header><h1>Razorpay (sandbox)</h1>
<p>Orders, payments and subscriptions the sandbox's Razorpay holds, and the webhooks it sent. <a href="/">WhatsApp</a> · <a href="/instagram">Instagram</a> · <a href="/email">Email</a></p></header>
<main>
<section aria-labelledby="try-h"><h2 id="try-h">Try Checkout</h2>
<form id="try" class="row">
  <div><label for="try-amount">Amount (paise or cents)</label><input id="try-amount" inputmode="numeric" value="49900" required size="10"></div>
  <div><label for="try-currency">Currency</label><select id="try-currency"><option>INR</option><option>USD</option></select></div>
  <div><button type="submit">Create an order and open Checkout</button></div>
</form>
<p id="try-status" role="status" aria-live="polite" class="meta"></p>
</section>
<section aria-labelledby="hooks-h"><h2 id="hooks-h">Webhooks</h2>
<form id="url-form" class="row">
  <div style="flex:1 1 260px"><label for="hook-url">Webhook URL</label><input id="hook-url" type="url" style="width:100%" placeholder="http://127.0.0.1:8787/webhooks/razorpay"></div>
  <div><button type="submit">Save URL</button></div>
</form>
<form id="mode-form" class="row" style="margin-top:10px">
  <div><label for="mode">Delivery mode</label><select id="mode">
    <option value="normal">Normal</option><option value="duplicate">Duplicate</option>
    <option value="reorder">Reorder (last first)</option><option value="delay">Delay</option><option value="hold">Hold</option></select></div>
  <div><label for="copies">Copies</label><input id="copies" inputmode="numeric" value="3" size="3"></div>
  <div><label for="ms">Delay (ms)</label><input id="ms" inputmode="numeric" value="2000" size="6"></div>
  <div><button type="submit">Apply</button></div>
  <div><button type="button" id="flush">Send held events</button></div>
</form>
<p id="hooks-status" role="status" aria-live="polite" class="meta"></p>
<h3 style="font-size:15px">Sent events, newest first</h3>
<ul class="cards" id="events"></ul>
</section>
<section aria-labelledby="orders-h"><h2 id="orders-h">Orders</h2><ul class="cards" id="orders"></ul></section>
<section aria-labelledby="payments-h"><h2 id="payments-h">Payments</h2><ul class="cards" id="payments"></ul></section>
<section aria-labelledby="subs-h"><h2 id="subs-h">Subscriptions</h2><ul class="cards" id="subscriptions"></ul></section>
</main>
<script src="/razorpay/checkout.js"></script>
<script src="/razorpay/assets/console.js"></script>
</body></html>`;
}
