// GET /privacy: what Concierge keeps and what it never does, as the code does it
// (ARCHITECTURE.md §5): message text only in the conversation's own storage, encrypted with the
// business's key, for as long as the turn, the idle gap or the approval needs it; never in the
// database, the key-value store, queues or logs. Metadata stays until the account is deleted
// (a retention setting that purges it sooner is not built yet: this page must change with it).
import { msg } from "@concierge/i18n";
import { html } from "../html.ts";
import { type Ctx, html as respond } from "../http.ts";
import { publicPage } from "../layout.ts";

/** Each section: its heading, an optional paragraph and its points (message ids). */
const SECTIONS: { id: string; title: string; text?: string; points: string[] }[] = [
  {
    id: "kept",
    title: msg("site-privacy-kept"),
    points: [
      msg("site-privacy-kept-metadata"),
      msg("site-privacy-kept-account"),
      msg("site-privacy-kept-tokens"),
      msg("site-privacy-kept-billing"),
    ],
  },
  {
    id: "never",
    title: msg("site-privacy-never"),
    points: [
      msg("site-privacy-never-text"),
      msg("site-privacy-never-cards"),
      msg("site-privacy-never-tracking"),
    ],
  },
  {
    id: "text",
    title: msg("site-privacy-text"),
    text: msg("site-privacy-text-lead"),
    points: [
      msg("site-privacy-text-pending"),
      msg("site-privacy-text-history"),
      msg("site-privacy-text-drafts"),
    ],
  },
  {
    id: "shared",
    title: msg("site-privacy-shared"),
    text: msg("site-privacy-shared-lead"),
    points: [
      msg("site-privacy-shared-ai"),
      msg("site-privacy-shared-discord"),
      msg("site-privacy-shared-forward"),
      msg("site-privacy-shared-channels"),
    ],
  },
  {
    id: "how-long",
    title: msg("site-privacy-how-long"),
    points: [
      msg("site-privacy-how-long-metadata"),
      msg("site-privacy-how-long-sessions"),
      msg("site-privacy-how-long-demo"),
    ],
  },
  {
    id: "deletion",
    title: msg("site-privacy-deletion"),
    points: [msg("site-privacy-deletion-account"), msg("site-privacy-deletion-facebook")],
  },
];

export function privacyPage(c: Ctx): Promise<Response> {
  const { t } = c;
  const body = html`<h1>${t("site-privacy-title")}</h1>
<p class="site-lead">${t("site-privacy-lead")}</p>
${SECTIONS.map(
  (s) => html`<section class="site-section" aria-labelledby="p-${s.id}">
<h2 id="p-${s.id}">${t(s.title)}</h2>
${s.text ? html`<p>${t(s.text)}</p>` : null}
<ul class="site-points">${s.points.map((p) => html`<li>${t(p)}</li>`)}</ul>
</section>`,
)}`;
  return respond(
    c,
    publicPage(c, {
      title: t("site-privacy-title"),
      meta: { description: t("site-privacy-description"), path: "/privacy" },
      section: "privacy",
      body,
    }),
  );
}
