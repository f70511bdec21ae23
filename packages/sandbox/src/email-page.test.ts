import { describe, expect, it } from "vitest";
import { cloudflareVerdictHeaders } from "./email-page.ts";

describe("Cloudflare's verdict headers, as the sandbox prepends them", () => {
  it("puts Cloudflare's ARC results first, its authserv-id mx.cloudflare.net, the verdict for the envelope sender", () => {
    const pass = cloudflareVerdictHeaders("asha@customer.example");
    const lines = pass.replace(/\r\n[ \t]+/g, " ").split("\r\n");
    expect(lines[0]).toMatch(
      /^Received: from mail\.customer\.example .* by cloudflare-email\.net \(cloudflare\)/,
    );
    expect(lines[1]).toMatch(/^ARC-Authentication-Results: i=1; mx\.cloudflare\.net; /);
    expect(lines[1]).toContain("spf=pass (mx.cloudflare.net: domain of asha@customer.example designates");
    expect(lines[1]).toContain("smtp.mailfrom=asha@customer.example");
    expect(lines[2]).toMatch(/^Received-SPF: pass \(mx\.cloudflare\.net: /);
    expect(lines[3]).toMatch(/^Authentication-Results: mx\.cloudflare\.net; /);
    expect(pass.endsWith("\r\n")).toBe(true);
    expect(cloudflareVerdictHeaders("asha@customer.example", "fail")).toContain("spf=fail");
  });
});
