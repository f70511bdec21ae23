export * from "./reply-rules.ts";
export * from "./risk.ts";
