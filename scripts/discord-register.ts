#!/usr/bin/env node
// `pnpm discord:register`: registers the bot's slash commands (/status, /domains, /rules) with
// Discord's bulk overwrite, PUT {DISCORD_API_BASE_URL}/applications/{id}/commands. Run it after a
// command definition changes; registering the same list again changes nothing.
//
//   DISCORD_APPLICATION_ID=… DISCORD_BOT_TOKEN=… [DISCORD_API_BASE_URL=…] pnpm discord:register
import { pathToFileURL } from "node:url";
import { DISCORD_COMMANDS } from "../packages/channels/src/discord-commands.ts";

export type RegisterConfig = { baseUrl: string; applicationId: string; botToken: string };

export const DEFAULT_DISCORD_API_BASE_URL = "https://discord.com/api/v10";

/** The configuration from the environment, or the list of what is missing. */
export function configFromEnv(
  env: Record<string, string | undefined>,
): { ok: true; config: RegisterConfig } | { ok: false; missing: string[] } {
  const missing = ["DISCORD_APPLICATION_ID", "DISCORD_BOT_TOKEN"].filter((k) => !env[k]?.trim());
  if (missing.length) return { ok: false, missing };
  return {
    ok: true,
    config: {
      baseUrl: (env.DISCORD_API_BASE_URL?.trim() || DEFAULT_DISCORD_API_BASE_URL).replace(/\/+$/, ""),
      applicationId: env.DISCORD_APPLICATION_ID!.trim(),
      botToken: env.DISCORD_BOT_TOKEN!.trim(),
    },
  };
}

/** One bulk overwrite; returns the names Discord registered, or Discord's error. */
export async function registerCommands(
  c: RegisterConfig,
): Promise<{ ok: true; names: string[] } | { ok: false; status: number; message: string }> {
  const res = await fetch(`${c.baseUrl}/applications/${encodeURIComponent(c.applicationId)}/commands`, {
    method: "PUT",
    headers: { authorization: `Bot ${c.botToken}`, "content-type": "application/json" },
    body: JSON.stringify(DISCORD_COMMANDS),
  });
  const text = await res.text();
  if (!res.ok) return { ok: false, status: res.status, message: text.slice(0, 500) };
  const list = JSON.parse(text) as { name: string }[];
  return { ok: true, names: list.map((x) => x.name) };
}

async function main(): Promise<number> {
  const env = configFromEnv(process.env);
  if (!env.ok) {
    process.stderr.write(
      `discord:register needs ${env.missing.join(" and ")} (the application id from the Developer Portal, and the bot token).\n` +
        `DISCORD_API_BASE_URL is optional (default ${DEFAULT_DISCORD_API_BASE_URL}).\n`,
    );
    return 2;
  }
  const r = await registerCommands(env.config);
  if (!r.ok) {
    const hint =
      r.status === 401
        ? " Check DISCORD_BOT_TOKEN."
        : r.status === 403
          ? " Check DISCORD_APPLICATION_ID."
          : "";
    process.stderr.write(`Discord refused the commands (HTTP ${r.status}).${hint}\n${r.message}\n`);
    return 1;
  }
  process.stdout.write(`Registered ${r.names.map((n) => `/${n}`).join(", ")} at ${env.config.baseUrl}\n`);
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`discord:register failed: ${String(err)}\n`);
      process.exit(1);
    },
  );
}
