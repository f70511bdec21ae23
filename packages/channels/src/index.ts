export * from "./graph.ts";
export * from "./whatsapp.ts";
