import { FluentBundle, FluentResource, type FluentVariable } from "@fluent/bundle";
import { MESSAGES } from "./messages.generated.ts";

/** Shipped locales; a new language is a new folder under locales/. */
export const LOCALES = Object.keys(MESSAGES) as readonly string[];
export const DEFAULT_LOCALE = "en-IN";

const bundles = new Map<string, FluentBundle>();

function bundle(locale: string): FluentBundle {
  const chosen = MESSAGES[locale] ? locale : DEFAULT_LOCALE;
  let b = bundles.get(chosen);
  if (!b) {
    // No Unicode isolation marks around placeables: the text goes to chat apps and plain mail.
    b = new FluentBundle(chosen, { useIsolating: false });
    const errors = b.addResource(new FluentResource(MESSAGES[chosen]!));
    if (errors.length) throw new Error(`${chosen}: ${errors[0]!.message}`);
    bundles.set(chosen, b);
  }
  return b;
}

export type Translate = (id: string, args?: Record<string, FluentVariable>) => string;

/** A translator for one locale (unknown locales fall back to en-IN). A missing id throws. */
export function translator(locale: string): Translate {
  const b = bundle(locale);
  return (id, args) => {
    const message = b.getMessage(id);
    if (!message?.value) throw new Error(`missing message "${id}" in ${b.locales[0]}`);
    return b.formatPattern(message.value, args);
  };
}

/**
 * Marks a string as a message id passed around before it is translated (validation messages,
 * error pages), so the "every id exists" test finds it like a call of `t`.
 */
export function msg<const T extends string>(id: T): T {
  return id;
}

/** Whether every shipped locale has this message. */
export function hasMessage(id: string): boolean {
  return LOCALES.every((l) => bundle(l).hasMessage(id));
}

/** Numbers the locale's way: 1,00,000 in en-IN, 100,000 in en-US. */
export function formatNumber(locale: string, n: number): string {
  return new Intl.NumberFormat(locale).format(n);
}

/**
 * Money the locale's way, from an amount in the currency's minor units (paise, cents: what
 * Razorpay and our records hold): 10000000 paise is ₹1,00,000 in en-IN, 10000000 cents $100,000 in
 * en-US. Whole amounts drop the ".00" (prices read ₹499, $9); others keep every minor digit
 * (₹499.50). The number of minor digits is the currency's own (2 for INR and USD, 0 for JPY).
 */
export function formatMoney(locale: string, currency: string, minorUnits: number): string {
  const format = new Intl.NumberFormat(locale, {
    style: "currency",
    currency,
    trailingZeroDisplay: "stripIfInteger",
  });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(minorUnits / 10 ** digits);
}
