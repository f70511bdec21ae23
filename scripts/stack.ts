// The whole product in one local runtime: all five Workers in one Miniflare (wrangler's own),
// each from its real wrangler.jsonc and bundled as `wrangler deploy` bundles it, with real local
// D1, Durable Objects and service bindings, plus the sandbox playing the outside world.
// Used by `npm start`, the end-to-end tests and the benchmark.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { promisify } from "node:util";
import { type Sandbox, startSandbox } from "@concierge/sandbox";
import { TEST_SECRETS } from "@concierge/testing/secrets";
import {
  DEMO,
  DEMO_EMAIL,
  seedDemoAi,
  seedDemoDiscord,
  seedDemoEmail,
  seedDemoTenant,
} from "@concierge/testing/seed";
import { currentWatchdog, descendants } from "@concierge/testing/watchdog";
import { APPS, type AppName, appDir, appWorkerOptions, buildAppAsync } from "@concierge/testing/workers";
import { d1WorkerScript, httpD1 } from "./stack-d1.ts";

const root = path.join(import.meta.dirname, "..");
const requireFromWrangler = createRequire(createRequire(import.meta.url).resolve("wrangler/package.json"));
// Only the surface used here; miniflare is wrangler's dependency, not ours.
type MiniflareInstance = {
  ready: Promise<URL>;
  dispose(): Promise<void>;
  unsafeGetDirectURL(workerName?: string): Promise<URL>;
};
const { Miniflare, convertV4MiniflareOptions } = (await import(requireFromWrangler.resolve("miniflare"))) as {
  Miniflare: new (options: unknown) => MiniflareInstance;
  convertV4MiniflareOptions(options: unknown): unknown;
};

export type PublicApp = Exclude<AppName, "pipeline">;

export type StackOptions = {
  /** Where D1 and Durable Object state lives (wrangler's layout, so `wrangler d1` sees it too). */
  persistDir: string;
  /** Fixed ports for `npm start`; 0 or absent picks a free one. */
  ports?: Partial<Record<PublicApp | "sandbox", number>>;
  /** Read each app's .dev.vars over the development defaults (npm start); tests leave it off. */
  useDevVars?: boolean;
  /** Reply buffer of the demo account; tests and the bench use 0 so turns run at once. */
  demoWaitSeconds?: number;
  /** More Workers in the same runtime (the bench's bare Worker), each with a port of its own. */
  extraWorkers?: { name: string; script: string; port?: number; options?: Record<string, unknown> }[];
  /** Every line the Workers log, e.g. for tests that prove message text never reaches a log. */
  onLog?: (line: string, level: string) => void;
  /** Keep the Workers' logs off the terminal (the bench). */
  quiet?: boolean;
  /** Install the bot for the demo tenant in the sandbox's Discord guild, its #inbox as the inbox. */
  demoDiscord?: boolean;
  /** The pipeline's AI: the offline provider (default) or the sandbox's OpenAI-compatible fake. */
  ai?: "offline" | "sandbox";
  /**
   * The cost benchmark's meter (@concierge/core/meter) on in the pipeline, meta-webhooks and
   * email-inbound; each then answers `GET /__meter`, the pipeline on a port of its own.
   */
  meter?: boolean;
  /**
   * The pipeline's per-number send budget (SEND_RATE_LIMIT) per 10 s, over wrangler.jsonc's 600.
   * The ingress bench loads one demo number far above what Meta lets a number receive (80
   * messages/s, inbound included), so there the pacing would only measure itself.
   */
  sendRateLimit?: number;
  /** One line per step done (each Worker bundled, migrations, runtime, seed), for `npm start`. */
  onProgress?: (line: string) => void;
  /** workerd's inspector on this port (the benches' CPU profile, `bench/profile.ts`). */
  inspectorPort?: number;
};

export type Stack = {
  urls: Record<PublicApp, string> & { sandbox: string };
  extraUrls: Record<string, string>;
  /** With `meter`: each metered Worker's base URL, whose `/__meter` answers its counts. */
  meterUrls: Record<string, string>;
  sandbox: Sandbox;
  db: D1Database;
  dispose(): Promise<void>;
};

