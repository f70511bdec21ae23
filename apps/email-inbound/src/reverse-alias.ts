/** `reply+<token>@<subdomain>`: a reverse alias on forwarded mail (token: 128 bits, hex). */
const ALIAS = /^reply\+([0-9a-f]{32})@/;

/** The alias token when the envelope recipient is a reverse alias, else null. */
export function aliasToken(envelopeTo: string): string | null {
  return ALIAS.exec(envelopeTo.toLowerCase())?.[1] ?? null;
}

/** Anything shaped like an alias but not a valid one is refused rather than routed. */
export function looksLikeAlias(envelopeTo: string): boolean {
  return envelopeTo.toLowerCase().startsWith("reply+");
}
