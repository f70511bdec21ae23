/**
 * Development and test values of the platform secrets. Never used in production: deployment
 * reads real ones with `wrangler secret put`.
 */
export const TEST_SECRETS = {
  // base64 of 32 bytes, as ENCRYPTION_KEY must be.
  encryptionKey: "Y29uY2llcmdlLWRldmVsb3BtZW50LWtleS0wMDAwMDE=",
  whatsappToken: "sandbox-whatsapp-token",
  metaAppSecret: "sandbox-meta-app-secret",
  whatsappVerifyToken: "sandbox-verify-token",
  discordBotToken: "sandbox-discord-bot-token",
  googleClientId: "sandbox-google-client.apps.googleusercontent.com",
  googleClientSecret: "sandbox-google-client-secret",
  facebookAppId: "100000000000001",
} as const;
