import { describe, expect, it } from "vitest";
import {
  isChargeableAmount,
  refundCreditShare,
  savingsPercent,
  subscriptionAmount,
  unitPrice,
} from "./prices.ts";

describe("prices", () => {
  it("unit prices and savings against the smallest pack (the seeded INR packs)", () => {
    const small = { credits: 100, amount: 49900 };
    expect(unitPrice(small)).toBe(499);
    expect(savingsPercent({ credits: 500, amount: 199900 }, small)).toBe(19);
    expect(savingsPercent({ credits: 2000, amount: 699900 }, small)).toBe(29);
    expect(savingsPercent(small, small)).toBe(0);
    expect(savingsPercent({ credits: 10, amount: 9900 }, small)).toBe(0);
  });

  it("chargeable amounts are whole and at least 1.00", () => {
    expect(isChargeableAmount("INR", 100)).toBe(true);
    expect(isChargeableAmount("INR", 99)).toBe(false);
    expect(isChargeableAmount("USD", 100.5)).toBe(false);
  });

  it("a subscription cycle is the plan's price times the extra subdomains", () => {
    expect(subscriptionAmount(49900, 3)).toBe(149700);
    expect(() => subscriptionAmount(49900, 0)).toThrow(RangeError);
  });
});

describe("refund credit shares", () => {
  it("proportional to the amount refunded, rounded down, and never more than the credits", () => {
    const p = { credits: 100, amount: 49900, amountRefunded: 0 };
    expect(refundCreditShare(p, 24950)).toBe(50);
    expect(refundCreditShare(p, 49900)).toBe(100);
    expect(refundCreditShare(p, 99999)).toBe(100);
    expect(refundCreditShare(p, 1)).toBe(0);
  });

  it("partial refunds in any steps add up to exactly the credits at a full refund", () => {
    for (const [credits, amount] of [
      [100, 49900],
      [500, 199900],
      [2000, 9900],
      [7, 300],
    ] as const) {
      for (const steps of [2, 3, 7, 13]) {
        let refunded = 0;
        let taken = 0;
        for (let i = 0; i < steps; i++) {
          const part = i === steps - 1 ? amount - refunded : Math.floor(amount / steps);
          const share = refundCreditShare({ credits, amount, amountRefunded: refunded }, part);
          expect(share).toBeGreaterThanOrEqual(0);
          // Never more than the refunded fraction of the credits so far.
          expect(taken + share).toBeLessThanOrEqual(Math.floor((credits * (refunded + part)) / amount));
          refunded += part;
          taken += share;
        }
        expect(taken, `${credits} credits for ${amount} in ${steps} refunds`).toBe(credits);
      }
    }
  });
});
