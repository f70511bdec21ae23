export * from "./reply-rules.ts";
export * from "./risk.ts";
export * from "./email-routing.ts";
export * from "./hours.ts";
