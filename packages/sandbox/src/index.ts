export * from "./graph.ts";
export * from "./server.ts";
export * from "./ai.ts";
export * from "./discord.ts";