/** Development values of each app's secrets and outside-service URLs. */
function devBindings(app: AppName, sandbox: Sandbox): Record<string, string> {
  switch (app) {
    case "pipeline":
      return {
        ENCRYPTION_KEY: TEST_SECRETS.encryptionKey,
        WHATSAPP_ACCESS_TOKEN: TEST_SECRETS.whatsappToken,
        FACEBOOK_APP_ID: TEST_SECRETS.facebookAppId,
        META_APP_SECRET: TEST_SECRETS.metaAppSecret,
        META_GRAPH_BASE_URL: sandbox.graphBaseUrl,
        AI_PROVIDER: "offline",
        DISCORD_API_BASE_URL: sandbox.discordBaseUrl,
        DISCORD_BOT_TOKEN: TEST_SECRETS.discordBotToken,
        DISCORD_CLIENT_ID: TEST_SECRETS.discordApplicationId,
        DISCORD_CLIENT_SECRET: TEST_SECRETS.discordClientSecret,
        EMAIL_OUTBOX_URL: sandbox.emailOutboxUrl,
        CLOUDFLARE_API_BASE_URL: sandbox.cloudflareBaseUrl,
        CLOUDFLARE_ZONE_ID: "0000000000000000000000000000c0de",
        CLOUDFLARE_API_TOKEN: TEST_SECRETS.cloudflareApiToken,
        RAZORPAY_KEY_ID: TEST_SECRETS.razorpayKeyId,
        RAZORPAY_KEY_SECRET: TEST_SECRETS.razorpayKeySecret,
      };
    case "discord-interactions":
      // The sandbox signs the interactions it plays with the matching private key.
      return {
        DISCORD_PUBLIC_KEY: TEST_SECRETS.discordPublicKey,
        DISCORD_APPLICATION_ID: TEST_SECRETS.discordApplicationId,
        DISCORD_API_BASE_URL: sandbox.discordBaseUrl,
      };
    case "meta-webhooks":
      return {
        META_APP_SECRET: TEST_SECRETS.metaAppSecret,
        WHATSAPP_VERIFY_TOKEN: TEST_SECRETS.whatsappVerifyToken,
      };
    case "dashboard":
      return {
        ENVIRONMENT: "local",
        GOOGLE_CLIENT_ID: TEST_SECRETS.googleClientId,
        GOOGLE_CLIENT_SECRET: TEST_SECRETS.googleClientSecret,
        FACEBOOK_APP_ID: TEST_SECRETS.facebookAppId,
        // Embedded Signup on, played by the sandbox's fake SDK (FACEBOOK_SDK_URL below).
        WHATSAPP_EMBEDDED_SIGNUP_CONFIG_ID: "sandbox-embedded-signup-config",
        META_APP_SECRET: TEST_SECRETS.metaAppSecret,
        DISCORD_CLIENT_ID: TEST_SECRETS.discordApplicationId,
        RAZORPAY_KEY_ID: TEST_SECRETS.razorpayKeyId,
        RAZORPAY_WEBHOOK_SECRET: TEST_SECRETS.razorpayWebhookSecret,
      };
    default:
      return {};
  }
}

/** KEY=value lines, as wrangler reads .dev.vars. */
export function parseDevVars(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (m?.[2]) out[m[1]!] = m[2].replace(/^"(.*)"$/, "$1");
  }
  return out;
}

function devVars(app: AppName): Record<string, string> {
  const file = path.join(appDir(app), ".dev.vars");
  return existsSync(file) ? parseDevVars(readFileSync(file, "utf8")) : {};
}

/**
 * Reads a config with wrangler's own logging down to errors: what it says about a config
 * ("Using secrets defined in .dev.vars", the AI binding being remote) is about `wrangler dev`,
 * while here the bindings come from devBindings() and the pipeline's AI is offline.
 */
function quietWrangler<T>(read: () => T): T {
  const level = process.env.WRANGLER_LOG;
  process.env.WRANGLER_LOG = "error";
  try {
    return read();
  } finally {
    if (level === undefined) delete process.env.WRANGLER_LOG;
    else process.env.WRANGLER_LOG = level;
  }
}

