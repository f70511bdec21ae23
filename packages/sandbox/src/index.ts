export * from "./ai.ts";
export * from "./discord.ts";
export * from "./graph.ts";
export * from "./razorpay.ts";
export * from "./razorpay-webhooks.ts";
export * from "./server.ts";
