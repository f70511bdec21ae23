// GET /pricing: the credit packs, the email-subdomain plan and the trial, as they are in D1 now
// (edited in /manage), priced in the visitor's currency and written the locale's way: ₹1,00,000
// in en-IN, $100,000 in en-US. The money is formatted exactly as the tenant's billing page does
// (formatMoney from @concierge/i18n, from minor units).
import { CurrencySchema } from "@concierge/core";
import { formatMoney, formatNumber } from "@concierge/i18n";
import {
  type CreditPack,
  type Currency,
  getSubdomainPlan,
  getTrialSettings,
  listCreditPacks,
} from "@concierge/storage";
import * as v from "valibot";
import { html } from "../html.ts";
import { type Ctx, html as respond } from "../http.ts";
import { publicPage } from "../layout.ts";
import { signUpButton } from "./welcome.ts";

/**
 * A visitor's currency follows their negotiated locale (en-US pays in dollars, everyone else in
 * rupees, the default locale's). A signed-in tenant sees the prices of its own currency, the one
 * its billing page charges in.
 */
export function pricingCurrency(c: Ctx): Currency {
  if (c.session && v.is(CurrencySchema, c.session.currency)) return c.session.currency;
  return c.locale === "en-US" ? "USD" : "INR";
}

export async function pricingPage(c: Ctx): Promise<Response> {
  const { t } = c;
  const currency = pricingCurrency(c);
  const [packs, plan, trial] = await Promise.all([
    listCreditPacks(c.env.DB, currency),
    getSubdomainPlan(c.env.DB, currency),
    getTrialSettings(c.env.DB),
  ]);
  const money = (minor: number) => formatMoney(c.locale, currency, minor);
  const pack = (p: CreditPack) => html`<li class="card site-pack" id="pack-${p.id}">
<h3>${t("site-pricing-pack-credits", { credits: formatNumber(c.locale, p.credits), count: p.credits })}</h3>
<p class="site-price">${money(p.amount)}</p>
<p class="muted">${t("site-pricing-per-reply", { price: money(p.amount / p.credits) })}</p>
</li>`;
  const body = html`<h1>${t("site-pricing-title")}</h1>
<p class="site-lead">${t("site-pricing-lead")}</p>
${
  trial.credits > 0
    ? html`<section class="card site-trial" aria-labelledby="trial-h">
<h2 id="trial-h" class="site-box-h">${t("site-pricing-trial-title", { credits: formatNumber(c.locale, trial.credits), count: trial.credits })}</h2>
<p>${t("site-pricing-trial-text", { credits: formatNumber(c.locale, trial.credits), count: trial.credits, days: trial.days })}</p>
<p>${signUpButton(c)}</p>
</section>`
    : null
}
<section aria-labelledby="packs-h">
<h2 id="packs-h">${t("site-pricing-packs")}</h2>
<p class="muted">${t(currency === "USD" ? "site-pricing-in-usd" : "site-pricing-in-inr")}</p>
${
  packs.length
    ? html`<ul class="site-cards">${packs.map(pack)}</ul>`
    : html`<p class="card">${t("site-pricing-no-packs")}</p>`
}
</section>
<section aria-labelledby="credits-h">
<h2 id="credits-h">${t("site-pricing-credits-title")}</h2>
<ul class="site-points">
<li>${t("site-pricing-credit-ai")}</li>
<li>${t("site-pricing-credit-rules")}</li>
<li>${t("site-pricing-credit-back")}</li>
<li>${t("site-pricing-credit-never-expire")}</li>
<li>${t("site-pricing-credit-zero")}</li>
</ul>
</section>
<section aria-labelledby="subdomains-h">
<h2 id="subdomains-h">${t("site-pricing-subdomains")}</h2>
<p>${t("site-pricing-subdomains-included")}</p>
<p id="subdomain-plan">${plan ? t("site-pricing-subdomains-price", { price: money(plan.amount) }) : t("site-pricing-subdomains-none")}</p>
</section>
<section aria-labelledby="pay-h">
<h2 id="pay-h">${t("site-pricing-paying")}</h2>
<p>${t("site-pricing-paying-text")}</p>
</section>`;
  return respond(
    c,
    publicPage(c, {
      title: t("site-pricing-title"),
      meta: { description: t("site-pricing-description"), path: "/pricing" },
      section: "pricing",
      body,
    }),
  );
}
