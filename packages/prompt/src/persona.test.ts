import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { BuilderPersonaSchema, PersonaSchema, personaHash, renderPersona } from "./persona.ts";

const full = v.parse(BuilderPersonaSchema, {
  kind: "builder",
  voice: "professional",
  businessName: "Chai & Co.",
  businessType: "tea shop",
  city: "Bengaluru",
  hours: "7am–7pm every day",
  goal: "order ahead",
  goalUrl: "https://chai.example/order",
  catchPhrases: ["Chai is love"],
  offTopics: ["politics"],
  never: ["discuss competitors"],
  handoffConditions: ["a customer mentions an allergy"],
});
const minimal = v.parse(BuilderPersonaSchema, {
  kind: "builder",
  voice: "friendly",
  businessName: "Dosa Point",
  businessType: "restaurant",
});

const CAFE = "You are the friendly host of a neighbourhood café. Never invent prices.";

describe("builder persona with a catalog archetype", () => {
  // Pinned from the rendering before builder personas could carry an archetype: approved
  // personas are approved against these hashes, so they must never change.
  it("renders a persona without an archetype byte for byte as before, to the same hash", async () => {
    expect(renderPersona(full)).toBe(
      "You speak for Chai & Co., a tea shop in Bengaluru.\nVoice: Courteous, precise and calm, like a well-run clinic's front desk.\nOpening hours: 7am–7pm every day\nWhere it fits, help the customer towards this goal: order ahead (https://chai.example/order)\nPhrases the business likes to use:\n- Chai is love\nTopics to politely decline:\n- politics\nNever:\n- discuss competitors\nAlso hand off to a person when:\n- a customer mentions an allergy",
    );
    expect(await personaHash(full)).toBe("b40963d714351779901d3107d29820e33c548faef65c4c5bbd4cbccf8783a011");
    expect(renderPersona(minimal)).toBe(
      "You speak for Dosa Point, a restaurant.\nVoice: Warm, upbeat and welcoming, like a favourite neighbourhood shop.",
    );
    expect(await personaHash(minimal)).toBe(
      "a11058d3c4afb47a694d83f2510b93840cf8c674644dc89a58c848551f38582a",
    );
  });

  it("replaces only the voice line with the archetype's prompt", async () => {
    const p = v.parse(PersonaSchema, { ...full, archetype: { id: "cafe-host", prompt: ` ${CAFE} ` } });
    const lines = renderPersona(p).split("\n");
    const before = renderPersona(full).split("\n");
    expect(lines[1]).toBe(`Voice and manner: ${CAFE}`);
    expect(lines.filter((_, i) => i !== 1)).toEqual(before.filter((_, i) => i !== 1));
    expect(renderPersona(p)).not.toContain("Courteous, precise and calm");
    expect(await personaHash(p)).not.toBe(await personaHash(full));
    // Another archetype (or another copy of its prompt) is another persona to approve.
    const other = v.parse(PersonaSchema, { ...full, archetype: { id: "cafe-host", prompt: "Be brief." } });
    expect(await personaHash(other)).not.toBe(await personaHash(p));
  });

  it("refuses an archetype without an id or prompt, or with one too long", () => {
    for (const archetype of [
      { id: "", prompt: CAFE },
      { id: "cafe-host", prompt: "  " },
      { id: "x".repeat(65), prompt: CAFE },
      { id: "cafe-host", prompt: "x".repeat(2001) },
      { id: "cafe-host" },
    ]) {
      expect(v.safeParse(PersonaSchema, { ...minimal, archetype }).success).toBe(false);
    }
  });
});
