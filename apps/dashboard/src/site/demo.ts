// The live demo's place on the public site: a section on the welcome page and the /demo page.
// The chat itself (a visitor writing as a customer of the sample business, the persona picker,
// "View prompt") is its own piece of work (issue 15, items 2 to 5); until it lands, both places
// say what it will do and that it is not open yet, instead of showing a chat that does nothing.
import { type Html, html } from "../html.ts";
import { type Ctx, html as respond } from "../http.ts";
import { publicPage } from "../layout.ts";

/** The demo's section: on the welcome page under a second-level heading, on /demo under its h1. */
export function demoSection(c: Ctx): Html {
  const { t } = c;
  return html`<section id="demo" class="card site-demo" aria-labelledby="demo-h">
<h2 id="demo-h" class="site-box-h">${t("site-demo-title")}</h2>
<p>${t("site-demo-text")}</p>
<p class="site-demo-coming">${t("site-demo-coming")}</p>
</section>`;
}

/** GET /demo */
export function demoPage(c: Ctx): Promise<Response> {
  const { t } = c;
  const body = html`<h1>${t("site-demo-page-title")}</h1>
<p class="site-lead">${t("site-demo-page-lead")}</p>
${demoSection(c)}
<p class="row"><a class="button" href="${c.session ? "/admin" : "/sign-in"}">${c.session ? t("site-open-dashboard") : t("site-cta-sign-up")}</a> <a href="/features">${t("site-see-features")}</a></p>`;
  return respond(
    c,
    publicPage(c, {
      title: t("site-demo-page-title"),
      meta: { description: t("site-demo-page-description"), path: "/demo" },
      section: "demo",
      body,
    }),
  );
}
