import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { formatMoney, formatNumber, hasMessage, LOCALES, translator } from "./index.ts";

const repo = path.join(import.meta.dirname, "../../..");

/** Every `t("id"` / `msg("id"` in the Workers' and packages' source. */
function idsUsedInCode(): string[] {
  const ids = new Set<string>();
  for (const top of ["apps", "packages"]) {
    for (const entry of readdirSync(path.join(repo, top), { recursive: true, withFileTypes: true })) {
      const file = path.join(entry.parentPath, entry.name);
      if (
        !entry.isFile() ||
        !file.endsWith(".ts") ||
        file.includes("node_modules") ||
        file.endsWith(".test.ts")
      )
        continue;
      for (const m of readFileSync(file, "utf8").matchAll(/\b(?:t|msg)\(\s*"([a-z0-9-]+)"/g)) ids.add(m[1]!);
    }
  }
  return [...ids].sort();
}

describe("messages", () => {
  it("ships en-IN and en-US", () => {
    expect([...LOCALES].sort()).toEqual(["en-IN", "en-US"]);
  });

  it("has every message the code uses in every shipped locale", () => {
    const used = idsUsedInCode();
    expect(used.length).toBeGreaterThan(0);
    expect(used.filter((id) => !hasMessage(id))).toEqual([]);
  });

  it("formats arguments and plurals", () => {
    const t = translator("en-US");
    expect(t("notify-low-balance", { balance: 1 })).toContain("down to 1 AI reply.");
    expect(t("notify-low-balance", { balance: 5 })).toContain("down to 5 AI replies.");
    expect(() => t("no-such-message")).toThrow(/missing message/);
    expect(translator("fr-FR")("channel-whatsapp")).toBe("WhatsApp");
  });
});

describe("numbers and money", () => {
  it("groups Indian style in en-IN and Western style in en-US", () => {
    expect(formatNumber("en-IN", 100000)).toBe("1,00,000");
    expect(formatNumber("en-US", 100000)).toBe("100,000");
  });

  it("writes money from minor units in the locale's way", () => {
    expect(formatMoney("en-IN", "INR", 10_000_000)).toBe("₹1,00,000");
    expect(formatMoney("en-US", "USD", 10_000_000)).toBe("$100,000");
    // The packs' prices: whole amounts without ".00".
    expect(formatMoney("en-IN", "INR", 49_900)).toBe("₹499");
    expect(formatMoney("en-IN", "INR", 699_900)).toBe("₹6,999");
    expect(formatMoney("en-US", "USD", 900)).toBe("$9");
    // Anything else keeps every minor digit.
    expect(formatMoney("en-IN", "INR", 12_345_650)).toBe("₹1,23,456.50");
    expect(formatMoney("en-US", "USD", 12_345_650)).toBe("$123,456.50");
    expect(formatMoney("en-US", "USD", 2_999)).toBe("$29.99");
    expect(formatMoney("en-US", "USD", 1)).toBe("$0.01");
    // Either currency in either locale: the locale decides the grouping.
    expect(formatMoney("en-IN", "USD", 10_000_000)).toBe("$1,00,000");
    expect(formatMoney("en-US", "INR", 10_000_000)).toBe("₹100,000");
    // A currency without minor units counts whole units.
    expect(formatMoney("en-US", "JPY", 1500)).toBe("¥1,500");
  });
});
