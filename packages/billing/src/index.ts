export * from "./prices.ts";
export * from "./razorpay.ts";
export * from "./schemas.ts";
export * from "./signatures.ts";
