import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type ReplyConfig,
  matchReply,
  matchReplyLazy,
  needsEmbedding,
  parseReplyConfig,
} from "./reply-rules.ts";

const canned = (text: string) => ({ kind: "canned", text }) as const;

function config(rules: unknown[], extra: Record<string, unknown> = {}): ReplyConfig {
  const r = parseReplyConfig({ rules, default_rule: { response: canned("default") }, ...extra });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.value;
}

const kw = (id: string, keywords: string[], text = id) => ({
  id,
  matcher: { kind: "static_text", keywords },
  response: canned(text),
});

describe("parseReplyConfig", () => {
  it("accepts the seed's JSON shape and fills the documented defaults", () => {
    const c = config([
      kw("hours", ["hours", "open"]),
      {
        id: "booking",
        label: "Booking requests",
        matcher: { kind: "prompt", description: "wants to book an appointment" },
        response: { kind: "prompt", text: "Ask which service and day." },
      },
    ]);
    expect(c.enabled).toBe(true);
    expect(c.wait_seconds).toBe(5);
    expect(c.rules[1]!.matcher).toMatchObject({ kind: "prompt", threshold: 0.72 });
    expect(c.rules[1]!.approval).toBe("auto");
    expect(c.default_rule.id).toBe("default");
  });

  it("accepts a hand-off response with its holding sentence, trimmed, on a rule or the default", () => {
    const c = config(
      [
        {
          id: "person",
          matcher: { kind: "static_text", keywords: ["human"] },
          response: { kind: "handoff", text: " Hold on. " },
        },
      ],
      { default_rule: { response: { kind: "handoff", text: "A person will reply." } } },
    );
    expect(c.rules[0]!.response).toEqual({ kind: "handoff", text: "Hold on." });
    expect(c.default_rule.response).toEqual({ kind: "handoff", text: "A person will reply." });
    expect(matchReply(c, "a HUMAN please").rule.id).toBe("person");
    const empty = parseReplyConfig({ default_rule: { response: { kind: "handoff", text: " " } } });
    expect(empty.ok).toBe(false);
    expect(!empty.ok && empty.issues[0]!.path).toBe("default_rule.response.text");
    expect(parseReplyConfig({ default_rule: { response: { kind: "escalate", text: "x" } } }).ok).toBe(false);
  });

  it("rejects bad input with a path a form can show", () => {
    const cases: [unknown, string][] = [
      [{ rules: [] }, "default_rule"],
      [{ default_rule: { response: canned("x") }, wait_seconds: 31 }, "wait_seconds"],
      [{ default_rule: { response: canned("x") }, rules: [kw("a", [])] }, "rules.0.matcher.keywords"],
      [
        {
          default_rule: { response: canned("x") },
          rules: [
            { id: "p", matcher: { kind: "prompt", description: "d", threshold: 0.4 }, response: canned("x") },
          ],
        },
        "rules.0.matcher.threshold",
      ],
      [{ default_rule: { response: canned("x") }, rules: [kw("Bad Id", ["x"])] }, "rules.0.id"],
      [{ default_rule: { response: { kind: "canned", text: "  " } } }, "default_rule.response.text"],
    ];
    for (const [input, path] of cases) {
      const r = parseReplyConfig(input);
      expect(r.ok, path).toBe(false);
      if (!r.ok) expect(r.issues.map((i) => i.path)).toContain(path);
    }
  });

  it("allows at most 50 rules, each with its own id", () => {
    const many = Array.from({ length: 51 }, (_, i) => kw(`r${i}`, ["x"]));
    expect(parseReplyConfig({ rules: many, default_rule: { response: canned("x") } }).ok).toBe(false);
    expect(parseReplyConfig({ rules: many.slice(0, 50), default_rule: { response: canned("x") } }).ok).toBe(
      true,
    );
    const dup = parseReplyConfig({
      rules: [kw("a", ["x"]), kw("a", ["y"])],
      default_rule: { response: canned("x") },
    });
    expect(dup.ok).toBe(false);
  });
});

