// The operator panel's shell: its own header (the operator's email, no tenant, no sign-out: Access
// owns the sign-in) and its own navigation. It shares the dashboard's stylesheet, head and form
// helpers; nothing of the tenant's session appears here, even when the browser also has one.
import { msg } from "@concierge/i18n";
import { type Html, html } from "../html.ts";
import { type OperatorCtx, html as respond } from "../http.ts";
import { head } from "../layout.ts";

/**
 * A handler under /manage: the `requireOperator` stage (src/stages.ts) has verified the Access
 * token and put its email (`operator`) and the form token derived from it (`operatorCsrf`) on the
 * request before any route runs.
 */
export type ManageCtx = OperatorCtx;

export type ManageSection = "tenants" | "pricing" | "archetypes" | "demo" | "email" | "health" | "audit";

const NAV: { id: ManageSection; href: string; label: string }[] = [
  { id: "tenants", href: "/manage", label: msg("manage-nav-tenants") },
  { id: "pricing", href: "/manage/pricing", label: msg("manage-nav-pricing") },
  { id: "archetypes", href: "/manage/archetypes", label: msg("manage-nav-archetypes") },
  { id: "demo", href: "/manage/demo", label: msg("manage-nav-demo") },
  { id: "email", href: "/manage/email", label: msg("manage-nav-email") },
  { id: "health", href: "/manage/health", label: msg("manage-nav-health") },
  { id: "audit", href: "/manage/audit", label: msg("manage-nav-audit") },
];

/** The hidden CSRF field every /manage form carries (checked by `checkOperatorCsrf`). */
export function operatorCsrfField(c: ManageCtx): Html {
  return html`<input type="hidden" name="_csrf" value="${c.operatorCsrf}">`;
}

/** An operator page: the panel's header and navigation, a notice or error, the page's content. */
export function managePage(
  c: ManageCtx,
  opts: { title: string; section: ManageSection; body: Html; notice?: string | null; error?: string | null },
): Html {
  const { t } = c;
  return html`<!doctype html>
<html lang="${c.locale}">
${head(c, opts.title, c.operatorCsrf)}
<body class="manage">
<a class="skip" href="#content">${t("skip-to-content")}</a>
<header class="top"><div class="bar">
  <a class="brand" href="/manage">${t("manage-brand")}</a>
  <div class="who"><span>${t("manage-signed-in-as", { email: c.operator.email })}</span></div>
</div></header>
<nav class="main" aria-label="${t("manage-nav-label")}"><ul>
${NAV.map(
  (n) =>
    html`<li><a href="${n.href}"${n.id === opts.section ? html` aria-current="page"` : null}>${t(n.label)}</a></li>`,
)}
</ul></nav>
<main id="content">
<h1>${opts.title}</h1>
${opts.notice ? html`<p class="notice" role="status">${opts.notice}</p>` : null}
${opts.error ? html`<p class="notice error" role="alert">${opts.error}</p>` : null}
${opts.body}
</main>
</body>
</html>`;
}

/** A /manage page as a response (the `finally` stage marks everything under /manage no-store). */
export function manageHtml(c: ManageCtx, body: Html, status = 200): Promise<Response> {
  return respond(c, body, status);
}
