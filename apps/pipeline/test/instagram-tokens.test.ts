import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../src/index.ts";
import { INSTAGRAM_TOKEN_CRON } from "../src/channels/instagram/connect.ts";
import { getPageToken } from "../src/channels/instagram/page-tokens.ts";
import { createEmailAlias, getEmailAlias } from "@concierge/storage";
import { connectedInstagramPage, newBareAccount, tenantApi, tenantId } from "./helpers.ts";

/** A page with an Instagram account at the fake, connected to the demo tenant through the RPC. */
const connectedPage = () => connectedInstagramPage(tenantId, "30");

const DAY = 24 * 60 * 60 * 1000;

async function setMode(pageId: string, mode: "valid" | "expiring" | "invalid" | "revoked") {
  await fetch(`${env.SANDBOX_URL}/__sandbox/pages`, {
    method: "POST",
    body: JSON.stringify({ id: pageId, mode }),
  });
}

async function expiresIn(accountId: string, ms: number) {
  await env.DB.prepare("UPDATE channel_tokens SET expires_at = ? WHERE account_id = ?")
    .bind(Date.now() + ms, accountId)
    .run();
}

function tokenRow(accountId: string) {
  return env.DB.prepare("SELECT * FROM channel_tokens WHERE account_id = ?")
    .bind(accountId)
    .first<Record<string, unknown>>();
}

function runDailyCron() {
  return worker.scheduled(
    createScheduledController({ cron: INSTAGRAM_TOKEN_CRON, scheduledTime: Date.now() }),
    env,
  );
}

describe("Instagram token refresh cron", () => {
  it("re-derives a page token nearing expiry from the sealed user token and stores it with its new expiry", async () => {
    const { accountId, pageToken } = await connectedPage();
    await expiresIn(accountId, 2 * DAY);
    const before = await tokenRow(accountId);
    await runDailyCron();
    const after = await tokenRow(accountId);
    expect(after).toMatchObject({ status: "ok", dead_reason: null });
    expect(after!.sealed_token).not.toBe(before!.sealed_token);
    expect(after!.expires_at as number).toBeGreaterThan(Date.now() + 80 * DAY);
    expect(after!.refreshed_at as number).toBeGreaterThan(before!.refreshed_at as number);
    const fresh = await getPageToken(env, tenantId, accountId);
    expect(fresh).toMatch(/^EAAP/);
    expect(fresh).not.toBe(pageToken);
  });

  it("leaves tokens far from expiry untouched", async () => {
    const { accountId, pageToken } = await connectedPage();
    await expiresIn(accountId, 30 * DAY);
    const before = await tokenRow(accountId);
    await runDailyCron();
    expect(await tokenRow(accountId)).toEqual(before);
    expect(await getPageToken(env, tenantId, accountId)).toBe(pageToken);
  });

  it("marks a token Meta calls expired as dead with the reason, and the send path gets no token", async () => {
    const { pageId, accountId } = await connectedPage();
    await expiresIn(accountId, 1 * DAY);
    await setMode(pageId, "invalid");
    await runDailyCron();
    expect(await tokenRow(accountId)).toMatchObject({ status: "dead", dead_reason: "expired" });
    expect(await getPageToken(env, tenantId, accountId)).toBeNull();
  });

  it("marks a token whose app access was withdrawn as dead with reason revoked", async () => {
    const { pageId, accountId } = await connectedPage();
    await expiresIn(accountId, 3 * DAY);
    await setMode(pageId, "revoked");
    await runDailyCron();
    expect(await tokenRow(accountId)).toMatchObject({ status: "dead", dead_reason: "revoked" });
  });

  it("changes nothing when the Graph API fails, so tomorrow's run tries again", async () => {
    const { accountId } = await connectedPage();
    await expiresIn(accountId, 2 * DAY);
    const before = await tokenRow(accountId);
    await fetch(`${env.SANDBOX_URL}/__sandbox/pages/faults`, {
      method: "POST",
      body: JSON.stringify({ status: 500, code: 2, message: "An unexpected error has occurred." }),
    });
    await runDailyCron();
    expect(await tokenRow(accountId)).toEqual(before);
  });

  it("is not run by the 15-minute schedule", async () => {
    const { pageId, accountId } = await connectedPage();
    await expiresIn(accountId, 1 * DAY);
    await setMode(pageId, "invalid");
    await worker.scheduled(
      createScheduledController({ cron: "*/15 * * * *", scheduledTime: Date.now() }),
      env,
    );
    expect(await tokenRow(accountId)).toMatchObject({ status: "ok" });
    // Tidy: the daily run marks it, so later tests see no due rows of ours.
    await runDailyCron();
  });
});

describe("connectInstagram", () => {
  it("refuses a page another tenant owns and changes nothing", async () => {
    const { pageId, accountId } = await connectedPage();
    const before = await tokenRow(accountId);
    const other = `t_other_${Date.now()}`;
    await env.DB.prepare("INSERT INTO tenants (id, name, created_at) VALUES (?, 'Other', ?)")
      .bind(other, Date.now())
      .run()
      .catch(() => undefined);
    const tokens = (await (
      await fetch(`${env.SANDBOX_URL}/__sandbox/pages/tokens`, {
        method: "POST",
        body: JSON.stringify({ pageId }),
      })
    ).json()) as { pageToken: string };
    const res = await tenantApi.connectInstagram(other, {
      pageId,
      instagramId: "17859999999999",
      username: "someone.else",
      pageToken: tokens.pageToken,
    });
    expect(res).toMatchObject({ ok: false, error: { code: "account_taken" } });
    expect(await tokenRow(accountId)).toEqual(before);
  });

  it("refuses a token Meta says is invalid and saves nothing", async () => {
    const res = await tenantApi.connectInstagram(tenantId, {
      pageId: "3099999999999",
      instagramId: "17858888888888",
      username: "nobody",
      pageToken: "EAAPnotatokenthefakeknows",
    });
    expect(res).toMatchObject({ ok: false, error: { code: "invalid_token" } });
    const n = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM channel_accounts WHERE external_id = '17858888888888'",
    ).first<{
      n: number;
    }>();
    expect(n!.n).toBe(0);
  });
});

describe("the daily cron and reverse aliases", () => {
  it("deletes reverse aliases past their expiry and keeps the live ones", async () => {
    const account = await newBareAccount();
    const alias = (tokenHash: string, expiresAt: number) =>
      createEmailAlias(env.DB, {
        tokenHash,
        tenantId,
        accountId: account.id,
        originalSender: "customer@example.com",
        replyFrom: "hello@acme.cncg.email",
        forwardedTo: "owner@example.com",
        originalMessageId: "<m1@example.com>",
        originalReferences: "",
        createdAt: Date.now() - 31 * DAY,
        expiresAt,
      });
    const expired = `expired-${crypto.randomUUID()}`;
    const live = `live-${crypto.randomUUID()}`;
    await alias(expired, Date.now() - 1000);
    await alias(live, Date.now() + DAY);
    await runDailyCron();
    expect(await getEmailAlias(env.DB, account.id, expired)).toBeNull();
    expect(await getEmailAlias(env.DB, account.id, live)).not.toBeNull();
  });
});
