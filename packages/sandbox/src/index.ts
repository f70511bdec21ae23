export * from "./ai.ts";
export * from "./discord.ts";
export * from "./graph.ts";
export * from "./server.ts";
