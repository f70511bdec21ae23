import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { createChannelAccount, getConnectedAccount } from "@concierge/storage";
import { describe, expect, it } from "vitest";
import worker from "../src/index.ts";
import { signIn } from "./helpers.ts";

// The WhatsApp self-test by cron (issue 19 item 9): the dashboard's hourly scheduled handler runs
// each active number's self-test again once the last is a week old, through the real ingress.

const DAY = 86_400_000;

/** One run of the hourly cron as the runtime starts it, at `at`. */
async function cron(at: number) {
  const ctx = createExecutionContext();
  worker.scheduled(createScheduledController({ cron: "41 * * * *", scheduledTime: at }), env, ctx);
  await waitOnExecutionContext(ctx);
}

let n = 0;
async function number(tenantId: string) {
  n += 1;
  return createChannelAccount(env.DB, {
    tenantId,
    channel: "whatsapp",
    externalId: `96${String(Date.now() % 1e9).padStart(9, "0")}${n}`,
  });
}

/** Runs until this account was reached (other tests' numbers may be due before it). */
async function cronUntilTested(tenantId: string, accountId: string, at: number) {
  for (let i = 0; i < 20; i++) {
    await cron(at);
    const a = await getConnectedAccount(env.DB, tenantId, accountId);
    if (a?.selfTestAt && a.selfTestOkAt) return a;
  }
  throw new Error("the cron never reached the account");
}

describe("the weekly WhatsApp self-test", () => {
  it("runs a number's self-test through the ingress, not again within the week, and again after it", async () => {
    const s = await signIn();
    const account = await number(s.tenantId);
    const now = Date.now();
    const first = await cronUntilTested(s.tenantId, account.id, now);
    expect(first).toMatchObject({ selfTestError: null });
    expect(first.selfTestOkAt).toEqual(expect.any(Number));

    // The next run, an hour later: not due.
    await cron(now + 3_600_000);
    expect((await getConnectedAccount(env.DB, s.tenantId, account.id))?.selfTestAt).toBe(first.selfTestAt);

    // Eight days on: due again, and run again.
    await cronUntilTested(s.tenantId, account.id, now + 8 * DAY);
    const again = await getConnectedAccount(env.DB, s.tenantId, account.id);
    expect(again!.selfTestAt).toBeGreaterThan(first.selfTestAt!);
  });

  it("leaves a suspended tenant's numbers and switched-off numbers alone", async () => {
    const s = await signIn();
    const suspended = await number(s.tenantId);
    await env.DB.prepare("UPDATE tenants SET status = 'suspended' WHERE id = ?").bind(s.tenantId).run();
    const other = await signIn();
    const off = await number(other.tenantId);
    await env.DB.prepare("UPDATE channel_accounts SET status = 'disabled' WHERE id = ?").bind(off.id).run();
    const witness = await number(other.tenantId);
    await cronUntilTested(other.tenantId, witness.id, Date.now());
    expect((await getConnectedAccount(env.DB, s.tenantId, suspended.id))?.selfTestAt).toBeNull();
    expect((await getConnectedAccount(env.DB, other.tenantId, off.id))?.selfTestAt).toBeNull();
  });
});
