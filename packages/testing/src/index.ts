export * from "./meta.ts";
export * from "./seed.ts";