describe("matchReply", () => {
  it("matches keywords as case-insensitive substrings, first rule wins", () => {
    const c = config([kw("hours", ["Opening Hours", "open"]), kw("menu", ["menu", "open"])]);
    expect(matchReply(c, "when do you OPEN?")).toMatchObject({
      via: "keyword",
      rule: { id: "hours" },
      keyword: "open",
    });
    expect(matchReply(c, "send the MENU")).toMatchObject({ via: "keyword", rule: { id: "menu" } });
    expect(matchReply(c, "nothing here")).toMatchObject({ via: "default", rule: { id: "default" } });
  });

  it("matches across scripts and width forms after normalization", () => {
    const c = config([kw("hello", ["مرحبا"]), kw("full", ["ＭＥＮＵ"])]);
    expect(matchReply(c, "أهلا مرحبا!")).toMatchObject({ rule: { id: "hello" } });
    expect(matchReply(c, "menu please")).toMatchObject({ rule: { id: "full" } });
  });

  it("uses embedding scores only at or above the rule's threshold, in rule order", () => {
    const c = config([
      {
        id: "book",
        matcher: { kind: "prompt", description: "booking", threshold: 0.8 },
        response: canned("b"),
      },
      kw("hours", ["hours"]),
    ]);
    expect(needsEmbedding(c)).toBe(true);
    expect(matchReply(c, "hours?", () => 0.79)).toMatchObject({ via: "keyword", rule: { id: "hours" } });
    expect(matchReply(c, "hours?", () => 0.8)).toMatchObject({
      via: "embedding",
      score: 0.8,
      rule: { id: "book" },
    });
    expect(matchReply(c, "hours?", () => null)).toMatchObject({ via: "keyword" });
    expect(needsEmbedding(config([kw("a", ["a"])]))).toBe(false);
  });

  it("always picks the first rule any of whose keywords occurs in the text (property)", () => {
    const word = fc.stringMatching(/^[a-z]{1,6}$/);
    fc.assert(
      fc.property(
        fc.array(fc.array(word, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 8 }),
        fc.array(word, { maxLength: 6 }),
        fc.boolean(),
        (keywordSets, words, shout) => {
          const c = config(keywordSets.map((k, i) => kw(`r${i}`, k)));
          const text = shout ? words.join(" ").toUpperCase() : words.join(" ");
          const expected = keywordSets.findIndex((ks) => ks.some((k) => text.toLowerCase().includes(k)));
          const m = matchReply(c, text);
          if (expected === -1) expect(m.via).toBe("default");
          else expect(m.rule.id).toBe(`r${expected}`);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("matchReplyLazy", () => {
  const intent = (id: string, threshold = 0.8) => ({
    id,
    matcher: { kind: "prompt", description: id, threshold },
    response: canned(id),
  });

  it("asks for a similarity only when the walk reaches an intent rule", async () => {
    const c = config([kw("hours", ["hours"]), intent("book"), kw("menu", ["menu"]), intent("cater")]);
    const asked: string[] = [];
    const similarity = async (rule: { id: string }) => {
      asked.push(rule.id);
      return rule.id === "cater" ? 0.9 : 0.1;
    };
    expect(await matchReplyLazy(c, "your hours?", similarity)).toMatchObject({
      via: "keyword",
      rule: { id: "hours" },
    });
    expect(asked).toEqual([]);
    expect(await matchReplyLazy(c, "the menu?", similarity)).toMatchObject({
      via: "keyword",
      rule: { id: "menu" },
    });
    expect(asked).toEqual(["book"]);
    expect(await matchReplyLazy(c, "a party", similarity)).toMatchObject({
      via: "embedding",
      rule: { id: "cater" },
    });
    expect(await matchReplyLazy(c, "hello", async () => null)).toMatchObject({ via: "default" });
  });

  it("says which intent came closest when the default answers, with its score and threshold", async () => {
    const c = config([intent("book", 0.8), kw("menu", ["menu"]), intent("cater", 0.6), intent("event", 0.9)]);
    const scores: Record<string, number | null> = { book: 0.7, cater: 0.55, event: 0.85 };
    const m = await matchReplyLazy(c, "hello", async (r) => scores[r.id] ?? null);
    // event's 0.85 is the highest score, even though it is further from its own threshold than book.
    expect(m).toMatchObject({
      via: "default",
      closest: { rule: { id: "event" }, score: 0.85, threshold: 0.9 },
    });
    // A tie goes to the earlier rule; an intent that could not be scored (embedder down) is no candidate.
    expect(matchReply(c, "hello", (r) => (r.id === "event" ? null : 0.5))).toMatchObject({
      via: "default",
      closest: { rule: { id: "book" }, score: 0.5 },
    });
    expect(matchReply(c, "hello", () => null)).toMatchObject({ via: "default", closest: null });
    expect(matchReply(config([kw("menu", ["menu"])]), "hello")).toMatchObject({
      via: "default",
      closest: null,
    });
  });

  it("the closest miss is the best score below its threshold of all intents (property)", () => {
    const c = config([intent("a", 0.6), kw("k", ["x"]), intent("b", 0.7), intent("c", 0.9)]);
    fc.assert(
      fc.property(
        fc.option(fc.double({ min: 0, max: 1, noNaN: true })),
        fc.option(fc.double({ min: 0, max: 1, noNaN: true })),
        fc.option(fc.double({ min: 0, max: 1, noNaN: true })),
        (sa, sb, sc) => {
          const s: Record<string, number | null> = { a: sa, b: sb, c: sc };
          const m = matchReply(c, "z", (r) => s[r.id] ?? null);
          if (m.via !== "default") return;
          const scored = ["a", "b", "c"].filter((id) => s[id] !== null);
          if (scored.length === 0) expect(m.closest).toBeNull();
          else expect(m.closest?.score).toBe(Math.max(...scored.map((id) => s[id]!)));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("picks what matchReply picks, for any scores (property)", async () => {
    const c = config([intent("a", 0.6), kw("k", ["x"]), intent("b", 0.7), kw("j", ["y"])]);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("x", "y", "xy", "z", ""),
        fc.option(fc.double({ min: 0, max: 1, noNaN: true })),
        fc.option(fc.double({ min: 0, max: 1, noNaN: true })),
        async (text, sa, sb) => {
          const score = (rule: { id: string }) => (rule.id === "a" ? sa : sb);
          expect(await matchReplyLazy(c, text, async (r) => score(r))).toEqual(matchReply(c, text, score));
        },
      ),
    );
  });
});
