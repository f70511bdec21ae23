import { sha256Hex } from "@concierge/crypto";
import * as v from "valibot";

/** Voice archetypes the guided builder offers. */
export const VOICE_ARCHETYPES = {
  friendly: "Warm, upbeat and welcoming, like a favourite neighbourhood shop.",
  professional: "Courteous, precise and calm, like a well-run clinic's front desk.",
  playful: "Light-hearted and witty, with the odd emoji, never at the customer's expense.",
  concise: "Straight to the point: short, clear sentences and no small talk.",
  luxurious: "Polished and attentive, like a concierge at a fine hotel.",
} as const;
export type VoiceArchetype = keyof typeof VOICE_ARCHETYPES;

const Line = (max: number) => v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(max));
const List = (maxItems: number, maxLength: number, what: string) =>
  v.optional(v.pipe(v.array(Line(maxLength)), v.maxLength(maxItems, `At most ${maxItems} ${what}.`)), []);

export const RAW_PROMPT_MAX = 2000;

/**
 * The builder's limits, one place: this schema and the dashboard's form (which adds translated
 * messages) both read them, so the two can never disagree.
 */
export const PERSONA_LIMITS = {
  businessName: 80,
  businessType: 80,
  city: 80,
  hours: 200,
  goal: 200,
  goalUrl: 300,
  catchPhrases: { items: 5, length: 80 },
  offTopics: { items: 10, length: 80 },
  never: { items: 10, length: 120 },
  handoffConditions: { items: 5, length: 160 },
  rawPrompt: RAW_PROMPT_MAX,
} as const;
const L = PERSONA_LIMITS;

export const BuilderPersonaSchema = v.object({
  kind: v.literal("builder"),
  /** The tone when no catalog archetype is chosen; with one, the archetype's prompt replaces it. */
  voice: v.picklist(Object.keys(VOICE_ARCHETYPES) as [VoiceArchetype, ...VoiceArchetype[]]),
  /**
   * An approved catalog archetype for the voice. The prompt is copied from the catalog when
   * chosen (the pipeline always copies the catalog's own text), so a later catalog edit does not
   * change the persona silently.
   */
  archetype: v.optional(v.object({ id: Line(64), prompt: Line(RAW_PROMPT_MAX) })),
  businessName: Line(L.businessName),
  businessType: Line(L.businessType),
  city: v.optional(Line(L.city)),
  hours: v.optional(Line(L.hours)),
  goal: v.optional(Line(L.goal)),
  goalUrl: v.optional(
    v.pipe(v.string(), v.trim(), v.url("The goal link must be a full URL."), v.maxLength(L.goalUrl)),
  ),
  catchPhrases: List(L.catchPhrases.items, L.catchPhrases.length, "catch-phrases"),
  offTopics: List(L.offTopics.items, L.offTopics.length, "off-topics"),
  never: List(L.never.items, L.never.length, "entries in the never list"),
  handoffConditions: List(L.handoffConditions.items, L.handoffConditions.length, "handoff conditions"),
});

export const ArchetypePersonaSchema = v.object({
  kind: v.literal("archetype"),
  archetypeId: Line(64),
  /** Copied from the catalog when chosen, so a later catalog edit does not change it silently. */
  prompt: Line(RAW_PROMPT_MAX),
});

export const RawPersonaSchema = v.object({
  kind: v.literal("raw"),
  prompt: v.pipe(
    v.string(),
    v.trim(),
    v.minLength(1, "Write the persona prompt."),
    v.maxLength(RAW_PROMPT_MAX, `At most ${RAW_PROMPT_MAX} characters.`),
  ),
});

export const PersonaSchema = v.variant("kind", [
  BuilderPersonaSchema,
  ArchetypePersonaSchema,
  RawPersonaSchema,
]);
export type Persona = v.InferOutput<typeof PersonaSchema>;

const bullets = (items: readonly string[]) => items.map((i) => `- ${i}`).join("\n");

/** The persona as the middle section of the envelope. Deterministic: same persona, same text. */
export function renderPersona(persona: Persona): string {
  if (persona.kind !== "builder") return persona.prompt;
  const p = persona;
  const lines = [
    `You speak for ${p.businessName}, a ${p.businessType}${p.city ? ` in ${p.city}` : ""}.`,
    // Without an archetype the line is exactly what it always was: approved personas keep their hash.
    p.archetype ? `Voice and manner: ${p.archetype.prompt}` : `Voice: ${VOICE_ARCHETYPES[p.voice]}`,
  ];
  if (p.hours) lines.push(`Opening hours: ${p.hours}`);
  if (p.goal)
    lines.push(
      `Where it fits, help the customer towards this goal: ${p.goal}${p.goalUrl ? ` (${p.goalUrl})` : ""}`,
    );
  if (p.catchPhrases.length) lines.push(`Phrases the business likes to use:\n${bullets(p.catchPhrases)}`);
  if (p.offTopics.length) lines.push(`Topics to politely decline:\n${bullets(p.offTopics)}`);
  if (p.never.length) lines.push(`Never:\n${bullets(p.never)}`);
  if (p.handoffConditions.length)
    lines.push(`Also hand off to a person when:\n${bullets(p.handoffConditions)}`);
  return lines.join("\n");
}

/** The hash safety approval is recorded against: a changed persona needs a new approval. */
export async function personaHash(persona: Persona): Promise<string> {
  return sha256Hex(renderPersona(persona));
}
