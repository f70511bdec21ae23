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
  // The sandbox's Discord application: it signs interactions with the private key (a raw Ed25519
  // seed, hex); discord-interactions verifies them with the public key (DISCORD_PUBLIC_KEY).
  discordApplicationId: "1300000000000000001",
  discordPublicKey: "ca4b6ea489a26586aa657aac840c285df409815f522e46e2c6b2c68fa33beeda",
  // The OAuth2 client secret of that application (its client id is the application id).
  discordClientSecret: "sandbox-discord-client-secret",
  discordPrivateKey: "f30e5ecd9debf1dfd279d68dd7586a505f292be41a6c044b0797987cab43828d",
  cloudflareApiToken: "sandbox-cloudflare-api-token",
  googleClientId: "sandbox-google-client.apps.googleusercontent.com",
  googleClientSecret: "sandbox-google-client-secret",
  facebookAppId: "100000000000001",
  // Razorpay test-mode keys as the sandbox plays Razorpay: the key id is public (Checkout opens
  // with it), the key secret signs Checkout results and authenticates API calls (HTTP Basic), and
  // the webhook secret (set per webhook, not the key secret) signs webhook bodies.
  razorpayKeyId: "rzp_test_SandboxKey0001",
  razorpayKeySecret: "sandbox-razorpay-key-secret",
  razorpayWebhookSecret: "sandbox-razorpay-webhook-secret",
} as const;
