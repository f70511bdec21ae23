import fc from "fast-check";
import { cloudflareVerdictHeaders } from "@concierge/testing/cloudflare-email";
import { describe, expect, it } from "vitest";
import {
  cloudflareAuthResults,
  domainCovers,
  parseArcAuthenticationResults,
  parseAuthenticationResults,
  senderAuthentication,
} from "./email-auth.ts";
import { emailLoopReason, MAX_EMAIL_HOPS } from "./email.ts";
import { parseEmail } from "./email-parse.ts";

// Real shape, from a header dump of mail an Email Worker received (SendGrid sender, 2026).
const REAL =
  "i=1; mx.cloudflare.net;\r\n\tdkim=pass header.d=browserless.io header.s=s1 header.b=CiN9J/AU;\r\n" +
  "\tdmarc=pass header.from=browserless.io policy.dmarc=none;\r\n" +
  "\tspf=none (mx.cloudflare.net: no SPF records found for postmaster@s.example.sendgrid.net) smtp.helo=s.example.sendgrid.net;\r\n" +
  "\tspf=pass (mx.cloudflare.net: domain of bounces+60-b4@email.browserless.io designates 50.31.49.42 as permitted sender) smtp.mailfrom=bounces+60-b4@email.browserless.io;\r\n" +
  "\tarc=none smtp.remote-ip=50.31.49.42";

function headersOf(list: [string, string][]) {
  return {
    get: (n: string) => {
      const v = list.filter(([k]) => k.toLowerCase() === n.toLowerCase()).map(([, v]) => v);
      return v.length ? v.join(", ") : null;
    },
    all: (n: string) => list.filter(([k]) => k.toLowerCase() === n.toLowerCase()).map(([, v]) => v),
  };
}

describe("parseAuthenticationResults (RFC 8601)", () => {
  it("reads Cloudflare's real ARC results: every clause, comments dropped, properties kept", () => {
    const r = parseArcAuthenticationResults(REAL)!;
    expect(r.instance).toBe(1);
    expect(r.authservId).toBe("mx.cloudflare.net");
    expect(r.results.map((x) => `${x.method}=${x.result}`)).toEqual([
      "dkim=pass",
      "dmarc=pass",
      "spf=none",
      "spf=pass",
      "arc=none",
    ]);
    expect(r.results[3]!.props["smtp.mailfrom"]).toBe("bounces+60-b4@email.browserless.io");
    expect(r.results[0]!.props["header.d"]).toBe("browserless.io");
  });

  it("accepts a version, `none`, CFWS around = and ., quoted values and a reason", () => {
    expect(parseAuthenticationResults("example.org 1; none")).toEqual({
      authservId: "example.org",
      results: [],
    });
    expect(
      parseAuthenticationResults(
        'example.com; spf = pass (ok (nested)) smtp . mailfrom = "a b"@example.net reason="good one"',
      ),
    ).toEqual({
      authservId: "example.com",
      results: [
        {
          method: "spf",
          result: "pass",
          reason: "good one",
          props: { "smtp.mailfrom": '"a b"@example.net' },
        },
      ],
    });
  });

  it("refuses what is not that shape", () => {
    for (const bad of [
      "",
      ";",
      "example.com; spf",
      "example.com; =pass",
      "example.com; spf=pass junk",
      "example.com; spf=pass (unclosed",
      "i=1; mx.cloudflare.net; dmarc=pass",
    ]) {
      expect(parseAuthenticationResults(bad), bad).toBeNull();
    }
    expect(parseArcAuthenticationResults("mx.cloudflare.net; spf=pass smtp.mailfrom=a@b.c")).toBeNull();
  });

  it("property: never throws, and what it parses it parses again the same from its own rendering", () => {
    const word = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}[a-z0-9]$/);
    const clause = fc.record({
      method: word,
      result: word,
      props: fc.dictionary(
        fc.tuple(word, word).map(([a, b]) => `${a}.${b}`),
        word,
        { maxKeys: 3 },
      ),
    });
    fc.assert(
      fc.property(word, fc.array(clause, { minLength: 1, maxLength: 5 }), (id, clauses) => {
        const text = `${id}; ${clauses
          .map((c) =>
            [`${c.method}=${c.result}`, ...Object.entries(c.props).map(([k, v]) => `${k}=${v}`)].join(" "),
          )
          .join(";\r\n\t")}`;
        const parsed = parseAuthenticationResults(text)!;
        expect(parsed.authservId).toBe(id);
        expect(parsed.results).toEqual(clauses.map((c) => ({ ...c, reason: null })));
      }),
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        parseAuthenticationResults(s);
        parseArcAuthenticationResults(s);
      }),
    );
  });
});

