export * from "./models.ts";
export * from "./offline.ts";
export * from "./openai.ts";
export * from "./provider.ts";
export * from "./select.ts";
export * from "./workers-ai.ts";
