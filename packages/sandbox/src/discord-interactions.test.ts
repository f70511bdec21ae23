import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configFromEnv, registerCommands } from "../../../scripts/discord-register.ts";
import { type Sandbox, startSandbox } from "./server.ts";

const APP = "1300000000000000001";
let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await startSandbox({ appSecret: "s", discordToken: "bot-token", discordApplicationId: APP });
});
afterAll(() => sandbox.close());

describe("pnpm discord:register", () => {
  it("bulk-overwrites /status, /domains and /rules with the bot token, and again without duplicates", async () => {
    const config = { baseUrl: sandbox.discordBaseUrl, applicationId: APP, botToken: "bot-token" };
    expect(await registerCommands(config)).toEqual({ ok: true, names: ["status", "domains", "rules"] });
    expect(await registerCommands(config)).toMatchObject({ ok: true });
    const fake = sandbox.discordInteractions;
    expect(fake.commandPuts).toBe(2);
    expect(fake.commands.map((c) => c.name)).toEqual(["status", "domains", "rules"]);
    const rules = fake.commands.find((c) => c.name === "rules") as { options: { autocomplete: boolean }[] };
    expect(rules.options[0]!.autocomplete).toBe(true);
  });

  it("reports Discord's refusal of a wrong bot token", async () => {
    const r = await registerCommands({
      baseUrl: sandbox.discordBaseUrl,
      applicationId: APP,
      botToken: "wrong",
    });
    expect(r).toMatchObject({ ok: false, status: 401 });
  });

  it("names the missing variables instead of calling Discord", async () => {
    expect(configFromEnv({})).toEqual({
      ok: false,
      missing: ["DISCORD_APPLICATION_ID", "DISCORD_BOT_TOKEN"],
    });
    expect(configFromEnv({ DISCORD_APPLICATION_ID: APP, DISCORD_BOT_TOKEN: "t" })).toMatchObject({
      ok: true,
      config: { baseUrl: "https://discord.com/api/v10" },
    });
    const script = path.join(import.meta.dirname, "../../../scripts/discord-register.ts");
    const err = await promisify(execFile)(process.execPath, [script], {
      env: { PATH: process.env.PATH ?? "" },
    }).catch((e: { code: number; stderr: string }) => e);
    expect(err).toMatchObject({ code: 2 });
    expect((err as { stderr: string }).stderr).toContain("DISCORD_APPLICATION_ID and DISCORD_BOT_TOKEN");
  });

  it("runs as a script against the sandbox", async () => {
    const script = path.join(import.meta.dirname, "../../../scripts/discord-register.ts");
    const out = await promisify(execFile)(process.execPath, [script], {
      env: {
        PATH: process.env.PATH ?? "",
        DISCORD_API_BASE_URL: sandbox.discordBaseUrl,
        DISCORD_APPLICATION_ID: APP,
        DISCORD_BOT_TOKEN: "bot-token",
      },
    });
    expect(out.stdout).toContain("Registered /status, /domains, /rules");
  });
});

describe("Discord's interaction webhook in the sandbox", () => {
  it("records edits of the original response and ephemeral follow-ups per token", async () => {
    const base = `${sandbox.discordBaseUrl}/webhooks/${APP}/tok-1`;
    const edit = await fetch(`${base}/messages/@original`, {
      method: "PATCH",
      body: JSON.stringify({ content: "done" }),
    });
    expect(edit.status).toBe(200);
    const follow = await fetch(base, { method: "POST", body: JSON.stringify({ content: "no", flags: 64 }) });
    expect(follow.status).toBe(200);
    const calls = sandbox.discordInteractions.calls.filter((c) => c.token === "tok-1");
    expect(calls.map((c) => [c.kind, c.ephemeral])).toEqual([
      ["edit_original", false],
      ["follow_up", true],
    ]);
  });
});
