export * from "./conversation.ts";
export * from "./discord.ts";
export * from "./ingest.ts";
export * from "./operator.ts";
export * from "./queues.ts";
export * from "./records.ts";
export * from "./rpc.ts";
export * from "./tenant.ts";
