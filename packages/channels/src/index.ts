export * from "./discord.ts";
export * from "./email.ts";
export * from "./email-auth.ts";
export * from "./email-parse.ts";
export * from "./graph.ts";
export * from "./instagram.ts";
export * from "./whatsapp.ts";
