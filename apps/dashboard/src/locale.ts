import { negotiateLanguages } from "@fluent/langneg";
import { DEFAULT_LOCALE, LOCALES } from "@concierge/i18n";

/** The language of the default locale ("en"): a request for it without a region we ship. */
const DEFAULT_LANGUAGE = DEFAULT_LOCALE.split("-")[0]!;

/** Accept-Language headers longer than this are cut (a browser sends a few dozen characters). */
const MAX_HEADER = 1024;

/**
 * The language ranges of an Accept-Language header, most preferred first: ordered by their
 * quality (`q`), ties in the order sent, `q=0` ("not this one") and malformed entries left out.
 */
export function acceptedRanges(header: string | null): string[] {
  const ranges: { tag: string; q: number; at: number }[] = [];
  for (const [at, part] of (header ?? "").slice(0, MAX_HEADER).split(",").entries()) {
    const [tag = "", ...params] = part.split(";").map((s) => s.trim());
    if (!/^(?:[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*)$/.test(tag)) continue;
    const qParam = params.find((p) => /^q=/i.test(p));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    if (!Number.isFinite(q) || q <= 0 || q > 1) continue;
    ranges.push({ tag, q, at });
  }
  return ranges.sort((a, b) => b.q - a.q || a.at - b.at).map((r) => r.tag);
}

/**
 * The shipped locale for a signed-out visitor, negotiated by Fluent's `negotiateLanguages` over
 * every range of Accept-Language in order of preference ("fr-CH, fr;q=0.9, en-US;q=0.8" →
 * en-US; "de, en-IN;q=0.5" → en-IN). Besides the shipped locales, the bare default language is
 * offered as a range of its own and stands for the default locale: English in a region we do not
 * ship (en-GB, en-AU) or without one gets en-IN as it always has, instead of langneg's likely
 * subtags turning a bare "en" into en-US (and a new business signing up with it into a US one).
 */
export function negotiateLocale(acceptLanguage: string | null): string {
  const [best] = negotiateLanguages(acceptedRanges(acceptLanguage), [...LOCALES, DEFAULT_LANGUAGE], {
    strategy: "lookup",
    defaultLocale: DEFAULT_LOCALE,
  });
  return !best || best === DEFAULT_LANGUAGE ? DEFAULT_LOCALE : best;
}