describe("senderAuthentication", () => {
  const cf = (v: string) => cloudflareAuthResults(headersOf([["ARC-Authentication-Results", `i=1; ${v}`]]));

  it("spf=pass for the envelope sender's own domain, aligned dkim, or dmarc for its From", () => {
    // A bounce address as the envelope sender: SPF for its own domain.
    expect(
      senderAuthentication(
        parseArcAuthenticationResults(REAL),
        "bounces+60-b4@email.browserless.io",
        "hello@browserless.io",
      ),
    ).toEqual({ authenticated: true, via: "spf" });
    // The signed From address as the envelope sender: its domain's signature.
    expect(
      senderAuthentication(
        parseArcAuthenticationResults(REAL),
        "hello@browserless.io",
        "Hello@browserless.io",
      ),
    ).toEqual({ authenticated: true, via: "dkim" });
    expect(
      senderAuthentication(
        cf("mx.cloudflare.net; spf=pass smtp.mailfrom=a@shop.example"),
        "a@shop.example",
        null,
      ),
    ).toEqual({ authenticated: true, via: "spf" });
    expect(
      senderAuthentication(
        cf("mx.cloudflare.net; dmarc=pass header.from=shop.example"),
        "x@mail.shop.example",
        "x@mail.shop.example",
      ),
    ).toMatchObject({ authenticated: true, via: "dmarc" });
  });

  it("a signed message replayed with another envelope sender of the signer's domain is not authenticated", () => {
    // Signed by gmail.example for attacker@gmail.example, sent again from the attacker's server
    // with the victim as envelope sender: the auto-reply would go to the victim.
    const replayed = cf(
      "mx.cloudflare.net; dkim=pass header.d=gmail.example; dmarc=pass header.from=gmail.example; spf=fail smtp.mailfrom=victim@gmail.example",
    );
    expect(senderAuthentication(replayed, "victim@gmail.example", "attacker@gmail.example")).toEqual({
      authenticated: false,
      reason: "not_aligned",
    });
    expect(senderAuthentication(replayed, "victim@gmail.example", null).authenticated).toBe(false);
  });

  it("a pass for another domain, the HELO, softfail or none authenticates nobody", () => {
    for (const v of [
      "mx.cloudflare.net; spf=pass smtp.mailfrom=a@attacker.example",
      "mx.cloudflare.net; spf=pass smtp.helo=shop.example",
      "mx.cloudflare.net; spf=softfail smtp.mailfrom=a@shop.example",
      "mx.cloudflare.net; dkim=pass header.d=attacker.example; dmarc=none header.from=shop.example",
      "mx.cloudflare.net; dkim=pass header.d=example",
      // A child's signature or DMARC pass does not vouch for its parent.
      "mx.cloudflare.net; dkim=pass header.d=evil.shop.example",
      "mx.cloudflare.net; dmarc=pass header.from=evil.shop.example",
      "mx.cloudflare.net; none",
    ]) {
      expect(senderAuthentication(cf(v), "victim@shop.example", "victim@shop.example").authenticated, v).toBe(
        false,
      );
    }
  });

  it("trusts only the topmost ARC results, and only when they are Cloudflare's", () => {
    // A forged Cloudflare verdict lower down (written by the sender) under Cloudflare's real one.
    const forgedBelow = headersOf([
      ["ARC-Authentication-Results", "i=2; mx.cloudflare.net; spf=fail smtp.mailfrom=v@shop.example"],
      ["ARC-Authentication-Results", "i=1; mx.cloudflare.net; spf=pass smtp.mailfrom=v@shop.example"],
    ]);
    expect(
      senderAuthentication(cloudflareAuthResults(forgedBelow), "v@shop.example", "v@shop.example")
        .authenticated,
    ).toBe(false);
    const notCloudflare = headersOf([
      [
        "ARC-Authentication-Results",
        "i=1; mx.cloudflare.net.evil.example; spf=pass smtp.mailfrom=v@shop.example",
      ],
    ]);
    expect(cloudflareAuthResults(notCloudflare)).toBeNull();
    expect(
      cloudflareAuthResults(headersOf([["Authentication-Results", "mx.cloudflare.net; spf=pass"]])),
    ).toBeNull();
  });

  it("domainCovers: the same domain or a parent of it, never a child, never a bare TLD", () => {
    expect(domainCovers("shop.example", "SHOP.example.")).toBe(true);
    expect(domainCovers("shop.example", "mail.shop.example")).toBe(true);
    // A subdomain anyone may register cannot vouch for its parent (or a sibling).
    expect(domainCovers("evil.duckdns.org", "duckdns.org")).toBe(false);
    expect(domainCovers("mail.shop.example", "shop.example")).toBe(false);
    expect(domainCovers("example", "shop.example")).toBe(false);
    expect(domainCovers("op.example", "shop.example")).toBe(false);
    expect(domainCovers("hop.example", "shop.example")).toBe(false);
  });

  it("the sandbox's own Cloudflare block parses as Cloudflare's and says what it was asked to", async () => {
    const body = "From: a@shop.example\r\nTo: b@x.cncg.test\r\nSubject: hi\r\n\r\nhi\r\n";
    const pass = await parseEmail(cloudflareVerdictHeaders("a@shop.example") + body);
    expect(senderAuthentication(cloudflareAuthResults(pass.headers), "a@shop.example", pass.from)).toEqual({
      authenticated: true,
      via: "spf",
    });
    const fail = await parseEmail(cloudflareVerdictHeaders("a@shop.example", "fail") + body);
    expect(
      senderAuthentication(cloudflareAuthResults(fail.headers), "a@shop.example", fail.from).authenticated,
    ).toBe(false);
  });
});

describe("emailLoopReason", () => {
  it("our loop header and too many hops are a loop; Auto-Submitted other than no is automatic", () => {
    expect(emailLoopReason(headersOf([["X-Concierge-Loop", "1"]]))).toBe("loop");
    const hops = Array.from({ length: MAX_EMAIL_HOPS + 1 }, (_, i): [string, string] => [
      "Received",
      `from h${i}`,
    ]);
    expect(emailLoopReason(headersOf(hops))).toBe("loop");
    expect(emailLoopReason(headersOf(hops.slice(1)))).toBeNull();
    expect(emailLoopReason(headersOf([["Auto-Submitted", "auto-generated"]]))).toBe("auto_submitted");
    expect(emailLoopReason(headersOf([["Auto-Submitted", "No (a person)"]]))).toBeNull();
  });
});
