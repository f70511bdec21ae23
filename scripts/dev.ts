// `npm start`: the whole product locally. Writes development secrets where an app has none,
// applies migrations, seeds the demo tenant, runs all five Workers and the sandbox, prints URLs.
// Safe to run again: migrations and the seed are idempotent and state persists in .local/.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { TEST_SECRETS } from "@concierge/testing/secrets";
import { DEMO, DEMO_EMAIL } from "@concierge/testing/seed";
import { APPS, appDir } from "@concierge/testing/workers";
import { root, startStack } from "./stack.ts";

const DEV_VALUES: Record<string, string> = {
  ENCRYPTION_KEY: TEST_SECRETS.encryptionKey,
  WHATSAPP_ACCESS_TOKEN: TEST_SECRETS.whatsappToken,
  META_APP_SECRET: TEST_SECRETS.metaAppSecret,
  WHATSAPP_VERIFY_TOKEN: TEST_SECRETS.whatsappVerifyToken,
  DISCORD_BOT_TOKEN: TEST_SECRETS.discordBotToken,
  GOOGLE_CLIENT_SECRET: TEST_SECRETS.googleClientSecret,
  RAZORPAY_KEY_SECRET: TEST_SECRETS.razorpayKeySecret,
  RAZORPAY_WEBHOOK_SECRET: TEST_SECRETS.razorpayWebhookSecret,
};

/** Fills .dev.vars from .dev.vars.example with development values, never overwriting yours. */
function ensureDevVars(): void {
  for (const app of APPS) {
    const target = path.join(appDir(app), ".dev.vars");
    const example = path.join(appDir(app), ".dev.vars.example");
    if (existsSync(target) || !existsSync(example)) continue;
    const filled = readFileSync(example, "utf8").replace(/^([A-Z0-9_]+)=\s*$/gm, (line, key: string) =>
      DEV_VALUES[key] ? `${key}=${DEV_VALUES[key]}` : line,
    );
    writeFileSync(target, filled);
    console.log(`wrote ${path.relative(root, target)} with development values`);
  }
}

const PORTS = {
  dashboard: 8787,
  "meta-webhooks": 8788,
  "discord-interactions": 8789,
  "email-inbound": 8790,
  sandbox: 8799,
} as const;

ensureDevVars();
console.log("building the Workers, applying migrations, seeding the demo tenant…");
const stack = await startStack({
  persistDir: path.join(root, ".local", "state"),
  ports: PORTS,
  useDevVars: true,
  demoDiscord: true,
});

console.log(`
Concierge is running locally.

  Sandbox (send a WhatsApp message as a customer)  ${stack.urls.sandbox}
  Sandbox: email as a customer, sent mail          ${stack.urls.sandbox}/email
  Sandbox: the Discord inbox (press the buttons)   ${stack.urls.sandbox}/discord/inbox
  Public site                                      ${stack.urls.dashboard}
  Dashboard (development sign-in, no password)     ${stack.urls.dashboard}/sign-in
  meta-webhooks   POST /webhook/whatsapp           ${stack.urls["meta-webhooks"]}
  discord-interactions  POST /interactions        ${stack.urls["discord-interactions"]}
  email-inbound   (email() via the sandbox)        ${stack.urls["email-inbound"]}

Demo tenant "${DEMO.tenantName}" answers on WhatsApp number ${DEMO.whatsapp.displayPhoneNumber}:
try "what are your hours?" or "can I see the menu?" on the sandbox page, or write to
hello@${DEMO_EMAIL.domain} from its /email page: a subject with "invoice" in it is relayed to
the sandbox's Discord inbox (/discord/inbox), where Reply and Drop work as in Discord. Sign in to the
dashboard choosing "The demo business" to edit its rules and watch its approvals.
State lives in .local/state. Press Ctrl+C to stop.
`);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    await stack.dispose();
    process.exit(0);
  });
}
