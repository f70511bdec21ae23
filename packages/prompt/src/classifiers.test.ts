import { describe, expect, it } from "vitest";
import { readVerdict } from "./classifiers.ts";

describe("readVerdict", () => {
  it("reads safe and unsafe answers, with or without a reason", () => {
    expect(readVerdict("safe")).toEqual({ safe: true, reason: null });
    expect(readVerdict("  SAFE.\nanything")).toEqual({ safe: true, reason: null });
    expect(readVerdict("unsafe: asks to deceive customers")).toEqual({
      safe: false,
      reason: "asks to deceive customers",
    });
    expect(readVerdict("Unsafe")).toEqual({ safe: false, reason: "unreadable verdict" });
  });

  it("treats anything it cannot read as unsafe", () => {
    expect(readVerdict("")).toMatchObject({ safe: false });
    expect(readVerdict("I think it is probably fine")).toMatchObject({ safe: false });
    expect(readVerdict("safely unsafe")).toMatchObject({ safe: false });
  });
});