/** Applies D1 migrations with wrangler itself, exactly as deployment does (locally, no login). */
export async function migrate(persistDir: string): Promise<void> {
  await promisify(execFile)(
    "wrangler",
    ["d1", "migrations", "apply", "DB", "--local", "--persist-to", persistDir],
    { cwd: appDir("pipeline"), env: { ...process.env, CI: "true" } },
  );
}

/** The Workers the cost benchmark meters: all that a canned, AI or email reply passes through. */
const METERED: AppName[] = ["pipeline", "meta-webhooks", "email-inbound"];
/** The Worker that runs Node's D1 statements (stack-d1.ts). */
const STACK_D1 = "stack-d1";
/** How long the runtime may take to stop before its processes are killed. */
const DISPOSE_LIMIT_MS = 15_000;

/**
 * Miniflare's dispose, with a time limit: a runtime that does not stop in time (a stuck
 * workerd, a request that never ends) is killed, so no bench or test waits on it for ever.
 */
async function boundedDispose(runtime: MiniflareInstance): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const done = await Promise.race([
    runtime.dispose().then(() => true),
    new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), DISPOSE_LIMIT_MS);
    }),
  ]);
  clearTimeout(timer);
  if (done) return;
  for (const pid of descendants(process.pid, "workerd")) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone meanwhile
    }
  }
}

