import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  compileEmailRouting,
  type EmailAction,
  type EmailFacts,
  type EmailRouting,
  type EmailRoutingRule,
  globMatch,
  parseEmailRouting,
  routeEmail,
} from "./email-routing.ts";

const facts = (over: Partial<EmailFacts> = {}): EmailFacts => ({
  from: "priya@customer.example",
  to: "hello@acme.cncg.email",
  subject: "Do you deliver on Sundays?",
  body: "Hi, do you deliver to Koramangala on Sundays?",
  hasAttachment: false,
  ...over,
});

const rule = (
  id: string,
  when: EmailRoutingRule["when"],
  action: EmailAction,
  priority = 100,
): EmailRoutingRule => ({
  id,
  name: id,
  priority,
  when,
  action,
});

const route = (rules: EmailRoutingRule[], f: EmailFacts, defaultAction: EmailAction = { kind: "relay" }) =>
  routeEmail(compileEmailRouting({ rules, defaultAction }), f);

/** The obvious regex translation, used as an oracle for the hand-written matcher. */
function referenceGlob(pattern: string, value: string): boolean {
  let src = "";
  for (const ch of pattern) {
    if (ch === "*") src += ".*";
    else if (ch === "?") src += ".";
    else src += ch.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
  }
  return new RegExp(`^${src}$`, "isu").test(value);
}

describe("globMatch", () => {
  it("matches whole strings, case-insensitively, with * matching any run and ? as one character", () => {
    expect(globMatch("*refund*", "I would like a REFUND please")).toBe(true);
    expect(globMatch("refund", "refund please")).toBe(false);
    expect(globMatch("*@customer.example", "Priya@Customer.Example")).toBe(true);
    expect(globMatch("*@customer.example", "priya@customer.example.evil")).toBe(false);
    expect(globMatch("order ????", "Order 1042")).toBe(true);
    expect(globMatch("order ????", "Order 10423")).toBe(false);
    expect(globMatch("a*", "a")).toBe(true);
    expect(globMatch("*", "")).toBe(true);
    expect(globMatch("?", "")).toBe(false);
  });

  it("treats regex metacharacters as literals", () => {
    expect(globMatch("price (eur) [1.5]+", "Price (EUR) [1.5]+")).toBe(true);
    expect(globMatch("a.c", "abc")).toBe(false);
    expect(globMatch("^$|\\", "^$|\\")).toBe(true);
  });

  it("counts ? per code point and folds non-ASCII case", () => {
    expect(globMatch("?", "😀")).toBe(true);
    expect(globMatch("??", "😀")).toBe(false);
    expect(globMatch("CAFÉ *", "café brunch")).toBe(true);
    expect(globMatch("配達*", "配達について")).toBe(true);
  });

  it("answers quickly on patterns that make backtracking regexes explode", () => {
    const body = "a".repeat(16_384);
    const start = performance.now();
    expect(globMatch("*a*a*a*a*a*a*a*a*b", body)).toBe(false);
    expect(globMatch(`${"*a".repeat(50)}*b`, body)).toBe(false);
    expect(performance.now() - start).toBeLessThan(2000);
  });

  const alphabet = fc.constantFrom(..."aAbB*?.+()[]\\^$|éÉ".split(""));
  const noWild = fc.constantFrom(..."aAbB.+()[]\\^$|éÉ xZ".split(""));
  const str = (chars: fc.Arbitrary<string>, maxLength = 12) =>
    fc.array(chars, { maxLength }).map((a) => a.join(""));

  it("property: a pattern without wildcards matches exactly its own string, ignoring case", () => {
    fc.assert(
      fc.property(str(noWild), str(noWild), (p, s) => {
        expect(globMatch(p, p)).toBe(true);
        expect(globMatch(p, p.toUpperCase())).toBe(true);
        expect(globMatch(p, s)).toBe(p.toLowerCase() === s.toLowerCase());
      }),
    );
  });

  it("property: * matches every string", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), (s) => {
        expect(globMatch("*", s)).toBe(true);
      }),
    );
  });

  it("property: pre* matches exactly the strings starting with pre", () => {
    fc.assert(
      fc.property(str(noWild, 5), fc.string(), (pre, s) => {
        expect(globMatch(`${pre}*`, pre + s)).toBe(true);
        expect(globMatch(`${pre}*`, s)).toBe(s.toLowerCase().startsWith(pre.toLowerCase()));
      }),
    );
  });

  it("property: n question marks match exactly the strings of n code points", () => {
    fc.assert(
      fc.property(fc.nat(8), fc.string({ unit: "binary", maxLength: 10 }), (n, s) => {
        expect(globMatch("?".repeat(n), s)).toBe(Array.from(s).length === n);
      }),
    );
  });

  it("property: agrees with a regex translation on random patterns and strings", () => {
    fc.assert(
      fc.property(str(alphabet), str(alphabet, 16), (p, s) => {
        expect(globMatch(p, s)).toBe(referenceGlob(p, s));
      }),
      { numRuns: 2000 },
    );
  });
});

