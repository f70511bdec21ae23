export * from "./offline.ts";
export * from "./provider.ts";
