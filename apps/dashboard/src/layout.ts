import { msg } from "@concierge/i18n";
import { type Html, html } from "./html.ts";
import type { AuthedCtx, Ctx } from "./http.ts";

export type Section =
  | "overview"
  | "inbox"
  | "rules"
  | "channels"
  | "email"
  | "discord"
  | "persona"
  | "conversations"
  | "hours"
  | "approvals"
  | "billing"
  | "settings";

const NAV: { id: Section; href: string; label: string }[] = [
  { id: "overview", href: "/admin", label: msg("nav-overview") },
  { id: "inbox", href: "/admin/inbox", label: msg("nav-inbox") },
  { id: "channels", href: "/admin/channels", label: msg("nav-channels") },
  { id: "email", href: "/admin/email", label: msg("nav-email") },
  { id: "discord", href: "/admin/discord", label: msg("nav-discord") },
  { id: "rules", href: "/admin/rules", label: msg("nav-rules") },
  { id: "persona", href: "/admin/persona", label: msg("nav-persona") },
  { id: "conversations", href: "/admin/conversations", label: msg("nav-conversations") },
  { id: "hours", href: "/admin/hours", label: msg("nav-hours") },
  { id: "approvals", href: "/admin/approvals", label: msg("nav-approvals") },
  { id: "billing", href: "/admin/billing", label: msg("nav-billing") },
  { id: "settings", href: "/admin/settings", label: msg("nav-settings") },
];

/**
 * What a public page says about itself to search engines and link previews (the description and
 * the Open Graph tags); `path` makes og:url, the page's address on this origin.
 */
export type PageMeta = { description: string; path: string };

/** The document head every page shares (the operator panel's too: src/manage/layout.ts). */
export function head(c: Ctx, title: string, csrf: string | null, meta: PageMeta | null = null): Html {
  const fullTitle = `${title} · Concierge`;
  return html`<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${fullTitle}</title>
${
  meta
    ? html`<meta name="description" content="${meta.description}">
<meta property="og:title" content="${fullTitle}">
<meta property="og:description" content="${meta.description}">
<meta property="og:type" content="website">
<meta property="og:url" content="${c.origin}${meta.path}">
<meta property="og:site_name" content="Concierge">`
    : null
}
${csrf ? html`<meta name="csrf-token" content="${csrf}">` : null}
<link rel="stylesheet" href="/assets/app.css?v=${c.assetVersion}">
<script type="module" src="/assets/app.js?v=${c.assetVersion}" nonce="${c.nonce}"></script>
</head>`;
}

/** The hidden CSRF field every signed-in form carries. */
export function csrfField(c: AuthedCtx): Html {
  return html`<input type="hidden" name="_csrf" value="${c.session.csrfToken}">`;
}

/**
 * While the platform team has suspended the account: on every page, why, and what it means (the
 * pipeline still takes messages in but sends no reply of any kind).
 */
function suspendedBanner(c: AuthedCtx): Html | null {
  const s = c.session.suspension;
  if (!s) return null;
  const { t } = c;
  return html`<section class="notice error suspended" role="alert" aria-labelledby="suspended-h">
<h2 id="suspended-h">${t("suspended-title")}</h2>
${s.reason ? html`<p>${t("suspended-reason", { reason: s.reason })}</p>` : null}
<p>${t("suspended-effect")}</p>
</section>`;
}

/**
 * A signed-in page: header, navigation, the page's own content.
 *
 * On a phone the header is one slim bar, the brand and a Menu toggle; the section links, the
 * business's name and Sign out open under it (app.css, "header and navigation"). The toggle is a
 * checkbox with its label, so it works without JavaScript and is a real, focusable control that
 * says whether it is checked; on a wider screen it is not shown and everything is, as before.
 */
