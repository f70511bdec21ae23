import { exports } from "cloudflare:workers";
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
