export * from "./graph.ts";
export * from "./whatsapp.ts";
export * from "./instagram.ts";
export * from "./discord.ts";
export * from "./email.ts";