export function page(
  c: AuthedCtx,
  opts: { title: string; section: Section; body: Html; notice?: string | null; error?: string | null },
): Html {
  const { t } = c;
  return html`<!doctype html>
<html lang="${c.locale}">
${head(c, opts.title, c.session.csrfToken)}
<body>
<a class="skip" href="#content">${t("skip-to-content")}</a>
<header class="top with-menu"><div class="bar">
  <a class="brand" href="/admin">Concierge</a>
  <input class="menu-toggle" type="checkbox" id="menu-toggle" aria-controls="main-nav">
  <label class="menu-button" for="menu-toggle">${t("nav-menu")}</label>
  <div class="who">
    <span>${c.session.tenantName}</span>
    <form class="inline" method="post" action="/sign-out">${csrfField(c)}<button class="secondary" type="submit">${t("sign-out")}</button></form>
  </div>
</div></header>
<nav class="main collapsible" id="main-nav" aria-label="${t("nav-label")}"><ul>
${NAV.map(
  (n) =>
    html`<li><a href="${n.href}"${n.id === opts.section ? html` aria-current="page"` : null}>${t(n.label)}</a></li>`,
)}
</ul></nav>
<main id="content">
${suspendedBanner(c)}
<h1>${opts.title}</h1>
${opts.notice ? html`<p class="notice" role="status">${opts.notice}</p>` : null}
${opts.error ? html`<p class="notice error" role="alert">${opts.error}</p>` : null}
${opts.body}
</main>
</body>
</html>`;
}

/** The public site's pages, for the navigation's current item. */
export type SiteSection = "home" | "features" | "pricing" | "privacy" | "demo" | "sign-in";

const SITE_NAV: { id: SiteSection; href: string; label: string }[] = [
  { id: "home", href: "/", label: msg("site-nav-home") },
  { id: "features", href: "/features", label: msg("site-nav-features") },
  { id: "pricing", href: "/pricing", label: msg("site-nav-pricing") },
  { id: "privacy", href: "/privacy", label: msg("site-nav-privacy") },
  { id: "demo", href: "/demo", label: msg("site-nav-demo") },
];

/**
 * A page of the public site, and every page a visitor sees before signing in (sign-in, errors,
 * confirmations): the site's navigation, plain links that wrap onto a second line on a phone, so
 * it needs no script. A signed-in visitor's last item leads to the dashboard instead of sign-in.
 */
export function publicPage(
  c: Ctx,
  opts: { title: string; body: Html; meta?: PageMeta; section?: SiteSection },
): Html {
  const { t } = c;
  const current = (id: SiteSection) => (id === opts.section ? html` aria-current="page"` : null);
  return html`<!doctype html>
<html lang="${c.locale}">
${head(c, opts.title, c.session?.csrfToken ?? null, opts.meta ?? null)}
<body>
<a class="skip" href="#content">${t("skip-to-content")}</a>
<header class="top"><div class="bar">
<a class="brand" href="/">Concierge</a>
<nav class="site-nav" aria-label="${t("site-nav-label")}"><ul class="site-nav-list">
${SITE_NAV.map((n) => html`<li><a class="site-nav-link" href="${n.href}"${current(n.id)}>${t(n.label)}</a></li>`)}
${
  c.session
    ? html`<li><a class="site-nav-link site-nav-account" href="/admin">${t("site-nav-dashboard")}</a></li>`
    : html`<li><a class="site-nav-link site-nav-account" href="/sign-in"${current("sign-in")}>${t("site-nav-sign-in")}</a></li>`
}
</ul></nav>
</div></header>
<main id="content">${opts.body}</main>
</body>
</html>`;
}

/**
 * An error as a page (the status says what happened; the text says what to do). A visitor who is
 * not signed in has no account, so the generic 404 ("… or it belongs to another account", which
 * keeps other tenants' ids from revealing anything to a signed-in tenant) becomes a plain "page
 * not found" with the way home for them.
 */
export function errorPage(c: Ctx, status: number, messageId: string): Html {
  const title = c.t(
    status === 404 ? "error-title-not-found" : status === 403 ? "error-title-forbidden" : "error-title",
  );
  const visitor = !c.session && !c.operator;
  const text =
    visitor && status === 404 && messageId === "error-not-found" ? msg("site-not-found") : messageId;
  const back = visitor
    ? html`<p class="row"><a class="button" href="/">${c.t("site-not-found-home")}</a> <a href="/features">${c.t("site-nav-features")}</a> <a href="/pricing">${c.t("site-nav-pricing")}</a></p>`
    : html`<p><a href="${c.session ? "/admin" : "/"}">${c.t("error-back")}</a></p>`;
  const body = html`<h1>${title}</h1><p>${c.t(text)}</p>${back}`;
  return publicPage(c, { title, body });
}
