export * from "./reply-rules.ts";
