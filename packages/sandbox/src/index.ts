export * from "./graph.ts";
export * from "./server.ts";
export * from "./ai.ts";
