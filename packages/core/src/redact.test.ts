import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createLogger, errorFields } from "./logger.ts";
import { REDACTED, redactUrl, redactUrls } from "./redact.ts";

// A secret is anything at all behind this marker, so "the output has no marker" means no value
// (or fragment) survived, however it was encoded.
const MARK = "SeCrEt";
const secret = fc.string({ unit: "grapheme", maxLength: 30 }).map((s) => `${MARK}${s}`);
const key = fc.stringMatching(/^[a-z][a-z0-9_.]{0,11}$/);
const params = fc.array(fc.tuple(key, secret), { minLength: 1, maxLength: 5 });

/** A URL as a Worker sees it: the request's URL, parsed and serialized by WHATWG URL. */
function requestUrl(base: string, pairs: [string, string][], fragment: string | null): string {
  const u = new URL(base);
  for (const [k, v] of pairs) u.searchParams.append(k, v);
  if (fragment !== null) u.hash = fragment;
  return u.toString();
}

describe("redactUrl", () => {
  it("keeps the keys and replaces each value", () => {
    expect(redactUrl("https://dash.test/email/verify?token=abc123")).toBe(
      `https://dash.test/email/verify?token=${REDACTED}`,
    );
    expect(redactUrl("/admin/instagram/callback?code=AQD&state=xyz#_=_")).toBe(
      `/admin/instagram/callback?code=${REDACTED}&state=${REDACTED}#${REDACTED}`,
    );
    expect(redactUrl(new URL("https://x.test/a?bare&k=v=w"))).toBe(
      `https://x.test/a?${REDACTED}&k=${REDACTED}`,
    );
    expect(redactUrl("https://x.test/a/b")).toBe("https://x.test/a/b");
  });

  it("leaves no query value or fragment of any URL (property)", () => {
    fc.assert(
      fc.property(fc.webUrl(), params, fc.option(secret), (base, pairs, fragment) => {
        const url = requestUrl(base, pairs, fragment);
        const out = redactUrl(url);
        expect(out).not.toContain(MARK);
        expect(out).not.toContain(encodeURIComponent(MARK));
        for (const [k] of pairs) expect(out).toContain(`${k}=${REDACTED}`);
      }),
      { numRuns: 500 },
    );
  });
});

describe("redactUrls", () => {
  it("redacts a URL quoted inside a message and leaves other text alone", () => {
    expect(redactUrls("fetch to https://graph.test/me?access_token=EAAB failed: timeout")).toBe(
      `fetch to https://graph.test/me?access_token=${REDACTED} failed: timeout`,
    );
    expect(redactUrls("is it done? yes")).toBe("is it done? yes");
    expect(redactUrls("no query here")).toBe("no query here");
  });

  it("leaves no query value of any URL anywhere in a text (property)", () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 20 }),
        fc.webUrl(),
        params,
        fc.option(secret),
        fc.string({ maxLength: 20 }),
        (before, base, pairs, fragment, after) => {
          const url = requestUrl(base, pairs, fragment);
          const out = redactUrls(`${before.replaceAll(MARK, "")} ${url} ${after.replaceAll(MARK, "")}`);
          expect(out).not.toContain(MARK);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("the logger", () => {
  it("redacts query values in every string field and in error messages (property)", () => {
    fc.assert(
      fc.property(fc.webUrl(), params, (base, pairs) => {
        const lines: string[] = [];
        const log = createLogger("svc", { at: requestUrl(base, pairs, null) }, (l) => lines.push(l));
        const url = requestUrl(base, pairs, null);
        log.warn("request.failed", {
          url,
          path: new URL(url).pathname + new URL(url).search,
          ...errorFields(new TypeError(`could not fetch ${url}`)),
        });
        expect(lines.join("\n")).not.toContain(MARK);
      }),
      { numRuns: 300 },
    );
  });

  it("keeps the keys, so a line still says what was asked", () => {
    const lines: string[] = [];
    createLogger("svc", {}, (l) => lines.push(l)).info("request", {
      url: "https://dash.test/email/verify?token=tok_1",
    });
    expect(JSON.parse(lines[0]!).url).toBe(`https://dash.test/email/verify?token=${REDACTED}`);
  });
});
