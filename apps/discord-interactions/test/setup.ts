import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { seedDemoTenant } from "@concierge/testing/seed";
import { TEST_SECRETS } from "@concierge/testing/secrets";

await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
await seedDemoTenant(env.DB, TEST_SECRETS.encryptionKey, { waitSeconds: 0 });
