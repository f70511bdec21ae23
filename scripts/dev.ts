// `npm start`: the whole product locally. Writes development secrets where an app has none,
// applies migrations, seeds the demo tenant, runs all five Workers and the sandbox, prints URLs.
// Safe to run again: migrations and the seed are idempotent and state persists in .local/.
// SIGINT, SIGTERM or SIGHUP stops it at any point, workerd included (`npm start` passes them on
// to this process: see scripts/bootstrap.mjs).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { TEST_SECRETS } from "@concierge/testing/secrets";
import { DEMO, DEMO_EMAIL } from "@concierge/testing/seed";
import { APPS, appDir } from "@concierge/testing/workers";
import { root, type Stack, startStack } from "./stack.ts";

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

let stack: Stack | undefined;
let stopping = false;
// From the start, not only once the stack runs: a stop during the build ends the process at once.
// Once Miniflare runs, its own exit hook kills workerd on these signals and on any exit.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    console.log("\nstopping Concierge…");
    // Last resort if disposing hangs: exiting still takes workerd down through that hook.
    setTimeout(() => process.exit(0), 3_000).unref();
    await stack?.dispose();
    process.exit(0);
  });
}

ensureDevVars();
console.log("bundling the Workers, applying migrations, seeding the demo tenant…");
stack = await startStack({
  persistDir: path.join(root, ".local", "state"),
  ports: PORTS,
  useDevVars: true,
  demoDiscord: true,
  onProgress: (line) => console.log(line),
});

const rows: [string, string][] = [
  ["Sandbox (send a WhatsApp message as a customer)", stack.urls.sandbox],
  ["Sandbox: email as a customer, sent mail", `${stack.urls.sandbox}/email`],
  ["Sandbox: the Discord inbox (press the buttons)", `${stack.urls.sandbox}/discord/inbox`],
  ["Public site", stack.urls.dashboard],
  ["Dashboard (development sign-in, no password)", `${stack.urls.dashboard}/sign-in`],
  ["Operator panel (sign in through the sandbox's Access)", `${stack.urls.dashboard}/manage`],
  ["meta-webhooks   POST /webhook/whatsapp", stack.urls["meta-webhooks"]],
  ["discord-interactions  POST /interactions", stack.urls["discord-interactions"]],
  ["email-inbound   (email() via the sandbox)", stack.urls["email-inbound"]],
];
const width = Math.max(...rows.map(([label]) => label.length));
console.log(`
Concierge is running locally.

${rows.map(([label, url]) => `  ${label.padEnd(width)}  ${url}`).join("\n")}

Demo tenant "${DEMO.tenantName}" answers on WhatsApp number ${DEMO.whatsapp.displayPhoneNumber}:
try "what are your hours?" or "can I see the menu?" on the sandbox page, or write to
hello@${DEMO_EMAIL.domain} from its /email page: a subject with "invoice" in it is relayed to
the sandbox's Discord inbox (/discord/inbox), where Reply and Drop work as in Discord. Sign in to the
dashboard choosing "The demo business" to edit its rules and watch its approvals.
State lives in .local/state. Press Ctrl+C to stop.
`);
