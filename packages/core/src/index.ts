export * from "./errors.ts";
export * from "./ids.ts";
export * from "./inbound.ts";
export * from "./logger.ts";
export * from "./validation.ts";
