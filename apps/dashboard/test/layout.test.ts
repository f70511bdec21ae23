// The signed-in pages' header and navigation through HTTP: on a phone the section links collapse
// behind a Menu toggle that works without JavaScript (a checkbox and its label, opened by CSS
// alone); every section link is inside the collapsible navigation, the current one marked. The
// browser side (the 375 px and 1280 px layouts) is checked by layoutProblems in the screenshots
// and browser runs.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { get, signIn } from "./helpers.ts";

/** Every section of the signed-in dashboard, in the navigation's order. */
const SECTIONS = [
  "/admin",
  "/admin/inbox",
  "/admin/channels",
  "/admin/email",
  "/admin/discord",
  "/admin/rules",
  "/admin/persona",
  "/admin/conversations",
  "/admin/hours",
  "/admin/approvals",
  "/admin/billing",
  "/admin/settings",
];

function parts(page: string): { header: string; nav: string } {
  const header = /<header class="top with-menu">[\s\S]*?<\/header>/.exec(page)?.[0];
  const nav = /<nav class="main collapsible" id="main-nav" aria-label="Main"><ul>[\s\S]*?<\/ul><\/nav>/.exec(
    page,
  )?.[0];
  if (!header || !nav) throw new Error("no header or navigation");
  return { header, nav };
}

describe("signed-in header and navigation", () => {
  it("has a Menu toggle that is a real, labelled control needing no script, next to the brand", async () => {
    const s = await signIn();
    const page = await (await get(s, "/admin")).text();
    const { header } = parts(page);
    // A checkbox (focusable, says whether it is checked) and the label that names and presses it.
    expect(header).toMatch(
      /<a class="brand" href="\/admin">Concierge<\/a>\s*<input class="menu-toggle" type="checkbox" id="menu-toggle" aria-controls="main-nav">\s*<label class="menu-button" for="menu-toggle">Menu<\/label>/,
    );
    expect(header).not.toMatch(/\bon[a-z]+=/);
    // The business's name and Sign out stay in the header (they open with the menu on a phone).
    expect(header).toContain("Test business");
    expect(header).toMatch(/<form class="inline" method="post" action="\/sign-out">/);
  });

  it.each(SECTIONS)(
    "puts every section link in the collapsible navigation, %s marked current",
    async (path) => {
      const s = await signIn();
      const res = await get(s, path);
      expect(res.status).toBe(200);
      const { nav } = parts(await res.text());
      const links = [...nav.matchAll(/<a href="([^"]+)"( aria-current="page")?>/g)];
      expect(links.map((m) => m[1])).toEqual(SECTIONS);
      expect(links.filter((m) => m[2]).map((m) => m[1])).toEqual([path]);
    },
  );

  it("opens the menu with CSS alone, only on a phone, and leaves wider screens and the operator panel as they were", async () => {
    const css = await (await env.ASSETS.fetch("https://concierge.test/assets/app.css?v=any")).text();
    // Hidden everywhere by default (wide screens show the full header and navigation)...
    expect(css).toMatch(/header\.top \.menu-toggle,\s*header\.top \.menu-button \{\s*display: none;/);
    // ...and only below 700 px, where :has() works, the links hide until the box is checked.
    const phone = /@supports selector\(:has\(a\)\) \{\s*@media \(max-width: 700px\) \{([\s\S]*?)\n\}\n/.exec(
      css,
    );
    expect(phone).not.toBeNull();
    const rules = phone![1]!;
    expect(rules).toMatch(
      /header\.top\.with-menu \.who,\s*header\.top\.with-menu \+ nav\.main\.collapsible \{\s*display: none;/,
    );
    expect(rules).toMatch(
      /header\.top\.with-menu:has\(\.menu-toggle:checked\) \+ nav\.main\.collapsible \{\s*display: block;/,
    );
    // The toggle stays focusable on a phone (visually hidden, never display: none there).
    expect(rules).toMatch(/header\.top \.menu-toggle \{\s*display: block;\s*position: absolute;/);
    expect(rules).toMatch(/\.menu-toggle:focus-visible \+ \.menu-button \{\s*outline:/);
    // Nothing outside that block hides the dashboard's navigation.
    expect(css.replace(phone![0], "")).not.toMatch(/nav\.main\.collapsible[^{]*\{\s*display: none/);
  });
});
