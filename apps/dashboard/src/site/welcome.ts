// GET /: the page a small business lands on. What Concierge does and for whom, the channels, how
// one message is handled (rules, then the AI inside its fixed envelope, then a person), the live
// demo's place, and the way to sign up.
import { demoChat } from "../demo/chat.ts";
import { type Html, html } from "../html.ts";
import { type Ctx, html as respond } from "../http.ts";
import { publicPage } from "../layout.ts";

/** The call to action: sign up (the sign-in page creates the business), or the dashboard. */
export function signUpButton(c: Ctx): Html {
  return c.session
    ? html`<a class="button" href="/admin">${c.t("site-open-dashboard")}</a>`
    : html`<a class="button" href="/sign-in">${c.t("site-cta-sign-up")}</a>`;
}

export function welcomePage(c: Ctx): Promise<Response> {
  const { t } = c;
  const channel = (name: string, text: string) => html`<li class="card"><h3>${name}</h3><p>${text}</p></li>`;
  const step = (title: string, text: string) => html`<li><h3>${title}</h3><p>${text}</p></li>`;
  const body = html`<section class="site-hero" aria-labelledby="hero-h">
<h1 id="hero-h">${t("site-headline")}</h1>
<p class="site-lead">${t("site-lead")}</p>
<p class="row">${signUpButton(c)} <a href="#how">${t("site-how-link")}</a></p>
</section>
<section aria-labelledby="who-h">
<h2 id="who-h">${t("site-who-title")}</h2>
<p>${t("site-who-text")}</p>
</section>
<section aria-labelledby="channels-h">
<h2 id="channels-h">${t("site-channels-title")}</h2>
<ul class="site-cards">
${channel(t("site-channel-whatsapp-name"), t("site-channel-whatsapp"))}
${channel(t("site-channel-instagram-name"), t("site-channel-instagram"))}
${channel(t("site-channel-email-name"), t("site-channel-email"))}
${channel(t("site-channel-discord-name"), t("site-channel-discord"))}
</ul>
</section>
<section id="how" aria-labelledby="how-h">
<h2 id="how-h">${t("site-how-title")}</h2>
<ol class="site-steps">
${step(t("site-how-rules-title"), t("site-how-rules"))}
${step(t("site-how-ai-title"), t("site-how-ai"))}
${step(t("site-how-person-title"), t("site-how-person"))}
</ol>
<p><a href="/features">${t("site-see-features")}</a></p>
</section>
${demoChat(c)}
<section class="card site-cta" aria-labelledby="cta-h">
<h2 id="cta-h" class="site-box-h">${t("site-cta-title")}</h2>
<p>${t("site-cta-text")}</p>
<p class="row">${signUpButton(c)} <a href="/pricing">${t("site-see-pricing")}</a></p>
</section>`;
  return respond(
    c,
    publicPage(c, {
      title: t("site-title"),
      meta: { description: t("site-description"), path: "/" },
      section: "home",
      body,
    }),
  );
}
