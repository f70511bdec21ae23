import { describe, expect, it } from "vitest";
import { subdomainFailure, subdomainFailureText } from "./subdomain-failure.ts";

describe("a subdomain's setup failure", () => {
  it("reads back the step and Cloudflare's number from what the pipeline stores, never its words", () => {
    const dns = subdomainFailureText("dns", { code: 1004, message: "DNS Validation Error" });
    expect(dns).toBe("dns (1004): DNS Validation Error");
    expect(subdomainFailure(dns)).toEqual({ step: "dns", code: "1004" });
    const rule = subdomainFailureText("rule", {
      code: null,
      message: "The Cloudflare API could not be reached.",
    });
    expect(subdomainFailure(rule)).toEqual({ step: "rule", code: "none" });
  });

  it("keeps the stored text short, and calls text in no known form 'other'", () => {
    expect(subdomainFailureText("dns", { code: 1, message: "x".repeat(1000) })).toHaveLength(300);
    for (const stored of [null, "", "Setup failed", "dnsx (1): y", "(1004): y"])
      expect(subdomainFailure(stored)).toEqual({ step: "other", code: "none" });
  });
});
