import type { Persona } from "@concierge/prompt";
import { describe, expect, it } from "vitest";
import { getPersona, recordPersonaVerdict, savePersona } from "../src/personas.ts";
import { db, newTenant } from "./fixtures.ts";

const raw = (prompt: string) => ({ kind: "raw", prompt }) as Persona;

describe("personas", () => {
  it("a new persona starts pending; a verdict for its hash applies", async () => {
    const t = (await newTenant()).id;
    expect(await getPersona(db(), t)).toBeNull();
    await savePersona(db(), t, raw("Be kind."), "h1");
    expect(await getPersona(db(), t)).toEqual({
      persona: raw("Be kind."),
      hash: "h1",
      status: "pending",
      reason: null,
    });
    expect(await recordPersonaVerdict(db(), t, "h1", "approved", null)).toEqual({ applied: true });
    expect((await getPersona(db(), t))?.status).toBe("approved");
  });

  it("any change goes back to pending and forgets the old verdict's reason", async () => {
    const t = (await newTenant()).id;
    await savePersona(db(), t, raw("One."), "h1");
    await recordPersonaVerdict(db(), t, "h1", "rejected", "unsafe_claims");
    await savePersona(db(), t, raw("Two."), "h2");
    expect(await getPersona(db(), t)).toEqual({
      persona: raw("Two."),
      hash: "h2",
      status: "pending",
      reason: null,
    });
  });

  it("saving the same text again (same hash) keeps its verdict", async () => {
    const t = (await newTenant()).id;
    await savePersona(db(), t, raw("Same."), "h1");
    await recordPersonaVerdict(db(), t, "h1", "needs_review", "borderline");
    await savePersona(db(), t, raw("Same."), "h1");
    expect(await getPersona(db(), t)).toMatchObject({ status: "needs_review", reason: "borderline" });
  });

  it("a verdict for text the tenant has since changed is stale and changes nothing", async () => {
    const t = (await newTenant()).id;
    await savePersona(db(), t, raw("Old."), "h-old");
    await savePersona(db(), t, raw("New."), "h-new");
    expect(await recordPersonaVerdict(db(), t, "h-old", "approved", null)).toEqual({ applied: false });
    expect((await getPersona(db(), t))?.status).toBe("pending");
    // Nor does a verdict for another tenant's persona with the same hash.
    const other = (await newTenant()).id;
    expect(await recordPersonaVerdict(db(), other, "h-new", "approved", null)).toEqual({ applied: false });
    expect((await getPersona(db(), t))?.status).toBe("pending");
  });
});
