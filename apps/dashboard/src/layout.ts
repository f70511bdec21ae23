import { msg } from "@concierge/i18n";
import { type Html, html } from "./html.ts";
import type { AuthedCtx, Ctx } from "./http.ts";

export type Section =
  | "overview"
  | "rules"
  | "channels"
  | "email"
  | "discord"
  | "persona"
  | "conversations"
  | "approvals"
  | "billing"
  | "settings";

const NAV: { id: Section; href: string; label: string }[] = [
  { id: "overview", href: "/admin", label: msg("nav-overview") },
  { id: "channels", href: "/admin/channels", label: msg("nav-channels") },
  { id: "email", href: "/admin/email", label: msg("nav-email") },
  { id: "discord", href: "/admin/discord", label: msg("nav-discord") },
  { id: "rules", href: "/admin/rules", label: msg("nav-rules") },
  { id: "persona", href: "/admin/persona", label: msg("nav-persona") },
  { id: "conversations", href: "/admin/conversations", label: msg("nav-conversations") },
  { id: "approvals", href: "/admin/approvals", label: msg("nav-approvals") },
  { id: "billing", href: "/admin/billing", label: msg("nav-billing") },
  { id: "settings", href: "/admin/settings", label: msg("nav-settings") },
];

/** The document head every page shares (the operator panel's too: src/manage/layout.ts). */
export function head(c: Ctx, title: string, csrf: string | null): Html {
  return html`<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Concierge</title>
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

/** A signed-in page: header, navigation, the page's own content. */
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
<header class="top"><div class="bar">
  <a class="brand" href="/admin">Concierge</a>
  <div class="who">
    <span>${c.session.tenantName}</span>
    <form class="inline" method="post" action="/sign-out">${csrfField(c)}<button class="secondary" type="submit">${t("sign-out")}</button></form>
  </div>
</div></header>
<nav class="main" aria-label="${t("nav-label")}"><ul>
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

/** A page for signed-out visitors (sign-in, errors before sign-in). */
export function publicPage(c: Ctx, opts: { title: string; body: Html }): Html {
  return html`<!doctype html>
<html lang="${c.locale}">
${head(c, opts.title, c.session?.csrfToken ?? null)}
<body>
<header class="top"><div class="bar"><a class="brand" href="/">Concierge</a></div></header>
<main id="content">${opts.body}</main>
</body>
</html>`;
}

/** An error as a page (the status says what happened; the text says what to do). */
export function errorPage(c: Ctx, status: number, messageId: string): Html {
  const title = c.t(
    status === 404 ? "error-title-not-found" : status === 403 ? "error-title-forbidden" : "error-title",
  );
  const body = html`<h1>${title}</h1><p>${c.t(messageId)}</p><p><a href="${c.session ? "/admin" : "/"}">${c.t("error-back")}</a></p>`;
  return publicPage(c, { title, body });
}