describe("routeEmail", () => {
  it("falls back to the default action with no rule when nothing matches", () => {
    const r = route([rule("r1", { from: "*@other.example" }, { kind: "drop" })], facts(), {
      kind: "auto_reply",
    });
    expect(r).toEqual({ rule: null, action: { kind: "auto_reply" } });
    expect(route([], facts()).action).toEqual({ kind: "relay" });
  });

  it("matches each criterion against its own fact", () => {
    const drop = { kind: "drop" } as const;
    expect(route([rule("f", { from: "*@customer.example" }, drop)], facts()).rule?.id).toBe("f");
    expect(
      route([rule("f", { from: "*@customer.example" }, drop)], facts({ from: "x@y.example" })).rule,
    ).toBe(null);
    expect(route([rule("t", { to: "hello@*" }, drop)], facts()).rule?.id).toBe("t");
    expect(route([rule("t", { to: "sales@*" }, drop)], facts()).rule).toBe(null);
    expect(route([rule("s", { subject: "*sunday*" }, drop)], facts()).rule?.id).toBe("s");
    expect(route([rule("s", { subject: "sunday" }, drop)], facts()).rule).toBe(null);
    expect(route([rule("b", { body: "*koramangala*" }, drop)], facts()).rule?.id).toBe("b");
    expect(route([rule("b", { body: "*indiranagar*" }, drop)], facts()).rule).toBe(null);
    expect(route([rule("a", { hasAttachment: true }, drop)], facts({ hasAttachment: true })).rule?.id).toBe(
      "a",
    );
    expect(route([rule("a", { hasAttachment: true }, drop)], facts()).rule).toBe(null);
    expect(route([rule("a", { hasAttachment: false }, drop)], facts()).rule?.id).toBe("a");
  });

  it("needs every given criterion to hold", () => {
    const r = rule("both", { from: "*@customer.example", hasAttachment: true }, { kind: "drop" });
    expect(route([r], facts()).rule).toBe(null);
    expect(route([r], facts({ hasAttachment: true })).rule?.id).toBe("both");
    expect(route([r], facts({ hasAttachment: true, from: "a@b.example" })).rule).toBe(null);
  });

  it("lets the last matching rule in priority order win, whatever the list order", () => {
    const broad = rule("broad", { from: "*@customer.example" }, { kind: "drop" }, 10);
    const narrow = rule("narrow", { subject: "*sunday*" }, { kind: "forward", addressId: "fa_1" }, 20);
    const other = rule("other", { subject: "*invoice*" }, { kind: "reject", reason: "No invoices" }, 30);
    for (const rules of [
      [broad, narrow, other],
      [other, narrow, broad],
      [narrow, other, broad],
    ]) {
      const r = route(rules, facts());
      expect(r.rule?.id).toBe("narrow");
      expect(r.action).toEqual({ kind: "forward", addressId: "fa_1" });
    }
    expect(route([broad, narrow], facts({ subject: "hello" })).rule?.id).toBe("broad");
  });

  it("breaks priority ties by list order, the later rule winning", () => {
    const a = rule("a", { from: "*" }, { kind: "drop" }, 5);
    const b = rule("b", { to: "*" }, { kind: "relay" }, 5);
    expect(route([a, b], facts()).rule?.id).toBe("b");
    expect(route([b, a], facts()).rule?.id).toBe("a");
  });

  it("property: the result is the last matching rule of the stable priority order", () => {
    const ruleArb = fc.record({
      priority: fc.integer({ min: 0, max: 5 }),
      when: fc.oneof(
        fc.record({ subject: fc.constantFrom("*a*", "*b*", "*", "x") }),
        fc.record({ hasAttachment: fc.boolean() }),
        fc.record({ from: fc.constantFrom("*@customer.example", "*@other.example") }),
      ),
    });
    fc.assert(
      fc.property(
        fc.array(ruleArb, { maxLength: 12 }),
        fc.constantFrom("a", "b", "ab", "x", ""),
        fc.boolean(),
        (specs, subject, hasAttachment) => {
          const rules = specs.map((s, i) => rule(`r${i}`, s.when, { kind: "drop" }, s.priority));
          const f = facts({ subject, hasAttachment });
          const matches = (r: EmailRoutingRule) =>
            (r.when.subject === undefined || globMatch(r.when.subject, f.subject)) &&
            (r.when.from === undefined || globMatch(r.when.from, f.from)) &&
            (r.when.hasAttachment === undefined || r.when.hasAttachment === f.hasAttachment);
          const ordered = rules
            .map((r, i) => ({ r, i }))
            .sort((x, y) => x.r.priority - y.r.priority || x.i - y.i)
            .map((x) => x.r);
          const expected = ordered.filter(matches).at(-1) ?? null;
          expect(route(rules, f).rule).toBe(expected);
        },
      ),
    );
  });

  it("property: reordering rules of distinct priorities does not change the result", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 10_000 }), { minLength: 1, maxLength: 8 }),
        fc.func(fc.boolean()),
        (priorities, pick) => {
          const rules = priorities.map((p, i) =>
            rule(`r${i}`, pick(i) ? { subject: "*sunday*" } : { subject: "nothing" }, { kind: "drop" }, p),
          );
          const expected = route(rules, facts()).rule;
          expect(route([...rules].reverse(), facts()).rule).toBe(expected);
          expect(
            route(
              [...rules].sort((x, y) => x.id.localeCompare(y.id)),
              facts(),
            ).rule,
          ).toBe(expected);
        },
      ),
    );
  });
});

