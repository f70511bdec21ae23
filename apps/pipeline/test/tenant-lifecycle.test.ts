import { listDurableObjectIds, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { conversationKey } from "@concierge/core";
import { personaHash } from "@concierge/prompt";
import {
  createChannelAccount,
  creditBalance,
  grantCredits,
  grantTrialCredits,
  recordPersonaVerdict,
  savePersona,
  setTrialSettings,
  updateDiscordSettings,
} from "@concierge/storage";
import {
  discordInstallCode,
  discordRecords,
  newDiscordGuild,
  textChannel,
} from "@concierge/testing/discord-sandbox";
import { sentTo, uniqueCustomer } from "@concierge/testing/sandbox-client";
import { describe, expect, it, vi } from "vitest";
import {
  inboundText,
  ingestApi,
  newAccount,
  operatorApi,
  tenantApi,
  tenantId as demoTenantId,
} from "./helpers.ts";

// Tenant sign-up and "delete account with full purge" (ARCHITECTURE.md §5) through the RPC, then
// every store listed to prove nothing of the deleted tenant is left anywhere.

let phone = 0;
function newPhoneNumberId(): string {
  phone += 1;
  return `77${String(Date.now() % 1e9).padStart(9, "0")}${phone}`;
}

/** Every row of every D1 table (SQLite's and Cloudflare's own internals aside). */
async function allD1Rows(): Promise<Record<string, unknown[]>> {
  const { results } = await env.DB.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all<{
    name: string;
  }>();
  // side_effects outlive the tenant by design (migrations/0023): ids only, checked on their own.
  const tables = results
    .map((r) => r.name)
    .filter((n) => !n.startsWith("sqlite_") && !n.startsWith("_cf_") && n !== "side_effects");
  expect(tables).toEqual(expect.arrayContaining(["tenants", "messages", "users", "sessions"]));
  const out: Record<string, unknown[]> = {};
  for (const t of tables) out[t] = (await env.DB.prepare(`SELECT * FROM "${t}"`).all()).results;
  return out;
}

/** Everything one conversation object holds: every table's rows, its key-value entries, its alarm. */
function objectContents(id: DurableObjectId) {
  return runInDurableObject(env.CONVERSATIONS.get(id), async (_o, state) => {
    const tables = state.storage.sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
      .toArray()
      .map((r) => r.name)
      .filter((n) => !n.startsWith("sqlite_") && !n.startsWith("_cf_"));
    const rows: Record<string, unknown[]> = {};
    for (const t of tables) rows[t] = state.storage.sql.exec(`SELECT * FROM "${t}"`).toArray();
    return { rows, kv: [...(await state.storage.list()).keys()], alarm: await state.storage.getAlarm() };
  });
}

/** An object's history entries: its `history:<seq>` rows of `state` (store version 7). */
function historyOf(c: Awaited<ReturnType<typeof objectContents>>): unknown[] {
  return (c.rows.state as { k: string }[]).filter((r) => r.k.startsWith("history:"));
}

/** An object's buffered messages: its `pending:<seq>[:<id>]` rows of `state` (store versions 7, 8). */
function bufferedOf(c: Awaited<ReturnType<typeof objectContents>>): unknown[] {
  return (c.rows.state as { k: string }[]).filter((r) => r.k.startsWith("pending:"));
}

function isEmpty(c: Awaited<ReturnType<typeof objectContents>>): boolean {
  return Object.values(c.rows).every((r) => r.length === 0) && c.kv.length === 0 && c.alarm === null;
}

const rulesFor = (waitSeconds: number) => ({
  wait_seconds: waitSeconds,
  rules: [
    {
      id: "hours",
      matcher: { kind: "static_text", keywords: ["hours"] },
      response: { kind: "canned", text: "Open 7 to 7." },
    },
    {
      id: "booking",
      matcher: { kind: "static_text", keywords: ["book"] },
      response: { kind: "prompt", text: "Ask which day suits them." },
    },
    {
      id: "oat",
      matcher: { kind: "static_text", keywords: ["oat"] },
      response: { kind: "prompt", text: "Say whether we have it." },
      approval: "always",
    },
  ],
  default_rule: { response: { kind: "canned", text: "Thanks!" } },
});

async function messageRows(accountId: string): Promise<number> {
  const r = await env.DB.prepare("SELECT COUNT(*) AS n FROM messages WHERE account_id = ?")
    .bind(accountId)
    .first<{ n: number }>();
  return r!.n;
}

/**
 * A tenant using everything: an account with rules, an approved persona, credits (the trial and
 * a grant; one spent on an AI reply, one held by a draft), conversations holding history, a held draft and a
 * pending message, a user and a session. Message bodies carry `canary`.
 */
async function busyTenant(canary: string) {
  const created = await tenantApi.createTenant({ name: "Doomed Bakery", locale: "en-US", currency: "USD" });
  if (!created.ok) throw new Error(created.error.message);
  const tid = created.tenantId;
  const account = await createChannelAccount(env.DB, {
    tenantId: tid,
    channel: "whatsapp",
    externalId: newPhoneNumberId(),
  });
  expect(await tenantApi.saveReplyConfig(tid, account.id, rulesFor(0))).toMatchObject({ ok: true });
  const persona = { kind: "raw", prompt: "You are Doomed Bakery's assistant." } as const;
  const hash = await personaHash(persona);
  await savePersona(env.DB, tid, persona, hash);
  await recordPersonaVerdict(env.DB, tid, hash, "approved", null);
  await grantCredits(env.DB, { tenantId: tid, amount: 10, source: "purchase", reference: "pay_doomed" });
  await env.DB.prepare(
    "INSERT INTO users (id, tenant_id, provider, subject, email, name, created_at) VALUES (?, ?, 'google', ?, ?, ?, ?)",
  )
    .bind(`u_${tid}`, tid, `sub-${tid}`, "owner@doomed.example", "Owner", Date.now())
    .run();
  await env.DB.prepare(
    "INSERT INTO sessions (token_hash, user_id, tenant_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
  )
    .bind(`hash-${tid}`, `u_${tid}`, tid, "csrf", Date.now(), Date.now() + 3600_000)
    .run();
  // The Discord bot in a server of the tenant's, relaying every message to its inbox channel.
  const guild = await newDiscordGuild(env.SANDBOX_URL);
  const redirectUri = "https://dashboard.example/admin/discord/callback";
  const code = await discordInstallCode(env.SANDBOX_URL, guild.id, redirectUri);
  expect(await tenantApi.completeDiscordInstall(tid, { code, redirectUri, actor: null })).toMatchObject({
    ok: true,
  });
  await updateDiscordSettings(env.DB, tid, {
    inboxChannelId: textChannel(guild),
    staffRoleId: null,
    relayMode: "all",
    afterHumanReply: "silent",
  });

  const send = (customer: string, text: string) =>
    ingestApi.ingest([inboundText(account.externalId, customer, `${text} ${canary}`)]);
  const canned = uniqueCustomer();
  const ai = uniqueCustomer();
  const held = uniqueCustomer();
  await send(canned, "what are your hours?");
  await send(ai, "can I book a table?");
  await send(held, "do you have oat milk?");
  await vi.waitUntil(async () => (await sentTo(env.SANDBOX_URL, canned)).length === 1, { timeout: 8000 });
  await vi.waitUntil(async () => (await sentTo(env.SANDBOX_URL, ai)).length === 1, { timeout: 8000 });
  await vi.waitUntil(async () => (await tenantApi.listApprovals(tid)).length === 1, { timeout: 8000 });
  await vi.waitUntil(async () => (await messageRows(account.id)) === 5, { timeout: 8000 });
  // The trial's 50 and the grant's 10, less the AI reply and the held draft.
  expect(await creditBalance(env.DB, tid)).toBe(58);
  await vi.waitUntil(
    async () =>
      (await env.DB.prepare(
        "SELECT COUNT(*) AS n FROM discord_relays WHERE tenant_id = ? AND discord_message_id IS NOT NULL",
      )
        .bind(tid)
        .first<{ n: number }>())!.n === 3,
    { timeout: 8000 },
  );

  // A message still pending (its turn 30 s away) in a conversation that has metadata already.
  expect(await tenantApi.saveReplyConfig(tid, account.id, rulesFor(30))).toMatchObject({ ok: true });
  expect(await send(canned, "and on sundays?")).toMatchObject({
    ok: true,
    results: [{ status: "accepted" }],
  });

  const threads = [canned, ai, held].map((c) =>
    env.CONVERSATIONS.idFromName(conversationKey(tid, account.id, c)),
  );
  return { tid, account, customers: { canned, ai, held }, threads, guild };
}

describe("createTenant", () => {
  it("creates the tenant with its wrapped data key, trimming the name and applying defaults", async () => {
    const a = await tenantApi.createTenant({ name: "  Chai Corner  " });
    expect(a).toMatchObject({ ok: true, tenantId: expect.stringMatching(/^t_/) });
    if (!a.ok) return;
    expect(
      await env.DB.prepare("SELECT name, locale, currency, status FROM tenants WHERE id = ?")
        .bind(a.tenantId)
        .first(),
    ).toEqual({ name: "Chai Corner", locale: "en-IN", currency: "INR", status: "active" });
    const keys = await env.DB.prepare("SELECT version, wrapped_key FROM tenant_keys WHERE tenant_id = ?")
      .bind(a.tenantId)
      .all<{ version: number; wrapped_key: string }>();
    expect(keys.results).toHaveLength(1);
    expect(keys.results[0]!.version).toBe(1);
    expect(keys.results[0]!.wrapped_key.length).toBeGreaterThan(20);

    const b = await tenantApi.createTenant({ name: "Diner", locale: "en-US", currency: "USD" });
    if (!b.ok) throw new Error(b.error.message);
    expect(
      await env.DB.prepare("SELECT locale, currency FROM tenants WHERE id = ?").bind(b.tenantId).first(),
    ).toEqual({ locale: "en-US", currency: "USD" });
    // The new tenant's key works: a message can be sealed for it and its settings saved.
    expect(await operatorApi.rotateTenantKey({ email: "ops@example.test" }, b.tenantId)).toEqual({
      ok: true,
      version: 2,
    });
  });

  it("grants the trial credits once: 50 expiring in 30 days, ledger reference `trial`", async () => {
    const before = Date.now();
    const r = await tenantApi.createTenant({ name: "Trial Cafe" });
    if (!r.ok) throw new Error(r.error.message);
    expect(await creditBalance(env.DB, r.tenantId)).toBe(50);
    const lot = await env.DB.prepare(
      "SELECT source, granted, expires_at AS expiresAt FROM credit_lots WHERE tenant_id = ?",
    )
      .bind(r.tenantId)
      .all<{ source: string; granted: number; expiresAt: number }>();
    expect(lot.results).toHaveLength(1);
    expect(lot.results[0]).toMatchObject({ source: "grant", granted: 50 });
    const days = (lot.results[0]!.expiresAt - before) / 86_400_000;
    expect(days).toBeGreaterThanOrEqual(30);
    expect(days).toBeLessThan(30.01);
    // Whatever grants the trial again for this tenant (a retried sign-up, a second sign-in that
    // tries) finds it granted: one ledger row, the same balance.
    expect(await grantTrialCredits(env.DB, r.tenantId)).toMatchObject({ applied: false });
    const ledger = await env.DB.prepare(
      "SELECT reason, reference, delta FROM credit_ledger WHERE tenant_id = ?",
    )
      .bind(r.tenantId)
      .all();
    expect(ledger.results).toEqual([{ reason: "grant", reference: "trial", delta: 50 }]);
    expect(await creditBalance(env.DB, r.tenantId)).toBe(50);
  });

  it("grants no trial while the operator has set it to 0 credits", async () => {
    await setTrialSettings(env.DB, { credits: 0, days: 30 });
    try {
      const r = await tenantApi.createTenant({ name: "No Trial" });
      if (!r.ok) throw new Error(r.error.message);
      expect(await creditBalance(env.DB, r.tenantId)).toBe(0);
    } finally {
      await setTrialSettings(env.DB, { credits: 50, days: 30 });
    }
  });

  it("refuses invalid input with a clear error and creates nothing", async () => {
    const count = async () =>
      (await env.DB.prepare(
        "SELECT (SELECT COUNT(*) FROM tenants) + (SELECT COUNT(*) FROM tenant_keys) AS n",
      ).first<{
        n: number;
      }>())!.n;
    const before = await count();
    const bad: unknown[] = [
      { name: "" },
      { name: "    " },
      { name: "x".repeat(81) },
      { name: 42 },
      {},
      null,
      { name: "Ok", locale: "fr-FR" },
      { name: "Ok", currency: "EUR" },
    ];
    for (const input of bad) {
      const r = await tenantApi.createTenant(input as never);
      expect(r, JSON.stringify(input)).toMatchObject({ ok: false, error: { code: "invalid_tenant" } });
    }
    expect(await count()).toBe(before);
    expect(await tenantApi.createTenant({ name: "x".repeat(80) })).toMatchObject({ ok: true });
  });
});

describe("deleteTenant", () => {
  it("removes every row, key and conversation of the tenant, and nothing of anyone else", async () => {
    const canary = `canary-del-${crypto.randomUUID()}`;
    // Another tenant (the demo one) with a conversation of its own, before and after.
    const demoAccount = await newAccount(rulesFor(0));
    const demoCustomer = uniqueCustomer();
    await demoAccount.send(demoCustomer, "what are your hours?");
    await vi.waitUntil(async () => (await sentTo(env.SANDBOX_URL, demoCustomer)).length === 1, {
      timeout: 8000,
    });
    await vi.waitUntil(async () => (await messageRows(demoAccount.id)) === 2);
    const demoBalance = await creditBalance(env.DB, demoTenantId);

    const { tid, account, customers, threads, guild } = await busyTenant(canary);
    const demoThread = env.CONVERSATIONS.idFromName(
      conversationKey(demoTenantId, demoAccount.id, demoCustomer),
    );
    const markers = [tid, account.id, account.externalId, ...Object.values(customers), `u_${tid}`, canary];

    // Before: the tenant is in D1 and its conversations hold state (sealed), one with a pending turn.
    const before = await allD1Rows();
    for (const table of [
      "tenants",
      "tenant_keys",
      "channel_accounts",
      "reply_configs",
      "messages",
      "credit_lots",
      "credit_ledger",
      "personas",
      "approvals",
      "users",
      "sessions",
      "discord_installs",
      "discord_relays",
    ]) {
      expect(
        before[table]!.some((r) => JSON.stringify(r).includes(tid)),
        table,
      ).toBe(true);
    }
    const contents = await Promise.all(threads.map(objectContents));
    expect(contents.every((c) => !isEmpty(c))).toBe(true);
    expect(bufferedOf(contents[0]!)).toHaveLength(1);
    expect(contents[0]!.alarm).not.toBeNull();
    expect(historyOf(contents[1]!).length).toBeGreaterThan(0);
    expect(contents[2]!.rows.drafts).toHaveLength(1);

    const result = await tenantApi.deleteTenant(tid);
    expect(result).toMatchObject({ ok: true, deleted: { conversations: 3 } });
    if (!result.ok) return;
    // tenant, key, account, reply config, persona, user, session: 1 each; 2 credit lots (the trial,
    // the grant); 5 message rows; 4 ledger rows (the trial, the grant, the AI reply, the held
    // draft); 1 approval; the Discord install and its 3 relayed items.
    expect(result.deleted.rows).toBe(23);
    // The bot left the tenant's Discord server, recorded as a side effect that names only the guild.
    expect((await discordRecords(env.SANDBOX_URL)).leaves.map((l) => l.guildId)).toContain(guild.id);
    // Its WhatsApp number was released at Meta the same way.
    const { results: effects } = await env.DB.prepare(
      "SELECT * FROM side_effects WHERE tenant_id = ? ORDER BY kind",
    )
      .bind(tid)
      .all<Record<string, unknown>>();
    expect(effects.map((e) => [e.kind, e.status, JSON.parse(String(e.target))])).toEqual([
      ["discord_leave", "done", { guild_id: guild.id }],
      ["whatsapp_release", "done", { phoneNumberId: account.externalId }],
    ]);
    expect(JSON.stringify(effects)).not.toContain(canary);

    // D1: not one row anywhere names the tenant, its account, its customers or its user, and
    // every other row is exactly as it was.
    const after = await allD1Rows();
    const others = Object.fromEntries(
      Object.entries(before).map(([t, rows]) => [
        t,
        rows.filter((r) => !markers.some((m) => JSON.stringify(r).includes(m))),
      ]),
    );
    expect(after).toEqual(others);
    expect(JSON.stringify(after)).not.toContain(canary);

    // Durable Objects: every object there is. The tenant's are empty, alarms included; nothing
    // anywhere mentions the tenant; the other tenant's conversation is intact.
    const ids = await listDurableObjectIds(env.CONVERSATIONS);
    expect(ids.length).toBeGreaterThanOrEqual(4);
    for (const id of ids) {
      const c = await objectContents(id);
      const dump = JSON.stringify(c);
      for (const m of markers) expect(dump).not.toContain(m);
      if (threads.some((t) => t.equals(id))) expect(isEmpty(c), dump).toBe(true);
    }
    const demo = await objectContents(demoThread);
    expect(historyOf(demo).length).toBeGreaterThan(0);
    expect(JSON.stringify(demo.rows.state)).toContain(demoTenantId);
    expect(await creditBalance(env.DB, demoTenantId)).toBe(demoBalance);

    // The pending turn's alarm is gone: nothing is answered later.
    await new Promise((r) => setTimeout(r, 300));
    expect(await sentTo(env.SANDBOX_URL, customers.canned)).toHaveLength(1);

    // A later message to the deleted tenant's number is not accepted, and creates nothing.
    const late = uniqueCustomer();
    expect(await ingestApi.ingest([inboundText(account.externalId, late, `hello ${canary}`)])).toMatchObject({
      ok: true,
      results: [{ status: "unknown_account" }],
    });
    expect(
      isEmpty(await objectContents(env.CONVERSATIONS.idFromName(conversationKey(tid, account.id, late)))),
    ).toBe(true);
    expect(await allD1Rows()).toEqual(after);

    // Deleting again (a retry, a double click) finds nothing.
    expect(await tenantApi.deleteTenant(tid)).toMatchObject({ ok: false, error: { code: "not_found" } });
    expect(await tenantApi.deleteTenant("t_never_existed")).toMatchObject({
      ok: false,
      error: { code: "not_found" },
    });
  });

  it("purges a conversation the deletion could not see (accepted, not yet answered) at its alarm", async () => {
    const created = await tenantApi.createTenant({ name: "Quick Exit" });
    if (!created.ok) throw new Error(created.error.message);
    const tid = created.tenantId;
    const account = await createChannelAccount(env.DB, {
      tenantId: tid,
      channel: "whatsapp",
      externalId: newPhoneNumberId(),
    });
    await tenantApi.saveReplyConfig(tid, account.id, rulesFor(30));
    const customer = uniqueCustomer();
    await ingestApi.ingest([inboundText(account.externalId, customer, "what are your hours?")]);
    const stub = env.CONVERSATIONS.get(
      env.CONVERSATIONS.idFromName(conversationKey(tid, account.id, customer)),
    );
    expect(bufferedOf(await objectContents(stub.id))).toHaveLength(1);

    // No metadata names this conversation yet, so the deletion cannot find it...
    expect(await tenantApi.deleteTenant(tid)).toMatchObject({ ok: true, deleted: { conversations: 0 } });
    // ...but its alarm finds the tenant gone: it empties itself, sends nothing and does not re-arm.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const c = await objectContents(stub.id);
    expect(isEmpty(c), JSON.stringify(c)).toBe(true);
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(0);
    expect(await messageRows(account.id)).toBe(0);
    expect(await runDurableObjectAlarm(stub)).toBe(false);
  });

  it("finishes a deletion that stopped midway when it is run again", async () => {
    const canary = `canary-retry-${crypto.randomUUID()}`;
    const { tid, account, threads } = await busyTenant(canary);
    // A first run that purged one conversation and then died before touching D1.
    await env.CONVERSATIONS.get(threads[1]!).purge();
    await env.DB.prepare("UPDATE channel_accounts SET status = 'disabled' WHERE tenant_id = ?")
      .bind(tid)
      .run();

    expect(await tenantApi.deleteTenant(tid)).toMatchObject({ ok: true, deleted: { conversations: 3 } });
    for (const id of threads) expect(isEmpty(await objectContents(id))).toBe(true);
    const dump = JSON.stringify(await allD1Rows());
    for (const m of [tid, account.id, account.externalId, canary]) expect(dump).not.toContain(m);
  });
});
