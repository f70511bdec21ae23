export * from "./accounts.ts";
export * from "./messages.ts";
export * from "./tenants.ts";
export * from "./credits.ts";
export * from "./personas.ts";
export * from "./approvals.ts";
export * from "./settings.ts";
