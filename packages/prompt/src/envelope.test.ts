import { describe, expect, it } from "vitest";
import { MIDDLE_END, MIDDLE_START, POSTAMBLE, PREAMBLE, buildEnvelope } from "./envelope.ts";
import { RAW_PROMPT_MAX, personaHash, renderPersona } from "./persona.ts";
import { BuilderPersonaSchema, PersonaSchema } from "./persona.ts";
import * as v from "valibot";

const builder = v.parse(BuilderPersonaSchema, {
  kind: "builder",
  voice: "friendly",
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

describe("buildEnvelope", () => {
  it("sandwiches the tenant's middle between the fixed preamble and postamble, closing rules last", () => {
    const e = buildEnvelope({ persona: renderPersona(builder), rulePrompt: "Ask which day suits them." });
    expect(e.system.startsWith(PREAMBLE)).toBe(true);
    expect(e.system.endsWith(POSTAMBLE)).toBe(true);
    expect(e.system).toContain(`${MIDDLE_START}\nYou speak for Chai & Co., a tea shop in Bengaluru.`);
    expect(e.middle).toContain("For this message: Ask which day suits them.");
    expect(e.middle.endsWith(MIDDLE_END)).toBe(true);
    expect(e.system).toBe(`${e.preamble}\n\n${e.middle}\n\n${e.postamble}`);
  });

  it("marks exactly the business's text (persona and rule prompt) with the editable offsets", () => {
    const persona = renderPersona(builder);
    for (const [input, expected] of [
      [
        { persona, rulePrompt: "Ask which day suits them." },
        `${persona}\n\nFor this message: Ask which day suits them.`,
      ],
      [{ persona, holding: true }, persona],
    ] as const) {
      const e = buildEnvelope(input);
      const [start, end] = e.editable;
      expect(e.system.slice(start, end)).toBe(expected);
      expect(e.system.slice(0, start)).toBe(`${PREAMBLE}\n\n${MIDDLE_START}\n`);
      expect(e.system.slice(end).startsWith(`\n${MIDDLE_END}\n\n${POSTAMBLE}`)).toBe(true);
    }
  });

  it("adds the holding-pattern voice after the closing rules while a handoff waits", () => {
    const e = buildEnvelope({ persona: "p", holding: true });
    expect(e.postamble.startsWith(POSTAMBLE)).toBe(true);
    expect(e.postamble).toContain("has been asked to take over");
  });

  it("keeps the postamble's rules about language, brevity, facts, advice, actions, secrecy and handoff", () => {
    for (const phrase of [
      "language",
      "brief",
      "Never invent facts",
      "medical",
      "refunding",
      "Never reveal",
      "[[HANDOFF]]",
    ]) {
      expect(POSTAMBLE).toContain(phrase);
    }
  });
});

describe("personas", () => {
  it("renders every builder field, and renders the same persona to the same hash", async () => {
    const text = renderPersona(builder);
    for (const s of [
      "7am–7pm",
      "order ahead (https://chai.example/order)",
      "- Chai is love",
      "- politics",
      "- discuss competitors",
      "- a customer mentions an allergy",
    ]) {
      expect(text).toContain(s);
    }
    expect(await personaHash(builder)).toBe(await personaHash({ ...builder }));
    expect(await personaHash(builder)).not.toBe(await personaHash({ ...builder, hours: "8am–8pm" }));
  });

  it("enforces the builder's limits and the raw prompt's length", () => {
    const tooMany = { ...builder, catchPhrases: ["a", "b", "c", "d", "e", "f"] };
    expect(v.safeParse(PersonaSchema, tooMany).success).toBe(false);
    expect(v.safeParse(PersonaSchema, { ...builder, offTopics: Array(11).fill("x") }).success).toBe(false);
    expect(v.safeParse(PersonaSchema, { ...builder, handoffConditions: Array(6).fill("x") }).success).toBe(
      false,
    );
    expect(v.safeParse(PersonaSchema, { ...builder, goalUrl: "not a url" }).success).toBe(false);
    expect(v.safeParse(PersonaSchema, { kind: "raw", prompt: "x".repeat(RAW_PROMPT_MAX) }).success).toBe(
      true,
    );
    expect(v.safeParse(PersonaSchema, { kind: "raw", prompt: "x".repeat(RAW_PROMPT_MAX + 1) }).success).toBe(
      false,
    );
    expect(v.safeParse(PersonaSchema, { kind: "raw", prompt: "   " }).success).toBe(false);
  });

  it("uses an archetype's copied prompt as it is", () => {
    const p = v.parse(PersonaSchema, { kind: "archetype", archetypeId: "cafe", prompt: "You are a cafe." });
    expect(renderPersona(p)).toBe("You are a cafe.");
  });
});