describe("parseEmailRouting", () => {
  const valid: EmailRouting = {
    rules: [
      rule("r1", { body: "*refund*" }, { kind: "forward", addressId: "fa_1" }, 10),
      rule("r2", { hasAttachment: true }, { kind: "reject", reason: "Attachments are not accepted here." }),
    ],
    defaultAction: { kind: "relay" },
  };

  it("accepts a valid configuration and fills a missing name", () => {
    const r = parseEmailRouting({ ...valid, rules: [{ ...valid.rules[0], name: undefined }] });
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.routing.rules[0]!.name).toBe("");
    expect(parseEmailRouting(valid)).toEqual({ ok: true, routing: valid });
  });

  it("refuses a rule without conditions, duplicate ids, and bad priorities", () => {
    const noCriteria = parseEmailRouting({ ...valid, rules: [{ ...valid.rules[0], when: {} }] });
    expect(noCriteria.ok).toBe(false);
    if (!noCriteria.ok) expect(noCriteria.issues.join("\n")).toContain("at least one condition");
    expect(parseEmailRouting({ ...valid, rules: [valid.rules[0], valid.rules[0]] }).ok).toBe(false);
    for (const priority of [-1, 10_001, 1.5]) {
      expect(parseEmailRouting({ ...valid, rules: [{ ...valid.rules[0], priority }] }).ok).toBe(false);
    }
  });

  it("refuses reject reasons that could break an SMTP reply line", () => {
    for (const reason of ["", "no\r\nRCPT TO:<x@y>", "tab\there", "x".repeat(201), "nul\u0000"]) {
      const r = parseEmailRouting({ rules: [], defaultAction: { kind: "reject", reason } });
      expect(r.ok, JSON.stringify(reason)).toBe(false);
    }
    expect(
      parseEmailRouting({ rules: [], defaultAction: { kind: "reject", reason: "Pas ici, désolé" } }).ok,
    ).toBe(true);
  });

  it("refuses empty or over-long patterns, unknown actions and more than 100 rules", () => {
    expect(parseEmailRouting({ ...valid, rules: [{ ...valid.rules[0], when: { from: "" } }] }).ok).toBe(
      false,
    );
    expect(
      parseEmailRouting({ ...valid, rules: [{ ...valid.rules[0], when: { from: "x".repeat(201) } }] }).ok,
    ).toBe(false);
    expect(parseEmailRouting({ rules: [], defaultAction: { kind: "explode" } }).ok).toBe(false);
    expect(parseEmailRouting({ rules: [], defaultAction: { kind: "forward" } }).ok).toBe(false);
    const many = Array.from({ length: 101 }, (_, i) => rule(`r${i}`, { from: "*" }, { kind: "drop" }));
    expect(parseEmailRouting({ rules: many, defaultAction: { kind: "drop" } }).ok).toBe(false);
    expect(parseEmailRouting({ rules: many.slice(0, 100), defaultAction: { kind: "drop" } }).ok).toBe(true);
    expect(parseEmailRouting("nope").ok).toBe(false);
  });
});
