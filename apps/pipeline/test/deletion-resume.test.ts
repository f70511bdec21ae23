// Issue 17 items 13 and 14, through the real entry points (the TenantEntrypoint RPC, the cron's
// scheduled handler): a tenant deletion records its effects at Discord and Cloudflare before its
// rows go, a failure there stays pending and the next 15-minute run completes it; a deletion cut
// off midway (a tenant's, a data deletion request's) is finished by the cron.
import { createScheduledController, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { conversationKey } from "@concierge/core";
import {
  createChannelAccount,
  creditBalance,
  grantCredits,
  insertDataDeletion,
  markDataDeletionStarted,
  markTenantDeletingStatement,
} from "@concierge/storage";
import {
  discordInstallCode,
  discordRecords,
  injectDiscordFault,
  newDiscordGuild,
} from "@concierge/testing/discord-sandbox";
import { cloudflareState, injectCloudflareFault } from "@concierge/testing/sandbox-client";
import { describe, expect, it } from "vitest";
import worker from "../src/index.ts";
import { APPROVALS_CRON } from "../src/crons.ts";
import { connectedInstagramPage, inboundText, ingestApi, pageTokens, tenantApi } from "./helpers.ts";

const connectedPage = (tenant: string) => connectedInstagramPage(tenant, "31", "10000000000000077");

const MIN = 60_000;

/** One 15-minute cron run at `at`, through the Worker's scheduled handler. */
function quarterHourCron(at: number) {
  return worker.scheduled(createScheduledController({ cron: APPROVALS_CRON, scheduledTime: at }), env);
}

async function newTenant(name = "Deletion test"): Promise<string> {
  const r = await tenantApi.createTenant({ name });
  if (!r.ok) throw new Error(r.error.message);
  return r.tenantId;
}

const effects = (tenantId: string) =>
  env.DB.prepare("SELECT kind, status, target, attempts FROM side_effects WHERE tenant_id = ? ORDER BY kind")
    .bind(tenantId)
    .all<{ kind: string; status: string; target: string; attempts: number }>()
    .then((r) => r.results);

const count = async (sql: string, ...binds: unknown[]) =>
  (await env.DB.prepare(sql)
    .bind(...binds)
    .first<{ n: number }>())!.n;

async function unsubscribedPages(pageId: string): Promise<string[]> {
  const r = await fetch(`${env.SANDBOX_URL}/__sandbox/pages/subscriptions?page=${pageId}`);
  return ((await r.json()) as { unsubscriptions: { pageId: string }[] }).unsubscriptions.map((u) => u.pageId);
}

describe("tenant deletion's effects at providers", () => {
  it("a Discord and a Cloudflare failure leave pending effects that the next cron run completes", async () => {
    const tid = await newTenant();
    const guild = await newDiscordGuild(env.SANDBOX_URL);
    const redirectUri = "https://dashboard.example/admin/discord/callback";
    const code = await discordInstallCode(env.SANDBOX_URL, guild.id, redirectUri);
    expect(await tenantApi.completeDiscordInstall(tid, { code, redirectUri, actor: null })).toMatchObject({
      ok: true,
    });
    const name = `resume${crypto.randomUUID().slice(0, 8)}`;
    const sub = await tenantApi.createEmailSubdomain(tid, name);
    expect(sub).toMatchObject({ ok: true });
    const rule = (await cloudflareState(env.SANDBOX_URL)).rules.find((r) =>
      JSON.stringify(r).includes(`${name}.`),
    )!;
    expect(rule).toBeDefined();

    // Discord and Cloudflare both fail when the deletion tries them.
    await injectDiscordFault(env.SANDBOX_URL, { route: "leave", status: 502, target: guild.id });
    await injectCloudflareFault(env.SANDBOX_URL, {
      op: "rule_delete",
      status: 500,
      code: 10001,
      message: "down",
    });
    expect(await tenantApi.deleteTenant(tid)).toMatchObject({ ok: true });
    expect(await count("SELECT COUNT(*) AS n FROM tenants WHERE id = ?", tid)).toBe(0);
    // Recorded with the ids they need (no secret), pending, outliving the tenant's rows.
    const pending = await effects(tid);
    expect(pending.map((e) => [e.kind, e.status, e.attempts])).toEqual([
      ["discord_leave", "pending", 1],
      ["email_routes_remove", "pending", 1],
    ]);
    expect(JSON.parse(pending[0]!.target)).toEqual({ guild_id: guild.id });
    expect(JSON.parse(pending[1]!.target)).toEqual({ rule_id: rule.id });
    expect((await discordRecords(env.SANDBOX_URL)).leaves.map((l) => l.guildId)).not.toContain(guild.id);
    expect((await cloudflareState(env.SANDBOX_URL)).rules.some((r) => r.id === rule.id)).toBe(true);

    // Not due yet (back-off): a run now leaves them alone.
    await quarterHourCron(Date.now());
    expect((await effects(tid)).map((e) => e.status)).toEqual(["pending", "pending"]);
    // The next run after the back-off completes both, once.
    await quarterHourCron(Date.now() + 16 * MIN);
    expect((await effects(tid)).map((e) => [e.kind, e.status])).toEqual([
      ["discord_leave", "done"],
      ["email_routes_remove", "done"],
    ]);
    expect((await discordRecords(env.SANDBOX_URL)).leaves.filter((l) => l.guildId === guild.id)).toHaveLength(
      1,
    );
    expect((await cloudflareState(env.SANDBOX_URL)).rules.some((r) => r.id === rule.id)).toBe(false);
    // A later run does nothing more.
    await quarterHourCron(Date.now() + 60 * MIN);
    expect((await discordRecords(env.SANDBOX_URL)).leaves.filter((l) => l.guildId === guild.id)).toHaveLength(
      1,
    );
  });

  it("a tenant deletion cut off after it was marked is finished by the cron", async () => {
    const tid = await newTenant();
    const guild = await newDiscordGuild(env.SANDBOX_URL);
    const redirectUri = "https://dashboard.example/admin/discord/callback";
    const code = await discordInstallCode(env.SANDBOX_URL, guild.id, redirectUri);
    await tenantApi.completeDiscordInstall(tid, { code, redirectUri, actor: null });
    // The request that marked it died before any step ran.
    await markTenantDeletingStatement(env.DB, tid, Date.now() - 20 * MIN).run();
    await quarterHourCron(Date.now());
    expect(await count("SELECT COUNT(*) AS n FROM tenants WHERE id = ?", tid)).toBe(0);
    expect(await count("SELECT COUNT(*) AS n FROM tenant_keys WHERE tenant_id = ?", tid)).toBe(0);
    expect((await effects(tid)).map((e) => [e.kind, e.status])).toEqual([["discord_leave", "done"]]);
    expect((await discordRecords(env.SANDBOX_URL)).leaves.map((l) => l.guildId)).toContain(guild.id);
  });
});

describe("Meta's data deletion request, resumed", () => {
  it("a request cut off midway is completed by the cron: the Instagram account and its conversation go, the business stays", async () => {
    const tid = await newTenant("Cut off");
    const ig = await connectedPage(tid);
    const wa = await createChannelAccount(env.DB, {
      tenantId: tid,
      channel: "whatsapp",
      externalId: `92${ig.pageId.slice(-10)}`,
    });
    await grantCredits(env.DB, {
      tenantId: tid,
      amount: 300,
      source: "purchase",
      reference: `pay_cut_${ig.pageId}`,
    });
    const balance = await creditBalance(env.DB, tid);
    // A customer wrote to the Instagram account: its conversation object holds the message.
    const customer = `igsid${Date.now()}`;
    await ingestApi.ingest([
      {
        ...inboundText(ig.instagramId, customer, "hello there"),
        channel: "instagram",
        providerMessageId: `m_${customer}`,
      },
    ]);
    const key = conversationKey(tid, ig.accountId, customer);
    await env.DB.prepare(
      `INSERT INTO messages (tenant_id, account_id, channel, direction, provider_message_id, sender_id, recipient_id, created_at)
       VALUES (?, ?, 'instagram', 'inbound', ?, ?, ?, ?)`,
    )
      .bind(tid, ig.accountId, `meta_${customer}`, customer, ig.instagramId, Date.now())
      .run();

    const objectKeys = () =>
      runInDurableObject(env.CONVERSATIONS.get(env.CONVERSATIONS.idFromName(key)), async (_o, state) => {
        const tables = state.storage.sql
          .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
          .toArray()
          .map((r) => r.name)
          .filter((n) => !n.startsWith("sqlite_") && !n.startsWith("_cf_"));
        let rows = 0;
        for (const t of tables) rows += state.storage.sql.exec(`SELECT * FROM "${t}"`).toArray().length;
        return rows + [...(await state.storage.list()).keys()].length;
      });
    expect(await objectKeys()).toBeGreaterThan(0);

    // The callback recorded the request and its targets, started, and was cut off at once.
    const code = `cut${crypto.randomUUID().replace(/-/g, "").slice(0, 16)}`;
    await insertDataDeletion(env.DB, {
      code,
      status: "pending",
      requestedAt: Date.now() - 10 * MIN,
      targets: { accounts: [{ tenantId: tid, accountId: ig.accountId, pageId: ig.pageId }], users: [] },
    });
    await markDataDeletionStarted(env.DB, code, Date.now() - 10 * MIN);

    await quarterHourCron(Date.now());

    const row = await env.DB.prepare("SELECT status, completed_at FROM data_deletions WHERE code = ?")
      .bind(code)
      .first<{ status: string; completed_at: number | null }>();
    expect(row).toMatchObject({ status: "completed", completed_at: expect.any(Number) });
    expect(await count("SELECT COUNT(*) AS n FROM channel_accounts WHERE id = ?", ig.accountId)).toBe(0);
    expect(await count("SELECT COUNT(*) AS n FROM channel_tokens WHERE account_id = ?", ig.accountId)).toBe(
      0,
    );
    expect(await count("SELECT COUNT(*) AS n FROM messages WHERE account_id = ?", ig.accountId)).toBe(0);
    expect(await unsubscribedPages(ig.pageId)).toEqual([ig.pageId]);
    expect(await objectKeys()).toBe(0);
    // The business is untouched.
    expect(await count("SELECT COUNT(*) AS n FROM tenants WHERE id = ?", tid)).toBe(1);
    expect(
      await count("SELECT COUNT(*) AS n FROM channel_accounts WHERE id = ? AND status = 'active'", wa.id),
    ).toBe(1);
    expect(await creditBalance(env.DB, tid)).toBe(balance);
    // Running again changes nothing.
    expect(await tenantApi.runDataDeletion(code)).toEqual({ ok: true, status: "completed" });
    expect(await unsubscribedPages(ig.pageId)).toEqual([ig.pageId]);
  });

  it("one page waiting at Meta holds up none of the person's other accounts", async () => {
    const tid = await newTenant("Two pages");
    const slow = await connectedPage(tid);
    const quick = await connectedPage(tid);
    const code = `two${crypto.randomUUID().replace(/-/g, "").slice(0, 16)}`;
    await insertDataDeletion(env.DB, {
      code,
      status: "pending",
      requestedAt: Date.now(),
      targets: {
        accounts: [
          { tenantId: tid, accountId: slow.accountId, pageId: slow.pageId },
          { tenantId: tid, accountId: quick.accountId, pageId: quick.pageId },
        ],
        users: [],
      },
    });
    // Meta fails the first page's unsubscribe only.
    await fetch(`${env.SANDBOX_URL}/__sandbox/pages/faults`, {
      method: "POST",
      body: JSON.stringify({ status: 503, code: 2, message: "Service temporarily unavailable" }),
    });
    expect(await tenantApi.runDataDeletion(code)).toEqual({ ok: true, status: "pending" });
    // The first waits, turned off; the second is unsubscribed and gone in the same run.
    expect(
      await count(
        "SELECT COUNT(*) AS n FROM channel_accounts WHERE id = ? AND status = 'disabled'",
        slow.accountId,
      ),
    ).toBe(1);
    expect(await unsubscribedPages(quick.pageId)).toEqual([quick.pageId]);
    expect(await count("SELECT COUNT(*) AS n FROM channel_accounts WHERE id = ?", quick.accountId)).toBe(0);
    // The cron finishes the first.
    await quarterHourCron(Date.now() + 20 * MIN);
    expect(await count("SELECT COUNT(*) AS n FROM channel_accounts WHERE id = ?", slow.accountId)).toBe(0);
    expect(
      await count("SELECT COUNT(*) AS n FROM data_deletions WHERE code = ? AND status = 'completed'", code),
    ).toBe(1);
  });

  it("a request waiting for Meta's unsubscribe is completed by the cron run that gets it done", async () => {
    const tid = await newTenant("Meta down");
    const ig = await connectedPage(tid);
    const code = `wait${crypto.randomUUID().replace(/-/g, "").slice(0, 16)}`;
    await insertDataDeletion(env.DB, {
      code,
      status: "pending",
      requestedAt: Date.now(),
      targets: { accounts: [{ tenantId: tid, accountId: ig.accountId, pageId: ig.pageId }], users: [] },
    });
    await fetch(`${env.SANDBOX_URL}/__sandbox/pages/faults`, {
      method: "POST",
      body: JSON.stringify({ status: 503, code: 2, message: "Service temporarily unavailable" }),
    });
    // The callback's run: Meta fails, the request waits (in progress), the account stays turned off.
    expect(await tenantApi.runDataDeletion(code)).toEqual({ ok: true, status: "pending" });
    expect(
      await count(
        "SELECT COUNT(*) AS n FROM channel_accounts WHERE id = ? AND status = 'disabled'",
        ig.accountId,
      ),
    ).toBe(1);
    // The cron after the back-off: the unsubscribe succeeds, then the request completes.
    await quarterHourCron(Date.now() + 20 * MIN);
    expect(await unsubscribedPages(ig.pageId)).toEqual([ig.pageId]);
    expect(
      await count("SELECT COUNT(*) AS n FROM data_deletions WHERE code = ? AND status = 'completed'", code),
    ).toBe(1);
    expect(await count("SELECT COUNT(*) AS n FROM channel_accounts WHERE id = ?", ig.accountId)).toBe(0);
  });

  it("a retried Instagram unsubscribe never touches the page once another business has connected it", async () => {
    const tid = await newTenant("Leaving");
    const ig = await connectedPage(tid);
    // Meta fails the deletion's unsubscribe: the effect waits for the cron, the rows go.
    await fetch(`${env.SANDBOX_URL}/__sandbox/pages/faults`, {
      method: "POST",
      body: JSON.stringify({ status: 503, code: 2, message: "Service temporarily unavailable" }),
    });
    expect(await tenantApi.deleteTenant(tid)).toMatchObject({ ok: true });
    const pending = await effects(tid);
    expect(pending.map((e) => [e.kind, e.status])).toEqual([["instagram_unsubscribe", "pending"]]);
    expect(JSON.parse(pending[0]!.target)).toEqual({ page_id: ig.pageId, account_id: ig.accountId });

    // Another business connects the same page before the retry.
    const other = await newTenant("Arriving");
    const tokens = await pageTokens(ig.pageId);
    const connected = await tenantApi.connectInstagram(other, {
      pageId: ig.pageId,
      instagramId: ig.instagramId,
      username: `arriving${ig.pageId}`,
      pageToken: tokens.pageToken,
      userToken: tokens.userToken,
      facebookUserId: "10000000000000078",
    });
    expect(connected).toMatchObject({ ok: true });

    // The retry is done without a call to Meta: the newcomer's subscription stays.
    await quarterHourCron(Date.now() + 20 * MIN);
    expect((await effects(tid)).map((e) => [e.kind, e.status])).toEqual([["instagram_unsubscribe", "done"]]);
    expect(await unsubscribedPages(ig.pageId)).toEqual([]);
  });

  it("a retried Discord leave does not leave a server another business has installed the bot in since", async () => {
    const tid = await newTenant("Leaving Discord");
    const guild = await newDiscordGuild(env.SANDBOX_URL);
    const redirectUri = "https://dashboard.example/admin/discord/callback";
    const install = async (tenantId: string) =>
      tenantApi.completeDiscordInstall(tenantId, {
        code: await discordInstallCode(env.SANDBOX_URL, guild.id, redirectUri),
        redirectUri,
        actor: null,
      });
    expect(await install(tid)).toMatchObject({ ok: true });
    await injectDiscordFault(env.SANDBOX_URL, { route: "leave", status: 502, target: guild.id });
    expect(await tenantApi.deleteTenant(tid)).toMatchObject({ ok: true });
    expect((await effects(tid)).map((e) => [e.kind, e.status])).toEqual([["discord_leave", "pending"]]);

    // Another business installs the bot in the same server before the retry.
    const other = await newTenant("Arriving Discord");
    expect(await install(other)).toMatchObject({ ok: true });
    await quarterHourCron(Date.now() + 20 * MIN);
    expect((await effects(tid)).map((e) => [e.kind, e.status])).toEqual([["discord_leave", "done"]]);
    expect((await discordRecords(env.SANDBOX_URL)).leaves.map((l) => l.guildId)).not.toContain(guild.id);
    // When that business is deleted in turn, the bot leaves the server.
    expect(await tenantApi.deleteTenant(other)).toMatchObject({ ok: true });
    expect((await discordRecords(env.SANDBOX_URL)).leaves.map((l) => l.guildId)).toContain(guild.id);
  });

  it("a pending Discord leave is not skipped when the business that installed the bot since is being deleted too", async () => {
    const first = await newTenant("First Discord");
    const guild = await newDiscordGuild(env.SANDBOX_URL);
    const redirectUri = "https://dashboard.example/admin/discord/callback";
    const install = async (tenantId: string) =>
      tenantApi.completeDiscordInstall(tenantId, {
        code: await discordInstallCode(env.SANDBOX_URL, guild.id, redirectUri),
        redirectUri,
        actor: null,
      });
    expect(await install(first)).toMatchObject({ ok: true });
    await injectDiscordFault(env.SANDBOX_URL, { route: "leave", status: 502, target: guild.id });
    expect(await tenantApi.deleteTenant(first)).toMatchObject({ ok: true });
    // The second business installs the bot, then is deleted while the first leave still waits.
    const second = await newTenant("Second Discord");
    expect(await install(second)).toMatchObject({ ok: true });
    expect(await tenantApi.deleteTenant(second)).toMatchObject({ ok: true });
    await quarterHourCron(Date.now() + 20 * MIN);
    expect((await discordRecords(env.SANDBOX_URL)).leaves.map((l) => l.guildId)).toContain(guild.id);
  });

  it("disconnecting an Instagram account unsubscribes its page at Meta, once", async () => {
    const tid = await newTenant("Disconnecting");
    const ig = await connectedPage(tid);
    expect(await tenantApi.disconnectAccount(tid, ig.accountId)).toEqual({ ok: true });
    expect(await unsubscribedPages(ig.pageId)).toEqual([ig.pageId]);
    expect((await effects(tid)).map((e) => [e.kind, e.status])).toEqual([["instagram_unsubscribe", "done"]]);
    expect(await count("SELECT COUNT(*) AS n FROM channel_tokens WHERE account_id = ?", ig.accountId)).toBe(
      0,
    );
    // Disconnecting it again finds nothing and calls Meta no more.
    expect(await tenantApi.disconnectAccount(tid, ig.accountId)).toMatchObject({
      ok: false,
      error: { code: "not_found" },
    });
    expect(await unsubscribedPages(ig.pageId)).toEqual([ig.pageId]);
  });
});
