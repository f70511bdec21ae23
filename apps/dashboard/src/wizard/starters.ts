/**
 * The starter reply rules the wizard proposes for each kind of business (step 4): keyword rules
 * with canned replies, so the most common questions are answered at once and for free. Their
 * labels, keywords and replies are Fluent messages (dashboard-wizard-replies.ftl), so a tenant
 * gets them in its own locale; the tenant edits them inline before they are saved.
 */
import { BUSINESS_KINDS, type BusinessKind } from "@concierge/core";
import { msg, type Translate } from "@concierge/i18n";

export const STARTER_IDS = [
  "hours",
  "location",
  "menu",
  "prices",
  "table",
  "appointment",
  "booking",
  "delivery",
  "services",
  "returns",
] as const;
export type StarterId = (typeof STARTER_IDS)[number];

/** Each starter's messages, named in full so the "every message exists" test sees them. */
const TEXT: Record<StarterId, { label: string; keywords: string; reply: string }> = {
  hours: {
    label: msg("wizard-starter-hours-label"),
    keywords: msg("wizard-starter-hours-keywords"),
    reply: msg("wizard-starter-hours-reply"),
  },
  location: {
    label: msg("wizard-starter-location-label"),
    keywords: msg("wizard-starter-location-keywords"),
    reply: msg("wizard-starter-location-reply"),
  },
  menu: {
    label: msg("wizard-starter-menu-label"),
    keywords: msg("wizard-starter-menu-keywords"),
    reply: msg("wizard-starter-menu-reply"),
  },
  prices: {
    label: msg("wizard-starter-prices-label"),
    keywords: msg("wizard-starter-prices-keywords"),
    reply: msg("wizard-starter-prices-reply"),
  },
  table: {
    label: msg("wizard-starter-table-label"),
    keywords: msg("wizard-starter-table-keywords"),
    reply: msg("wizard-starter-table-reply"),
  },
  appointment: {
    label: msg("wizard-starter-appointment-label"),
    keywords: msg("wizard-starter-appointment-keywords"),
    reply: msg("wizard-starter-appointment-reply"),
  },
  booking: {
    label: msg("wizard-starter-booking-label"),
    keywords: msg("wizard-starter-booking-keywords"),
    reply: msg("wizard-starter-booking-reply"),
  },
  delivery: {
    label: msg("wizard-starter-delivery-label"),
    keywords: msg("wizard-starter-delivery-keywords"),
    reply: msg("wizard-starter-delivery-reply"),
  },
  services: {
    label: msg("wizard-starter-services-label"),
    keywords: msg("wizard-starter-services-keywords"),
    reply: msg("wizard-starter-services-reply"),
  },
  returns: {
    label: msg("wizard-starter-returns-label"),
    keywords: msg("wizard-starter-returns-keywords"),
    reply: msg("wizard-starter-returns-reply"),
  },
};

/**
 * What each kind is asked most, in the order the rules are checked (first match wins, so the
 * narrower questions come before the broader "prices").
 */
export const STARTERS_BY_KIND: Record<BusinessKind, readonly StarterId[]> = {
  cafe: ["hours", "location", "menu", "table", "prices"],
  restaurant: ["hours", "location", "menu", "table", "delivery"],
  salon: ["hours", "location", "appointment", "services", "prices"],
  clinic: ["hours", "location", "appointment", "prices"],
  shop: ["hours", "location", "delivery", "returns", "prices"],
  services: ["hours", "location", "booking", "prices"],
  other: ["hours", "location", "prices"],
};

/**
 * The placeholders a starter's reply may carry, replaced on save by the step's answers. They are
 * shown as typed tokens (not filled in when the page is drawn) so that hours or an address typed
 * into the same form, without JavaScript, still end up in the replies.
 */
export const PLACEHOLDERS = { name: "{name}", hours: "{hours}", address: "{address}" } as const;

export type Starter = {
  id: StarterId;
  /** The rule's id in the reply config (the starter's own, unless the account already uses it). */
  ruleId: string;
  label: string;
  keywords: string[];
  /** With the placeholders still in it. */
  reply: string;
};

/** The kind's starters in the tenant's language; an unknown kind gets the "other" list. */
export function startersFor(t: Translate, kind: BusinessKind | null): Starter[] {
  const ids = STARTERS_BY_KIND[kind && BUSINESS_KINDS.includes(kind) ? kind : "other"];
  return ids.map((id) => ({
    id,
    ruleId: `starter-${id}`,
    label: t(TEXT[id].label),
    keywords: splitKeywords(t(TEXT[id].keywords)),
    reply: t(TEXT[id].reply, PLACEHOLDERS),
  }));
}

/** Keywords as typed: separated by commas or new lines, blanks dropped. */
export function splitKeywords(text: string): string[] {
  return text
    .split(/[,\n]/)
    .map((k) => k.trim())
    .filter(Boolean);
}

/** The answers a reply's placeholders stand for; an unanswered one stays as typed. */
export type Fill = { name: string; hours: string; address: string };

export function fillReply(text: string, fill: Fill): string {
  let out = text.replaceAll(PLACEHOLDERS.name, fill.name);
  if (fill.hours) out = out.replaceAll(PLACEHOLDERS.hours, fill.hours);
  if (fill.address) out = out.replaceAll(PLACEHOLDERS.address, fill.address);
  return out;
}

/** The placeholder still in a filled reply, if any (its answer was left empty). */
export function missingPlaceholder(text: string): "hours" | "address" | null {
  if (text.includes(PLACEHOLDERS.hours)) return "hours";
  if (text.includes(PLACEHOLDERS.address)) return "address";
  return null;
}
