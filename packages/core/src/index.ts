export * from "./body.ts";
export * from "./delivery-status.ts";
export * from "./errors.ts";
export * from "./ids.ts";
export * from "./inbound.ts";
export * from "./logger.ts";
export * from "./self-test.ts";
export * from "./validation.ts";
