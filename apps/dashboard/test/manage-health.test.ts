// The platform health page (/manage/health) through the Worker: every Worker's configuration by
// name (the three ingress Workers over their HEALTH_* bindings to a named entrypoint; one that
// does not answer is shown as unreachable, never a 500), each cron judged late by its own
// interval, and the Discord bot check in the operator's words.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { WorkerConfigReport } from "@concierge/core";
import { recordCronRun } from "@concierge/storage";
import { declaredConfigNames, listedConfigNames } from "@concierge/testing/config-names";
import { injectDiscordFault } from "@concierge/testing/discord-sandbox";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import devVarsExample from "../.dev.vars.example?raw";
import { DASHBOARD_CONFIG } from "../src/manage/config-report.ts";
import { cronStatus, PLATFORM_WORKERS } from "../src/manage/health.ts";
import { router } from "../src/routes.ts";
import wranglerConfig from "../wrangler.jsonc?raw";
import { ORIGIN } from "./helpers.ts";
import { asOperator, signInOperator, type TestOperator } from "./operator-helpers.ts";

let op: TestOperator;
beforeAll(async () => {
  op = await signInOperator();
});
afterEach(() => vi.restoreAllMocks());

const page = async () => {
  const res = await asOperator(op, "/manage/health");
  expect(res.status).toBe(200);
  return res.text();
};

/** The Workers' table: each row's worker, its state and the names in its "missing" cell. */
function workerRows(html: string): Record<string, { state: string; cell: string }> {
  const rows: Record<string, { state: string; cell: string }> = {};
  for (const m of html.matchAll(/<tr data-worker="([^"]+)" data-worker-state="([^"]+)">([\s\S]*?)<\/tr>/g)) {
    rows[m[1]!] = { state: m[2]!, cell: m[3]! };
  }
  return rows;
}

/** The page with some of the environment replaced (a Worker failing, slow or misreporting). */
async function pageWith(overrides: Partial<Record<keyof Env, unknown>>): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await router.fetch(
    new Request(`${ORIGIN}/manage/health`, { headers: op.headers }),
    { ...env, ...overrides } as Env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

const reportOf = (worker: string, missing: string[] = []): WorkerConfigReport => ({
  worker,
  missing,
  optionalMissing: [],
});

describe("every Worker's configuration", () => {
  it("lists all five Workers, each once; those not running here are unreachable, not a 500", async () => {
    const rows = workerRows(await page());
    expect(Object.keys(rows)).toEqual([...PLATFORM_WORKERS]);
    expect(PLATFORM_WORKERS).toEqual([
      "pipeline",
      "dashboard",
      "meta-webhooks",
      "email-inbound",
      "discord-interactions",
    ]);
    // The pipeline and meta-webhooks run beside the dashboard in these tests (vitest.config.ts),
    // the other two do not: the full report is the local stack's (e2e/operator-access.e2e.test.ts).
    expect(rows.pipeline!.state).toBe("ok");
    expect(rows.dashboard!.state).toBe("ok");
    expect(rows["meta-webhooks"]!.state).toBe("ok");
    expect(rows["email-inbound"]!.state).toBe("unreachable");
    expect(rows["discord-interactions"]!.state).toBe("unreachable");
    expect(rows["email-inbound"]!.cell).toContain("Did not answer over its service binding");
  });

  it("names what a Worker misses, and calls one that fails, hangs, misreports or is not bound unreachable", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const hanging = pageWith({
      HEALTH_META_WEBHOOKS: {
        configReport: async () => reportOf("meta-webhooks", ["WHATSAPP_VERIFY_TOKEN"]),
      },
      HEALTH_EMAIL_INBOUND: { configReport: () => new Promise(() => {}) },
      HEALTH_DISCORD: { configReport: async () => reportOf("meta-webhooks") },
    });
    await vi.advanceTimersByTimeAsync(3_100);
    vi.useRealTimers();
    const res = await hanging;
    expect(res.status).toBe(200);
    const rows = workerRows(await res.text());
    expect(rows["meta-webhooks"]!.state).toBe("missing");
    expect(rows["meta-webhooks"]!.cell).toContain("<code>WHATSAPP_VERIFY_TOKEN</code>");
    expect(rows["email-inbound"]!.state).toBe("unreachable");
    // Another Worker's report under this Worker's binding is not believed.
    expect(rows["discord-interactions"]!.state).toBe("unreachable");

    const broken = await pageWith({
      HEALTH_META_WEBHOOKS: {
        configReport: async () => {
          throw new Error("Worker threw exception");
        },
      },
      HEALTH_EMAIL_INBOUND: {
        configReport: async () => ({ worker: "email-inbound", missing: "everything" }),
      },
      HEALTH_DISCORD: undefined,
    });
    expect(broken.status).toBe(200);
    const html = await broken.text();
    const after = workerRows(html);
    expect(after["meta-webhooks"]!.state).toBe("unreachable");
    expect(after["email-inbound"]!.state).toBe("unreachable");
    expect(after["discord-interactions"]!.state).toBe("unreachable");
    // The missing binding is named in the dashboard's own row too.
    expect(after.dashboard!.state).toBe("missing");
    expect(after.dashboard!.cell).toContain("<code>HEALTH_DISCORD</code>");
    expect(html).toMatch(/<tr data-config="HEALTH_DISCORD">[\s\S]*?badge danger/);
  });

  it("still lists every Worker when the pipeline does not answer", async () => {
    const res = await pageWith({
      OPERATOR: {
        platformHealth: async () => {
          throw new Error("pipeline down");
        },
      },
    });
    expect(res.status).toBe(200);
    const html = await res.text();
    const rows = workerRows(html);
    expect(Object.keys(rows)).toEqual([...PLATFORM_WORKERS]);
    expect(rows.pipeline!.state).toBe("unreachable");
    expect(rows["meta-webhooks"]!.state).toBe("ok");
    expect(html).toContain("The pipeline did not answer");
    expect(html).not.toContain('id="crons"');
  });

  it("the dashboard checks every name its wrangler.jsonc and .dev.vars.example declare, so the list cannot drift", () => {
    expect(listedConfigNames(DASHBOARD_CONFIG)).toEqual(declaredConfigNames(wranglerConfig, devVarsExample));
  });

  it("the health bindings reach only each Worker's configuration report", async () => {
    expect(await env.HEALTH_META_WEBHOOKS.configReport()).toEqual(reportOf("meta-webhooks"));
    // A named entrypoint without fetch: the binding is no way onto the Worker's public routes.
    const stub = env.HEALTH_META_WEBHOOKS as unknown as { fetch(url: string): Promise<Response> };
    await expect(stub.fetch("https://meta-webhooks.test/webhook/whatsapp")).rejects.toThrow();
    const methods = env.HEALTH_META_WEBHOOKS as unknown as Record<string, () => Promise<unknown>>;
    // Awaited in try/catch, as packages/testing's methodsReachedOutside does: handing the RPC
    // promise to expect().rejects leaves its rejection unhandled under workerd.
    const refusals: string[] = [];
    for (const method of ["ingest", "platformHealth", "deleteTenant", "verifySubscription"]) {
      try {
        await methods[method]!();
        refusals.push(`${method}: answered`);
      } catch (err) {
        refusals.push(`${method}: ${(err as Error).message}`);
      }
    }
    expect(refusals).toEqual(
      ["ingest", "platformHealth", "deleteTenant", "verifySubscription"].map(
        (m) => `${m}: The RPC receiver does not implement the method "${m}".`,
      ),
    );
  });
});

