export * from "./envelope.ts";
export * from "./handoff.ts";
export * from "./persona.ts";
export * from "./classifiers.ts";
