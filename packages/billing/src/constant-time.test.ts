import { describe, expect, it, vi } from "vitest";

// The comparison itself must be @concierge/crypto's constant-time one (never `===`, which returns
// at the first differing character): every check is observed going through it.
const compared = vi.hoisted(() => [] as [string, string][]);
vi.mock("@concierge/crypto", async (importOriginal) => {
  const real = await importOriginal<typeof import("@concierge/crypto")>();
  return {
    ...real,
    timingSafeEqualString: (a: string, b: string) => {
      compared.push([a, b]);
      return real.timingSafeEqualString(a, b);
    },
  };
});

const { checkoutSignatureValid, subscriptionSignatureValid, webhookSignatureValid } = await import(
  "./signatures.ts"
);

describe("constant-time comparison", () => {
  it("every signature check compares through timingSafeEqualString", async () => {
    const sig = "a".repeat(64);
    expect(await checkoutSignatureValid("k", "order_A", "pay_B", sig)).toBe(false);
    expect(await subscriptionSignatureValid("k", "pay_B", "sub_C", sig)).toBe(false);
    expect(await webhookSignatureValid("w", new TextEncoder().encode("{}"), sig)).toBe(false);
    expect(compared).toHaveLength(3);
    for (const [expected, given] of compared) {
      expect(given).toBe(sig);
      expect(expected).toMatch(/^[0-9a-f]{64}$/);
    }
  });
});
