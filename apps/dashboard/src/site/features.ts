// GET /features: what the product does, channel by channel and step by step, in more detail than
// the welcome page. Only what the product does today.
import { msg } from "@concierge/i18n";
import { html } from "../html.ts";
import { type Ctx, html as respond } from "../http.ts";
import { publicPage } from "../layout.ts";
import { signUpButton } from "./welcome.ts";

/** Each section: its heading and its points (message ids). */
const SECTIONS: { id: string; title: string; points: string[] }[] = [
  {
    id: "channels",
    title: msg("site-features-channels"),
    points: [
      msg("site-features-whatsapp"),
      msg("site-features-instagram"),
      msg("site-features-email"),
      msg("site-features-email-routing"),
    ],
  },
  {
    id: "rules",
    title: msg("site-features-rules"),
    points: [
      msg("site-features-rules-order"),
      msg("site-features-rules-match"),
      msg("site-features-rules-test"),
    ],
  },
  {
    id: "ai",
    title: msg("site-features-ai"),
    points: [
      msg("site-features-ai-persona"),
      msg("site-features-ai-safety"),
      msg("site-features-ai-envelope"),
      msg("site-features-ai-approvals"),
    ],
  },
  {
    id: "people",
    title: msg("site-features-people"),
    points: [
      msg("site-features-handoff"),
      msg("site-features-discord"),
      msg("site-features-discord-commands"),
    ],
  },
  {
    id: "dashboard",
    title: msg("site-features-dashboard"),
    points: [msg("site-features-insights"), msg("site-features-billing"), msg("site-features-locales")],
  },
];

export function featuresPage(c: Ctx): Promise<Response> {
  const { t } = c;
  const body = html`<h1>${t("site-features-title")}</h1>
<p class="site-lead">${t("site-features-lead")}</p>
${SECTIONS.map(
  (s) => html`<section class="site-section" aria-labelledby="f-${s.id}">
<h2 id="f-${s.id}">${t(s.title)}</h2>
<ul class="site-points">${s.points.map((p) => html`<li>${t(p)}</li>`)}</ul>
</section>`,
)}
<section class="card site-cta" aria-labelledby="cta-h">
<h2 id="cta-h" class="site-box-h">${t("site-cta-title")}</h2>
<p>${t("site-features-privacy")} <a href="/privacy">${t("site-see-privacy")}</a></p>
<p class="row">${signUpButton(c)} <a href="/pricing">${t("site-see-pricing")}</a></p>
</section>`;
  return respond(
    c,
    publicPage(c, {
      title: t("site-features-title"),
      meta: { description: t("site-features-description"), path: "/features" },
      section: "features",
      body,
    }),
  );
}
