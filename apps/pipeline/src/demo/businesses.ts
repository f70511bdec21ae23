/**
 * The public demo's sample businesses (PRODUCT.md §5): for each, its name, the facts its persona
 * is told, and reply rules in the very shape a tenant saves (keyword canned replies, AI rules, a
 * mandatory default), checked by the same schema as a tenant's config. Built once, at module
 * load: a rule that does not pass the schema stops the Worker from starting rather than the demo
 * failing one visitor at a time, and no message pays for parsing.
 */
import { DEMO_BUSINESSES, type DemoBusiness } from "@concierge/core";
import { parseReplyConfig } from "@concierge/rules";
import type { StoredReplyConfig } from "@concierge/storage";

export type SampleBusiness = {
  /** Display name, in English: the page translates around it. */
  name: string;
  /** What the persona is told about the business, after the archetype's own prompt. */
  facts: string;
  /** The rules, as a tenant's account stores them. */
  replies: StoredReplyConfig;
};

type Draft = { name: string; facts: string[]; config: unknown };

const DRAFTS: Record<DemoBusiness, Draft> = {
  cafe: {
    name: "Lantern Café",
    facts: [
      "You speak for Lantern Café, a small neighbourhood café on 12th Main Road, Indiranagar, Bengaluru.",
      "Opening hours: 8 am to 10 pm every day; closed on 26 January.",
      "Menu: filter coffee ₹90, masala chai ₹70, cold brew ₹160, butter croissant ₹120, paneer sandwich ₹180, banana bread ₹110. Oat milk is available for ₹30 extra.",
      "Seating: 24 seats indoors and a small garden. Tables for up to six people can be reserved by calling the café; walk-ins are welcome.",
      "Payment: UPI, cards and cash. Wi-Fi is free for customers.",
    ],
    config: {
      rules: [
        {
          id: "hours",
          label: "Opening hours",
          matcher: { kind: "static_text", keywords: ["hours", "open", "close", "timing"] },
          response: { kind: "canned", text: "We're open 8 am to 10 pm every day (closed on 26 January)." },
        },
        {
          id: "location",
          label: "Location",
          matcher: { kind: "static_text", keywords: ["address", "location", "where are you", "directions"] },
          response: {
            kind: "canned",
            text: "You'll find us at 12th Main Road, Indiranagar, Bengaluru, two minutes from the metro station.",
          },
        },
        {
          id: "booking",
          label: "Table bookings",
          matcher: { kind: "static_text", keywords: ["book", "reserve", "reservation", "table"] },
          response: {
            kind: "prompt",
            text: "The customer wants a table. Ask for the day, time and number of people, and explain that a person from the café confirms reservations; do not confirm one yourself.",
          },
        },
        {
          id: "menu",
          label: "Menu and prices",
          matcher: {
            kind: "static_text",
            keywords: ["menu", "price", "cost", "coffee", "chai", "vegan", "milk"],
          },
          response: {
            kind: "prompt",
            text: "Answer the question about the menu from the facts given, with prices where asked, and suggest one item that fits.",
          },
        },
      ],
      default_rule: {
        response: {
          kind: "prompt",
          text: "Answer briefly from the café's facts. If they do not cover the question, say a person from the café will confirm.",
        },
      },
    },
  },
  salon: {
    name: "Bloom Hair Studio",
    facts: [
      "You speak for Bloom Hair Studio, a hair salon on Linking Road, Bandra West, Mumbai.",
      "Opening hours: Tuesday to Sunday, 10 am to 8 pm; closed on Mondays.",
      "Services and prices: haircut ₹600, haircut and blow-dry ₹900, beard trim ₹300, global hair colour from ₹2,500, keratin treatment from ₹4,500.",
      "Appointments are made by the studio's staff; walk-ins are taken when a stylist is free.",
      "Payment: UPI, cards and cash.",
    ],
    config: {
      rules: [
        {
          id: "hours",
          label: "Opening hours",
          matcher: { kind: "static_text", keywords: ["hours", "open", "close", "timing", "monday"] },
          response: {
            kind: "canned",
            text: "We're open Tuesday to Sunday, 10 am to 8 pm, and closed on Mondays.",
          },
        },
        {
          id: "location",
          label: "Location",
          matcher: { kind: "static_text", keywords: ["address", "location", "where are you", "directions"] },
          response: {
            kind: "canned",
            text: "We're on Linking Road, Bandra West, Mumbai, above the bookshop.",
          },
        },
        {
          id: "appointment",
          label: "Appointments",
          matcher: { kind: "static_text", keywords: ["appointment", "book", "slot", "available"] },
          response: {
            kind: "prompt",
            text: "The customer wants an appointment. Ask which service and which day and time suit them, and say a person from the studio will confirm the slot; do not confirm one yourself.",
          },
        },
        {
          id: "prices",
          label: "Services and prices",
          matcher: {
            kind: "static_text",
            keywords: ["price", "cost", "haircut", "colour", "color", "keratin", "beard"],
          },
          response: {
            kind: "prompt",
            text: "Answer about the services and their prices from the facts given.",
          },
        },
      ],
      default_rule: {
        response: {
          kind: "prompt",
          text: "Answer briefly from the studio's facts. If they do not cover the question, say a person from the studio will confirm.",
        },
      },
    },
  },
  "bike-shop": {
    name: "Spoke & Chain Cycles",
    facts: [
      "You speak for Spoke & Chain Cycles, a bicycle shop and workshop in Koregaon Park, Pune.",
      "Opening hours: Monday to Saturday, 9 am to 7 pm; closed on Sundays.",
      "Workshop: basic service ₹800, full service ₹1,800, puncture repair ₹150; a service usually takes one working day.",
      "Rentals: city bikes ₹400 a day, geared bikes ₹700 a day, with a refundable deposit.",
      "The shop sells city, hybrid and kids' bikes, helmets and locks; stock changes, so a person confirms availability.",
    ],
    config: {
      rules: [
        {
          id: "hours",
          label: "Opening hours",
          matcher: { kind: "static_text", keywords: ["hours", "open", "close", "timing", "sunday"] },
          response: {
            kind: "canned",
            text: "We're open Monday to Saturday, 9 am to 7 pm, and closed on Sundays.",
          },
        },
        {
          id: "location",
          label: "Location",
          matcher: { kind: "static_text", keywords: ["address", "location", "where are you", "directions"] },
          response: {
            kind: "canned",
            text: "We're on North Main Road, Koregaon Park, Pune, next to the park gate.",
          },
        },
        {
          id: "service",
          label: "Repairs and servicing",
          matcher: { kind: "static_text", keywords: ["service", "repair", "puncture", "brake", "gear"] },
          response: {
            kind: "prompt",
            text: "The customer needs a repair or a service. Say what it costs from the facts and how long it usually takes, and that a person from the workshop will confirm when to bring the bike in.",
          },
        },
        {
          id: "rental",
          label: "Rentals",
          matcher: { kind: "static_text", keywords: ["rent", "hire", "rental"] },
          response: { kind: "prompt", text: "Answer about bike rentals from the facts given." },
        },
      ],
      default_rule: {
        response: {
          kind: "prompt",
          text: "Answer briefly from the shop's facts. If they do not cover the question, say a person from the shop will confirm.",
        },
      },
    },
  },
};

function build(business: DemoBusiness): SampleBusiness {
  const draft = DRAFTS[business];
  const parsed = parseReplyConfig(draft.config);
  if (!parsed.ok) {
    const first = parsed.issues[0]!;
    throw new Error(`demo business ${business}: invalid reply rules at ${first.path}: ${first.message}`);
  }
  return {
    name: draft.name,
    facts: draft.facts.join("\n"),
    // Keyword rules only, so no vectors are needed: a message is never embedded (matchTurn
    // embeds only when a `prompt` matcher exists).
    // Version 0: built in, never saved through the editor.
    replies: { config: parsed.value, embeddings: { model: null, rules: {} }, version: 0 },
  };
}

export const SAMPLE_BUSINESSES: Readonly<Record<DemoBusiness, SampleBusiness>> = Object.freeze(
  Object.fromEntries(DEMO_BUSINESSES.map((b) => [b, build(b)])) as Record<DemoBusiness, SampleBusiness>,
);
