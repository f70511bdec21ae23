/**
 * Price arithmetic, in integer minor units (paise, cents) as Razorpay and D1 keep them. Prices
 * themselves are data (credit_packs, subdomain_plans in D1), never constants here.
 */
import type { CreditPack, Currency } from "@concierge/core";

/** Both currencies have two decimals: 100 minor units to the major unit. */
export const MINOR_UNITS: Record<Currency, number> = { INR: 100, USD: 100 };

/** Razorpay refuses orders below 1.00 of the currency (INR documented; USD the same on its US docs). */
export const MIN_AMOUNT: Record<Currency, number> = { INR: 100, USD: 100 };

/** Whether `amount` (minor units) is a whole amount Razorpay accepts for an order in `currency`. */
export function isChargeableAmount(currency: Currency, amount: number): boolean {
  return Number.isSafeInteger(amount) && amount >= MIN_AMOUNT[currency];
}

/** Minor units per credit (fractional: ₹499 for 100 credits is 499 paise each). */
export function unitPrice(pack: Pick<CreditPack, "credits" | "amount">): number {
  return pack.amount / pack.credits;
}

/**
 * How much cheaper per credit `pack` is than `reference` (usually the smallest pack), in whole
 * percent rounded down; 0 when it is not cheaper.
 */
export function savingsPercent(
  pack: Pick<CreditPack, "credits" | "amount">,
  reference: Pick<CreditPack, "credits" | "amount">,
): number {
  const saved = 1 - unitPrice(pack) / unitPrice(reference);
  return saved > 0 ? Math.floor(saved * 100 + 1e-9) : 0;
}

/** What one cycle of the email-subdomain subscription costs: the plan's price × the extra subdomains. */
export function subscriptionAmount(planAmount: number, quantity: number): number {
  if (!Number.isInteger(quantity) || quantity < 1)
    throw new RangeError("quantity must be a whole number ≥ 1");
  return planAmount * quantity;
}

/**
 * The credits a refund's share is worth, as `takeBackRefund` computes it in SQL: the refunded
 * total after it is worth `credits × total ÷ amount` (rounded down), minus what the total before
 * it was worth, so partial refunds add up to exactly `credits` at a full refund. What is actually
 * taken back is at most what the payment's lot still holds.
 */
export function refundCreditShare(
  payment: { credits: number; amount: number; amountRefunded: number },
  refundAmount: number,
): number {
  const { credits, amount, amountRefunded } = payment;
  const after = Math.min(amount, amountRefunded + refundAmount);
  return Math.floor((credits * after) / amount) - Math.floor((credits * amountRefunded) / amount);
}
