import { html } from "./html.ts";
import { type Ctx, html as respond } from "./http.ts";
import { publicPage } from "./layout.ts";

/** The public welcome page. The full public site and the live demo come with their own work. */
export function welcomePage(c: Ctx): Promise<Response> {
  const { t } = c;
  const body = html`<div class="card">
<h1>${t("site-headline")}</h1>
<p>${t("site-lead")}</p>
<ul>
  <li>${t("site-point-rules")}</li>
  <li>${t("site-point-human")}</li>
  <li>${t("site-point-credits")}</li>
</ul>
<p><a class="button" href="${c.session ? "/admin" : "/sign-in"}">${c.session ? t("site-open-dashboard") : t("site-sign-in")}</a></p>
</div>`;
  return respond(c, publicPage(c, { title: t("site-title"), body }));
}
