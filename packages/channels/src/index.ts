export * from "./graph.ts";
export * from "./whatsapp.ts";
export * from "./discord.ts";
