import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

describe("public site", () => {
  it("serves the welcome page with security headers", async () => {
    const res = await exports.default.fetch("https://concierge.test/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(await res.text()).toContain("Every customer message, answered.");
  });

  it("answers unknown paths with a 404 page that says what to do", async () => {
    const res = await exports.default.fetch("https://concierge.test/no-such-page");
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(await res.text()).toContain("There is nothing here, or it belongs to another account.");
  });
});

// public/ is served by Workers Static Assets before the Worker runs (in deployment and in the
// local stack); here the Worker is called directly, so the files are read through its ASSETS
// binding, as the Worker itself does for their version.
describe("static assets", () => {
  it("are linked with one content version and the page's nonce on the script", async () => {
    const versions = new Set<string>();
    for (let i = 0; i < 2; i++) {
      const res = await exports.default.fetch("https://concierge.test/sign-in");
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
