import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HANDOFF_FALLBACK, extractHandoff } from "./handoff.ts";

const sentinelSpelling = fc.constantFrom(
  "[[HANDOFF]]",
  "[[handoff]]",
  "[[ HandOff ]]",
  "[[  HANDOFF]]",
  "[[Handoff ]]",
);
const noBrackets = fc.string({ maxLength: 80 }).map((s) => s.replace(/[[\]]/g, ""));

describe("extractHandoff", () => {
  it("strips the sentinel at the end, the start or the middle, in any case", () => {
    expect(extractHandoff("A person will reply soon. [[HANDOFF]]")).toEqual({
      handoff: true,
      text: "A person will reply soon.",
    });
    expect(extractHandoff("[[handoff]] Someone will call you.")).toEqual({
      handoff: true,
      text: "Someone will call you.",
    });
    expect(extractHandoff("Sure [[ HandOff ]] thing")).toEqual({ handoff: true, text: "Sure thing" });
  });

  it("leaves a reply without the sentinel exactly as it is", () => {
    expect(extractHandoff("  Our hours are 9–5. [[not a handoff]] ")).toEqual({
      handoff: false,
      text: "  Our hours are 9–5. [[not a handoff]] ",
    });
  });

  it("catches a sentinel that forms only once an inner one is removed", () => {
    expect(extractHandoff("Ok [[HAND[[HANDOFF]]OFF]]")).toEqual({ handoff: true, text: "Ok [[HAND OFF]]" });
    expect(extractHandoff("Ok [[[[handoff]]handoff]]")).toEqual({ handoff: true, text: "Ok" });
  });

  it("falls back to a polite sentence when nothing readable is left", () => {
    for (const reply of ["[[HANDOFF]]", "  [[handoff]] ", "… [[HANDOFF]] !"]) {
      expect(extractHandoff(reply)).toEqual({ handoff: true, text: HANDOFF_FALLBACK });
    }
  });

  it("never lets a sentinel through, wherever and however often it appears (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(noBrackets, fc.option(sentinelSpelling)), { maxLength: 6 }), (pieces) => {
        const reply = pieces.map(([text, s]) => text + (s ?? "")).join("");
        const inserted = pieces.some(([, s]) => s !== null);
        const r = extractHandoff(reply);
        expect(r.handoff).toBe(inserted);
        expect(/\[\[\s*handoff\s*\]\]/i.test(r.text)).toBe(false);
        if (!inserted) expect(r.text).toBe(reply);
        else {
          expect(r.text).toBe(r.text.trim());
          expect(r.text.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 500 },
    );
  });
});