export async function startStack(opts: StackOptions): Promise<Stack> {
  const ports = opts.ports ?? {};
  const sandbox = await startSandbox({
    port: ports.sandbox ?? 0,
    appSecret: opts.useDevVars
      ? (devVars("meta-webhooks").META_APP_SECRET ?? TEST_SECRETS.metaAppSecret)
      : TEST_SECRETS.metaAppSecret,
    discordToken: opts.useDevVars
      ? (devVars("pipeline").DISCORD_BOT_TOKEN ?? TEST_SECRETS.discordBotToken)
      : TEST_SECRETS.discordBotToken,
    graphToken: opts.useDevVars
      ? (devVars("pipeline").WHATSAPP_ACCESS_TOKEN ?? TEST_SECRETS.whatsappToken)
      : TEST_SECRETS.whatsappToken,
    discordClientId: TEST_SECRETS.discordApplicationId,
    discordClientSecret: TEST_SECRETS.discordClientSecret,
    googleClientId: TEST_SECRETS.googleClientId,
    googleClientSecret: TEST_SECRETS.googleClientSecret,
    facebookAppId: TEST_SECRETS.facebookAppId,
    // Razorpay's keys as the Workers have them: the sandbox checks and signs with the same ones.
    razorpayKeyId: opts.useDevVars
      ? (devVars("pipeline").RAZORPAY_KEY_ID ?? TEST_SECRETS.razorpayKeyId)
      : TEST_SECRETS.razorpayKeyId,
    razorpayKeySecret: opts.useDevVars
      ? (devVars("pipeline").RAZORPAY_KEY_SECRET ?? TEST_SECRETS.razorpayKeySecret)
      : TEST_SECRETS.razorpayKeySecret,
    razorpayWebhookSecret: opts.useDevVars
      ? (devVars("dashboard").RAZORPAY_WEBHOOK_SECRET ?? TEST_SECRETS.razorpayWebhookSecret)
      : TEST_SECRETS.razorpayWebhookSecret,
    emailDemoAddress: `hello@${DEMO_EMAIL.domain}`,
    phoneNumbers: [
      {
        id: DEMO.whatsapp.phoneNumberId,
        display: DEMO.whatsapp.displayPhoneNumber,
        business: DEMO.tenantName,
      },
    ],
  });
  const progress = opts.onProgress ?? (() => {});
  let mf: MiniflareInstance | undefined;
  try {
    // Bundled in parallel, reported in a fixed order as each one (and those before it) is done.
    const bundles = APPS.map((app) => buildAppAsync(app));
    const migrated = migrate(opts.persistDir);
    // A later step that fails while an earlier one is awaited is no unhandled rejection: its
    // error is thrown when its turn comes.
    for (const p of [...bundles, migrated]) p.catch(() => {});
    const scripts: string[] = [];
    for (const [i, app] of APPS.entries()) {
      scripts.push(await bundles[i]!);
      progress(`  bundled ${app}`);
    }
    await migrated;
    progress("  applied the D1 migrations");
    const workers = APPS.map((app, i) => {
      const options = quietWrangler(() => appWorkerOptions(app));
      return {
        ...options,
        name: app,
        modules: true,
        scriptPath: scripts[i]!,
        // Module names are resolved under this root; the bundle lives in its own build directory.
        modulesRoot: path.dirname(scripts[i]!),
        bindings: {
          ...(options.bindings as Record<string, unknown> | undefined),
          ...devBindings(app, sandbox),
          ...(opts.useDevVars ? devVars(app) : {}),
          // The sandbox's address is only known now, whatever .dev.vars says.
          ...(app === "pipeline"
            ? {
                META_GRAPH_BASE_URL: sandbox.graphBaseUrl,
                DISCORD_API_BASE_URL: sandbox.discordBaseUrl,
                CLOUDFLARE_API_BASE_URL: sandbox.cloudflareBaseUrl,
                RAZORPAY_API_BASE_URL: sandbox.razorpayApiBaseUrl,
                // Verification links in mail point at the local dashboard.
                ...(ports.dashboard ? { DASHBOARD_URL: `http://localhost:${ports.dashboard}` } : {}),
              }
            : {}),
          ...(app === "discord-interactions" ? { DISCORD_API_BASE_URL: sandbox.discordBaseUrl } : {}),
          ...(app === "dashboard"
            ? {
                GOOGLE_OAUTH_BASE_URL: sandbox.googleBaseUrl,
                META_DIALOG_BASE_URL: sandbox.facebookDialogBaseUrl,
                META_GRAPH_BASE_URL: sandbox.graphBaseUrl,
                // Meta's JavaScript SDK for Embedded Signup: the sandbox's fake, whose signup
                // dialog mints a fresh number for each business.
                FACEBOOK_SDK_URL: sandbox.facebookSdkUrl,
                DISCORD_AUTHORIZE_URL: `${sandbox.url}/discord/oauth2/authorize`,
                RAZORPAY_CHECKOUT_URL: sandbox.razorpayCheckoutUrl,
                RAZORPAY_HOSTED_CHECKOUT_URL: sandbox.razorpayHostedCheckoutUrl,
                // Cloudflare Access in front of /manage, played by the sandbox: its certs, its
                // issuer and the AUD tag its sign-in page writes into the tokens.
                ACCESS_TEAM_DOMAIN: sandbox.accessTeamDomain,
                ACCESS_AUD: sandbox.access.aud,
              }
            : {}),
          ...(app === "pipeline" && opts.ai === "sandbox"
            ? { AI_PROVIDER: "openai", OPENAI_BASE_URL: sandbox.openAiBaseUrl }
            : {}),
          ...(opts.meter && METERED.includes(app) ? { METER_ENABLED: "1" } : {}),
        },
        ...(app === "pipeline" && opts.sendRateLimit
          ? {
              ratelimits: {
                ...(options.ratelimits as Record<string, unknown> | undefined),
                SEND_RATE_LIMIT: { namespace_id: "1507", simple: { limit: opts.sendRateLimit, period: 10 } },
              },
            }
          : {}),
        // The pipeline has no port of its own, except for the meter's counts.
        unsafeDirectSockets:
          app === "pipeline" && !opts.meter
            ? []
            : [{ host: "127.0.0.1", port: app === "pipeline" ? 0 : (ports[app] ?? 0) }],
      };
    });
    const extra: Record<string, unknown>[] = (opts.extraWorkers ?? []).map((w) => ({
      name: w.name,
      modules: true,
      script: w.script,
      compatibilityDate: "2026-11-01",
      ...(w.options ?? {}),
      unsafeDirectSockets: [{ host: "127.0.0.1", port: w.port ?? 0 }],
    }));
    // Node's way into the pipeline's D1 (stack-d1.ts says why not Miniflare's own proxy).
    const d1Token = randomBytes(16).toString("hex");
    extra.push({
      name: STACK_D1,
      modules: true,
      script: d1WorkerScript(d1Token),
      compatibilityDate: "2026-11-01",
      d1Databases: (workers[0] as { d1Databases?: unknown }).d1Databases,
      unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
    });
    mf = new Miniflare(
      convertV4MiniflareOptions({
        host: "127.0.0.1",
        port: 0,
        ...(opts.inspectorPort ? { inspectorPort: opts.inspectorPort } : {}),
        // No network here: use Miniflare's placeholder Request.cf instead of fetching the real one.
        cf: false,
        handleStructuredLogs: ({ level, message }: { level: string; message: string }) => {
          opts.onLog?.(message, level);
          if (opts.quiet) return;
          if (level === "error" || level === "warn") console.error(message);
          else console.log(message);
        },
        resourcePersistencePath: path.join(opts.persistDir, "v3"),
        // The sandbox's email page delivers through Miniflare's local email() trigger.
        unsafeTriggerHandlers: true,
        workers: [...workers, ...extra],
      }),
    );
    const runtime = mf;
    const entry = (await runtime.ready).toString().replace(/\/$/, "");
    progress("  started the Workers runtime");
    const url = async (name: string) =>
      (await runtime.unsafeGetDirectURL(name)).toString().replace(/\/$/, "");
    const urls = {
      "meta-webhooks": await url("meta-webhooks"),
      "email-inbound": await url("email-inbound"),
      "discord-interactions": await url("discord-interactions"),
      dashboard: await url("dashboard"),
      sandbox: sandbox.url,
    };
    const extraUrls: Record<string, string> = {};
    for (const w of opts.extraWorkers ?? []) extraUrls[w.name] = await url(w.name);
    const d1Url = await url(STACK_D1);
    const meterUrls: Record<string, string> = {};
    if (opts.meter) for (const app of METERED) meterUrls[app] = await url(app);
    // A run with a time limit (bench, e2e) probes these ports and disposes the stack on timeout.
    currentWatchdog()?.watch({ ...urls, ...extraUrls, [STACK_D1]: d1Url });
    sandbox.setWebhookUrl(`${urls["meta-webhooks"]}/webhook/whatsapp`);
    sandbox.setInstagramWebhookUrl(`${urls["meta-webhooks"]}/webhook/instagram`);
    sandbox.discordInteractions.interactionsUrl = `${urls["discord-interactions"]}/interactions`;
    sandbox.setRazorpayWebhookUrl(`${urls.dashboard}/webhooks/razorpay`);
    // Access's sign-in hands its token only to the dashboard.
    sandbox.access.setDashboardUrl(urls.dashboard);
    // Embedded Signup's dialog posts its session info and code to the dashboard only.
    sandbox.embeddedSignup.setDashboardUrl(urls.dashboard);
    // What `wrangler dev` serves as /cdn-cgi/handler/email, aimed at email-inbound.
    sandbox.setEmailHandler({
      url: `${entry}/cdn-cgi/local/email`,
      headers: { "MF-Route-Override": "email-inbound" },
    });
    const db = httpD1(d1Url, d1Token);
    const key = opts.useDevVars
      ? (devVars("pipeline").ENCRYPTION_KEY ?? TEST_SECRETS.encryptionKey)
      : TEST_SECRETS.encryptionKey;
    await seedDemoTenant(db, key, { waitSeconds: opts.demoWaitSeconds });
    await seedDemoEmail(db, { waitSeconds: opts.demoWaitSeconds });
    await seedDemoAi(db);
    if (opts.demoDiscord) {
      const guild = [...sandbox.discord.guilds.values()][0];
      const inbox = guild?.channels.find((c) => c.name === "inbox");
      if (guild && inbox) {
        sandbox.discord.botGuilds.add(guild.id);
        await seedDemoDiscord(db, { id: guild.id, name: guild.name, inboxChannelId: inbox.id });
      }
    }
    progress("  seeded the demo tenant");
    let disposed: Promise<void> | undefined;
    const dispose = () => {
      disposed ??= (async () => {
        await boundedDispose(runtime);
        await sandbox.close();
      })();
      return disposed;
    };
    currentWatchdog()?.onTimeout(dispose);
    return { urls, extraUrls, meterUrls, sandbox, db, dispose };
  } catch (err) {
    // Whatever started is stopped: workerd must not outlive a failed start.
    await mf?.dispose().catch(() => {});
    await sandbox.close();
    throw err;
  }
}

export { root };
