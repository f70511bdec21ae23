import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { configReport, isConfigSet } from "./config-report.ts";
import { WorkerConfigReportSchema } from "./contracts/operator.ts";

describe("configReport", () => {
  const names = { required: ["DB", "SECRET", "URL"], optional: ["FEATURE_ID", "OTHER"], unchecked: ["KNOB"] };

  it("names what is missing or empty, required apart from optional, and never a value", () => {
    const env = { DB: {}, SECRET: "s3cret-value", URL: "  ", FEATURE_ID: "", KNOB: undefined };
    const report = configReport("meta-webhooks", env, names);
    expect(report).toEqual({
      worker: "meta-webhooks",
      missing: ["URL"],
      optionalMissing: ["FEATURE_ID", "OTHER"],
    });
    expect(JSON.stringify(report)).not.toContain("s3cret-value");
    expect(v.is(WorkerConfigReportSchema, report)).toBe(true);
  });

  it("counts a binding as set whatever it is, a string only when it is not blank", () => {
    expect(isConfigSet({ X: 0 }, "X")).toBe(true);
    expect(isConfigSet({ X: false }, "X")).toBe(true);
    expect(isConfigSet({ X: null }, "X")).toBe(false);
    expect(isConfigSet({ X: "\t" }, "X")).toBe(false);
    expect(isConfigSet({}, "X")).toBe(false);
  });
});