describe("the crons", () => {
  const [approvals, daily] = ["*/15 * * * *", "17 3 * * *"];
  const minute = 60_000;
  const hour = 60 * minute;

  /** The state the page shows for each cron after these last runs. */
  async function states(runs: Record<string, number>): Promise<Record<string, string>> {
    for (const [name, ago] of Object.entries(runs)) await recordCronRun(env.DB, name, Date.now() - ago, true);
    const html = await page();
    return Object.fromEntries(
      [...html.matchAll(/<tr data-cron="([^"]+)" data-cron-state="([^"]+)">/g)].map((m) => [m[1]!, m[2]!]),
    );
  }

  it("calls a cron late only after twice its own interval: the daily one is on time a day later", async () => {
    expect(await states({ [approvals]: 20 * minute, [daily]: 25 * hour })).toEqual({
      [approvals]: "ok",
      [daily]: "ok",
    });
    expect(await states({ [approvals]: 31 * minute, [daily]: 49 * hour })).toEqual({
      [approvals]: "late",
      [daily]: "late",
    });
  });

  it("judges never run, failed, late and on time", () => {
    const now = 1_800_000_000_000;
    const cron = { name: daily!, intervalMs: 24 * hour };
    expect(cronStatus({ ...cron, lastRunAt: null, ok: null }, now)).toBe("never");
    expect(cronStatus({ ...cron, lastRunAt: now - hour, ok: false }, now)).toBe("failed");
    expect(cronStatus({ ...cron, lastRunAt: now - 48 * hour, ok: true }, now)).toBe("ok");
    expect(cronStatus({ ...cron, lastRunAt: now - 48 * hour - 1, ok: true }, now)).toBe("late");
  });
});

describe("the Discord bot check", () => {
  const detail = (html: string) => /<p class="muted" id="discord-bot-detail">([^<]*)<\/p>/.exec(html)?.[1];

  it("says in words who the bot is, or why it does not answer", async () => {
    expect(detail(await page())).toMatch(/^Signed in as .+\.$/);
    await injectDiscordFault(env.SANDBOX_URL, { route: "me", status: 401, count: 1 });
    expect(detail(await page())).toBe("Discord refused the bot&#39;s token (HTTP 401).");
  });
});
