import { env } from "cloudflare:workers";
import { getTrialSettings, saveCreditPack } from "@concierge/storage";
import { beforeAll, describe, expect, it } from "vitest";
import { app, get, ORIGIN, signIn } from "./helpers.ts";

/** The public site's pages: path, the <title> (before " · Concierge") and the nav's current item. */
const PAGES = [
  { path: "/", title: "Every customer message, answered", current: "Home" },
  { path: "/features", title: "Features", current: "Features" },
  { path: "/pricing", title: "Pricing", current: "Pricing" },
  { path: "/privacy", title: "Privacy", current: "Privacy" },
  { path: "/demo", title: "Live demo", current: "Demo" },
] as const;

const NAV = [
  ["/", "Home"],
  ["/features", "Features"],
  ["/pricing", "Pricing"],
  ["/privacy", "Privacy"],
  ["/demo", "Demo"],
  ["/sign-in", "Sign in"],
] as const;

/** The decoded content of `<meta name|property="…" content="…">`, or null. */
function metaContent(page: string, key: string): string | null {
  const m = new RegExp(`<meta (?:name|property)="${key}" content="([^"]*)">`).exec(page);
  return m ? decodeEntities(m[1]!) : null;
}

function decodeEntities(s: string): string {
  return s
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

/** The page's visible text, roughly: tags dropped, entities decoded, whitespace collapsed. */
function textOf(page: string): string {
  return decodeEntities(page.replace(/<[^>]+>/g, " ")).replace(/\s+/g, " ");
}

describe("public site", () => {
  it("serves the welcome page with security headers", async () => {
    const res = await app("/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    const text = textOf(await res.text());
    expect(text).toContain("Every customer message, answered.");
    // What it does, for whom, the channels, how a message is handled in order, and the way in.
    for (const part of [
      "For small businesses with busy inboxes",
      "WhatsApp",
      "Instagram",
      "Email",
      "1. Your rules first",
      "2. Then the AI, in your voice, within fixed limits",
      "3. A person, whenever one is needed",
    ])
      expect(text).toContain(part);
    expect(text.indexOf("1. Your rules first")).toBeLessThan(text.indexOf("2. Then the AI"));
    expect(text.indexOf("2. Then the AI")).toBeLessThan(text.indexOf("3. A person"));
  });

  for (const p of PAGES) {
    it(`${p.path}: 200 with its title, description, Open Graph tags and the site's navigation`, async () => {
      const res = await app(p.path);
      expect(res.status).toBe(200);
      const page = await res.text();
      const title = `${p.title} · Concierge`;
      expect(page).toContain(`<title>${title}</title>`);
      const description = metaContent(page, "description");
      expect(description?.length).toBeGreaterThan(40);
      expect(metaContent(page, "og:title")).toBe(title);
      expect(metaContent(page, "og:description")).toBe(description);
      expect(metaContent(page, "og:type")).toBe("website");
      expect(metaContent(page, "og:url")).toBe(`${ORIGIN}${p.path}`);
      // Plain links (no menu button, no script needed), the current page marked for screen readers.
      const nav =
        /<nav class="site-nav" aria-label="Site"><ul class="site-nav-list">([\s\S]*?)<\/ul><\/nav>/.exec(
          page,
        )?.[1];
      expect(nav).toBeTruthy();
      const links = [...nav!.matchAll(/<a[^>]* href="([^"]+)"[^>]*>([^<]+)<\/a>/g)].map((m) => [m[1], m[2]]);
      expect(links).toEqual(NAV.map(([href, label]) => [href, label]));
      expect([...nav!.matchAll(/aria-current="page">([^<]+)</g)].map((m) => m[1])).toEqual([p.current]);
    });
  }

  it("gives every page its own description", async () => {
    const descriptions = new Set<string | null>();
    for (const p of PAGES) descriptions.add(metaContent(await (await app(p.path)).text(), "description"));
    expect(descriptions.size).toBe(PAGES.length);
  });

  it("shows a signed-in tenant the way to the dashboard instead of sign-in", async () => {
    const s = await signIn();
    const page = await (await get(s, "/")).text();
    expect(page).toContain('<a class="site-nav-link site-nav-account" href="/admin">Dashboard</a>');
    expect(page).not.toContain('href="/sign-in"');
    expect(page).toContain('<a class="button" href="/admin">Open your dashboard</a>');
  });

  it("has the live demo chat on the welcome page and at /demo (test/demo.test.ts tries it)", async () => {
    for (const path of ["/", "/demo"]) {
      const page = await (await app(path)).text();
      expect(page).toContain('<section id="demo" class="card demo" aria-labelledby="demo-h">');
      expect(page).toContain('<form id="demo-form" class="demo-form" method="post" action="/demo#demo">');
    }
  });

  it("says truthfully what is kept and what never is", async () => {
    const text = textOf(await (await app("/privacy")).text());
    for (const part of [
      "are never written to our database, our key-value store, our queues or our logs",
      "encrypted with a key of your business's own",
      "until the conversation goes idle (6 hours by default",
      "expires after 24 hours",
      "kept while your account is open, and deleted with it",
      "Your business's key is destroyed first",
      // The live demo: the chat stays sealed in the page; only counts, under a keyed pseudonym.
      "sealed (encrypted, and expiring within an hour), and nothing of it is stored",
      "under a keyed pseudonym of your network address (never the address itself)",
      "deleted within the hour, the demo's total within the day",
    ])
      expect(text).toContain(part);
  });
});

describe("pricing", () => {
  // A pack of ₹1,00,000 and one of $100,000 (minor units), so lakh grouping shows or is absent.
  beforeAll(async () => {
    await saveCreditPack(env.DB, {
      id: "inr-site-lakh",
      currency: "INR",
      credits: 250_000,
      amount: 10_000_000,
      active: true,
      sort: 90,
    });
    await saveCreditPack(env.DB, {
      id: "usd-site-big",
      currency: "USD",
      credits: 250_000,
      amount: 10_000_000,
      active: true,
      sort: 90,
    });
  });

  const pack = (page: string, id: string) =>
    textOf(new RegExp(`<li class="card site-pack" id="pack-${id}">([\\s\\S]*?)</li>`).exec(page)?.[1] ?? "");

  it("shows rupees with lakh grouping under Accept-Language: en-IN", async () => {
    const res = await app("/pricing", { headers: { "accept-language": "en-IN,en;q=0.8" } });
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toContain('<html lang="en-IN">');
    expect(pack(page, "inr-site-lakh")).toContain("2,50,000 credits");
    expect(pack(page, "inr-site-lakh")).toContain("₹1,00,000");
    expect(pack(page, "inr-site-lakh")).toContain("₹0.40 per AI reply");
    expect(pack(page, "inr-100")).toContain("₹499");
    expect(page).not.toContain("usd-");
    // The plan's price is the operator's (other tests reprice it): only its currency is fixed here.
    expect(textOf(page)).toMatch(/Each extra subdomain is ₹[\d,.]+ a month/);
    expect(page).not.toContain("$");
  });

  it("shows dollars under Accept-Language: en-US", async () => {
    const res = await app("/pricing", { headers: { "accept-language": "en-US" } });
    const page = await res.text();
    expect(page).toContain('<html lang="en-US">');
    expect(pack(page, "usd-site-big")).toContain("250,000 credits");
    expect(pack(page, "usd-site-big")).toContain("$100,000");
    expect(pack(page, "usd-100")).toContain("$9");
    expect(page).not.toContain("inr-");
    expect(textOf(page)).toMatch(/Each extra subdomain is \$[\d,.]+ a month/);
    expect(page).not.toContain("₹");
  });

  it("states the trial as set in D1", async () => {
    // The operator-panel tests change the trial for a moment and put it back: compare the page
    // with the trial as it is when the page is rendered.
    await expect
      .poll(async () => {
        const trial = await getTrialSettings(env.DB);
        const text = textOf(await (await app("/pricing")).text());
        return (
          trial.credits > 1 &&
          text.includes(`Start with ${trial.credits} free AI replies`) &&
          text.includes(`to use within ${trial.days} days`)
        );
      })
      .toBe(true);
  });

  it("leaves out inactive packs", async () => {
    await saveCreditPack(env.DB, {
      id: "inr-site-retired",
      currency: "INR",
      credits: 10,
      amount: 10_000,
      active: false,
      sort: 1,
    });
    expect(await (await app("/pricing")).text()).not.toContain("inr-site-retired");
  });
});

describe("not found", () => {
  it("answers an anonymous visitor's unknown path with a plain 404 and the way home", async () => {
    for (const path of ["/no-such-page", "/pricing/extra", "/data-deletion/status?code=unknown-code-1"]) {
      const res = await app(path);
      expect(res.status).toBe(404);
      expect(res.headers.get("content-type")).toContain("text/html");
      const page = await res.text();
      expect(page).toContain("<h1>Page not found</h1>");
      expect(textOf(page)).toContain("There is no page at this address.");
      expect(page).not.toContain("another account");
      expect(page).not.toContain("Back to the dashboard");
      expect(page).toContain('<a class="button" href="/">Go to the home page</a>');
      // The site's navigation is there too.
      expect(page).toContain('<nav class="site-nav"');
    }
  });

  it("keeps the signed-in answer for ids that may be another account's", async () => {
    const s = await signIn();
    const res = await get(s, "/no-such-page");
    expect(res.status).toBe(404);
    const page = await res.text();
    expect(page).toContain("There is nothing here, or it belongs to another account.");
    expect(page).toContain('<a href="/admin">Back to the dashboard</a>');
  });
});

/**
 * Each public page with what it links: its HTML, the stylesheet and the scripts, uncompressed.
 * Workers Static Assets serves public/ before the Worker in deployment; here the files are read
 * through the ASSETS binding, as in the static-assets tests below.
 */
describe("page weight", () => {
  const LIMIT = 100_000;
  it(`keeps each public page with its CSS and JS under ${LIMIT.toLocaleString("en-US")} bytes`, async ({
    annotate,
  }) => {
    const rows: string[] = [];
    for (const p of [...PAGES.map((x) => x.path), "/sign-in", "/no-such-page"]) {
      const page = await (await app(p)).text();
      const htmlBytes = new TextEncoder().encode(page).length;
      const linked = [
        ...page.matchAll(/<link rel="stylesheet" href="([^"]+)">/g),
        ...page.matchAll(/<script[^>]* src="([^"]+)"/g),
      ].map((m) => m[1]!);
      expect(linked.length).toBeGreaterThanOrEqual(2);
      let assetBytes = 0;
      for (const href of linked) {
        expect(href.startsWith("/assets/")).toBe(true);
        const res = await env.ASSETS.fetch(`${ORIGIN}${href}`);
        expect(res.status).toBe(200);
        assetBytes += (await res.arrayBuffer()).byteLength;
      }
      const total = htmlBytes + assetBytes;
      rows.push(`${p.padEnd(14)} html ${htmlBytes} + css/js ${assetBytes} = ${total} bytes`);
      expect(total, p).toBeLessThan(LIMIT);
    }
    // Reported with every run, not only on failure: a test annotation, which the reporters print
    // and the JSON report keeps (no console in tests either).
    await annotate(`page weight (uncompressed):\n  ${rows.join("\n  ")}`);
  });
});

