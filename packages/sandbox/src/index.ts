export * from "./graph.ts";
export * from "./server.ts";
