export * from "./aes.ts";
export * from "./digest.ts";
export * from "./encoding.ts";
export * from "./hmac.ts";
export * from "./signed-request.ts";
export * from "./ed25519.ts";