// public/ is served by Workers Static Assets before the Worker runs (in deployment and in the
// local stack); here the Worker is called directly, so the files are read through its ASSETS
// binding, as the Worker itself does for their version.
describe("static assets", () => {
  it("are linked with one content version and the page's nonce on the script", async () => {
    const versions = new Set<string>();
    for (let i = 0; i < 2; i++) {
      const res = await app("/sign-in");
      const nonce = /'nonce-([^']+)'/.exec(res.headers.get("content-security-policy")!)![1]!;
      const body = await res.text();
      const version = /<link rel="stylesheet" href="\/assets\/app\.css\?v=([a-z0-9]+)">/.exec(body)?.[1];
      expect(version).toBeTruthy();
      expect(body).toContain(
        `<script type="module" src="/assets/app.js?v=${version}" nonce="${nonce}"></script>`,
      );
      versions.add(version!);
    }
    expect(versions.size).toBe(1);
  });

  it("are the files in public/assets, cached for a year and never sniffed", async () => {
    for (const [path, type, text] of [
      ["/assets/app.css", "text/css", "box-sizing: border-box"],
      ["/assets/app.js", "javascript", "form[data-target]"],
    ] as const) {
      const res = await env.ASSETS.fetch(`https://concierge.test${path}?v=any`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toContain(type);
      expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(await res.text()).toContain(text);
    }
    // The _headers file itself is configuration, not an asset.
    expect((await env.ASSETS.fetch("https://concierge.test/_headers")).status).toBe(404);
  });
});
