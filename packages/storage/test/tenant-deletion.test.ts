import { conversationKey, newId } from "@concierge/core";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { saveReplyConfig } from "../src/accounts.ts";
import { createApproval } from "../src/approvals.ts";
import { appendAudit, listAudit } from "../src/audit-log.ts";
import {
  insertOrder,
  recordCapturedPayment,
  saveBillingDetails,
  takeBackRefund,
  upsertSubscription,
} from "../src/billing.ts";
import { startWhatsAppVerification } from "../src/channel-connections.ts";
import { saveChannelToken } from "../src/channel-tokens.ts";
import { debitCredit, grantCredits } from "../src/credits.ts";
import { createRelay, saveDiscordInstall } from "../src/discord.ts";
import { createEmailAlias } from "../src/email-aliases.ts";
import { claimAutomaticMail, claimForwardSend } from "../src/email-automatic.ts";
import { insertEmailSubdomain, insertForwardAddress } from "../src/email-config.ts";
import { recordDeliveryStatus, recordMessages } from "../src/messages.ts";
import { queueNotice, saveNotificationPrefs } from "../src/notifications.ts";
import { saveConversationState } from "../src/inbox.ts";
import { savePersona } from "../src/personas.ts";
import { recordStuckAlarm } from "../src/platform-health.ts";
import {
  deleteTenantRows,
  deleteTenantRowsChunk,
  deleteThreadRows,
  destroyTenantKeys,
  disableTenantAccounts,
  tenantDeletionProgress,
  tenantThreadRows,
} from "../src/tenant-deletion.ts";
import { countingDb, db, newAccount, newTenant, scalar } from "./fixtures.ts";

const NOW = 1_800_000_000_000;

/**
 * Tables that hold rows of a tenant: every table with a tenant_id column, and tenants itself.
 * Except audit_log: the operators' append-only record outlives the tenant (with its id only); and
 * side_effects: a deletion's effects at providers are retried after its rows are gone (ids only,
 * migrations/0023).
 */
async function tenantTables(): Promise<string[]> {
  const { results } = await env.DB.prepare(
    `SELECT m.name FROM sqlite_master m
      WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_cf_%'
        AND m.name NOT IN ('audit_log', 'side_effects')
        AND EXISTS (SELECT 1 FROM pragma_table_info(m.name) c WHERE c.name = 'tenant_id')
      ORDER BY m.name`,
  ).all<{ name: string }>();
  return results.map((r) => r.name);
}

async function rowsOf(tenantId: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {
    tenants: await scalar("SELECT COUNT(*) FROM tenants WHERE id = ?", tenantId),
  };
  for (const t of await tenantTables()) {
    out[t] = await scalar(`SELECT COUNT(*) FROM "${t}" WHERE tenant_id = ?`, tenantId);
  }
  return out;
}

/** A tenant with at least one row in every table that holds tenant rows; `customers` threads. */
async function busyTenant(customers = 5) {
  const t = (await newTenant()).id;
  const wa = await newAccount(t, "whatsapp");
  const ig = await newAccount(t, "instagram");
  await saveReplyConfig(db(), t, wa.id, { default_rule: { response: { kind: "canned", text: "hi" } } });
  await savePersona(db(), t, { kind: "raw", prompt: "Be kind." }, "h1");
  await grantCredits(db(), { tenantId: t, amount: 10, source: "purchase", reference: "pay", now: NOW });
  await debitCredit(db(), t, "turn-1", NOW);
  // Money: a paid order (payment, lot, ledger row), partly refunded, a subscription, billing details.
  const orderId = newId("ord");
  await insertOrder(db(), {
    id: orderId,
    tenantId: t,
    packId: "inr-100",
    credits: 100,
    amount: 49900,
    currency: "INR",
    razorpayOrderId: newId("order"),
  });
  const paymentId = newId("pay");
  await recordCapturedPayment(db(), {
    tenantId: t,
    orderId,
    paymentId,
    amount: 49900,
    currency: "INR",
    method: "upi",
    credits: 100,
  });
  await takeBackRefund(db(), { tenantId: t, paymentId, refundId: newId("rfnd"), refundAmount: 4990 });
  await upsertSubscription(db(), {
    id: newId("sub"),
    tenantId: t,
    status: "active",
    quantity: 1,
    amount: 49900,
    currency: "INR",
    currentEnd: null,
    at: NOW,
  });
  await saveBillingDetails(db(), t, { legalName: "Acme Pvt Ltd", address: "1 MG Road", gstin: null });
  await saveChannelToken(db(), {
    accountId: ig.id,
    tenantId: t,
    pageId: newId("page"),
    sealedToken: "s",
    sealedUserToken: "u",
    expiresAt: null,
    facebookUserId: "fb",
  });
  const messages = [];
  for (let i = 0; i < customers; i++) {
    const customer = `cust-${i}`;
    messages.push(
      {
        tenantId: t,
        accountId: wa.id,
        channel: "whatsapp" as const,
        direction: "inbound" as const,
        providerMessageId: newId("in"),
        conversationId: null,
        senderId: customer,
        recipientId: wa.externalId,
        action: "canned_reply",
        ruleId: null,
        at: NOW + i,
      },
      {
        tenantId: t,
        accountId: wa.id,
        channel: "whatsapp" as const,
        direction: "outbound" as const,
        providerMessageId: newId("out"),
        conversationId: null,
        senderId: wa.externalId,
        recipientId: customer,
        action: "canned_reply",
        ruleId: "default",
        at: NOW + i,
        replyWaitMs: 1_000,
      },
    );
  }
  await recordMessages(db(), messages);
  // A delivery status whose row is not written yet (early_statuses).
  await recordDeliveryStatus(db(), {
    tenantId: t,
    accountId: wa.id,
    channel: "whatsapp",
    providerMessageId: newId("early"),
    status: "sent",
    at: NOW,
    errorCode: null,
    errorTitle: null,
  });
  // An approval on a thread that has no message rows: it is still named by tenantThreadRows.
  const approvalThread = conversationKey(t, ig.id, "ig-customer");
  await createApproval(db(), {
    id: newId("apr"),
    tenantId: t,
    accountId: ig.id,
    threadKey: approvalThread,
    conversationId: null,
    ruleId: null,
    creditRef: "turn-1",
    reasons: ["always"],
  });
  const guildId = newId("guild");
  await saveDiscordInstall(db(), { tenantId: t, guildId, guildName: "g", installedBy: null });
  await createRelay(db(), {
    id: newId("rel"),
    tenantId: t,
    accountId: wa.id,
    channel: "whatsapp",
    customerId: "cust-0",
    threadKey: conversationKey(t, wa.id, "cust-0"),
    kind: "handoff",
    approvalId: null,
    providerMessageId: null,
    guildId,
    channelId: "c",
  });
  // Who controls a customer's thread (the live inbox).
  await saveConversationState(db(), {
    tenantId: t,
    accountId: wa.id,
    customerId: "cust-0",
    conversationId: null,
    state: "taken_over",
    actor: "owner@example.test",
    at: NOW,
  });
  // A handoff notice gathered for the tenant's hourly cadence.
  await saveNotificationPrefs(db(), t, { cadence: "hourly" });
  // A code requested to prove control of a WhatsApp number (the manual connect).
  await startWhatsAppVerification(db(), { tenantId: t, phoneNumberId: newId("pn"), now: NOW });
  await queueNotice(db(), { tenantId: t, kind: "handoff", channel: "whatsapp" }, NOW);
  // A conversation whose alarm gave up (the operator's alert).
  await recordStuckAlarm(db(), {
    tenantId: t,
    threadKey: conversationKey(t, wa.id, "cust-0"),
    accountId: wa.id,
    attempts: 8,
    failedAt: NOW,
  });
  const name = `d-${t.slice(-10)}`;
  const sd = await insertEmailSubdomain(db(), {
    accountId: newId("acc"),
    tenantId: t,
    name,
    domain: `${name}.cncg.test`,
  });
  if (!sd.ok) throw new Error(sd.code);
  await insertForwardAddress(db(), {
    id: newId("fwd"),
    tenantId: t,
    address: "owner@example.test",
    tokenHash: newId("h"),
    expiresAt: NOW,
    limit: 10,
  });
  await createEmailAlias(db(), {
    tokenHash: newId("alias"),
    tenantId: t,
    accountId: sd.subdomain.accountId,
    originalSender: "c@example.test",
    replyFrom: `x@${sd.subdomain.domain}`,
    forwardedTo: "owner@example.test",
    originalMessageId: "<m@x>",
    originalReferences: "",
    createdAt: NOW,
    expiresAt: NOW + 1,
  });
  const automatic = { tenantId: t, accountId: sd.subdomain.accountId, providerMessageId: "<m@x>", now: NOW };
  await claimAutomaticMail(db(), automatic);
  await claimForwardSend(db(), { ...automatic, addressId: "fwd" });
  const userId = newId("u");
  await env.DB.batch([
    env.DB.prepare(
      "INSERT INTO users (id, tenant_id, provider, subject, created_at) VALUES (?, ?, 'dev', ?, ?)",
    ).bind(userId, t, newId("sub"), NOW),
    env.DB.prepare(
      "INSERT INTO sessions (token_hash, user_id, tenant_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, 'csrf', ?, ?)",
    ).bind(newId("sess"), userId, t, NOW, NOW + 1),
  ]);
  return { tenantId: t, accountIds: [wa.id, ig.id, sd.subdomain.accountId], whatsapp: wa, approvalThread };
}

/**
 * The deletion's D1 side as the pipeline runs it: disable, destroy the key, then chunks of the rows
 * naming conversations (the keys each chunk names are what the pipeline purges), chunks of the
 * growing tables, and the final batch. `pages` are the conversation keys of each chunk.
 */
async function deleteAll(tenantId: string, chunkRows: number) {
  await disableTenantAccounts(db(), tenantId);
  const shredded = await destroyTenantKeys(db(), tenantId);
  const pages: string[][] = [];
  let chunked = shredded.keys + shredded.sessions;
  for (;;) {
    const chunk = await tenantThreadRows(db(), tenantId, chunkRows);
    if (chunk.messages.length + chunk.approvals.length === 0) break;
    expect(chunk.messages.length).toBeLessThanOrEqual(chunkRows);
    expect(chunk.approvals.length).toBeLessThanOrEqual(chunkRows);
    pages.push([
      ...new Set([
        ...chunk.messages.map((m) => conversationKey(tenantId, m.accountId, m.customerId)),
        ...chunk.approvals.map((a) => a.key),
      ]),
    ]);
    chunked += await deleteThreadRows(
      db(),
      tenantId,
      chunk.messages,
      chunk.approvals.map((a) => a.id),
    );
    if (pages.length > 50) throw new Error("the chunks never ran out");
  }
  for (let n = 1; n > 0; ) {
    n = await deleteTenantRowsChunk(db(), tenantId, chunkRows);
    chunked += n;
  }
  return { pages, chunked, result: await deleteTenantRows(db(), tenantId) };
}

describe("tenant deletion", () => {
  it("the fixture really fills every table that holds tenant rows (so the next test proves something)", async () => {
    const { tenantId } = await busyTenant();
    const counts = await rowsOf(tenantId);
    expect(Object.entries(counts).filter(([, n]) => n === 0)).toEqual([]);
  });

  it("empties every table of that tenant, key first and then in bounded chunks, and leaves another tenant exactly as it was", async () => {
    const keep = await busyTenant();
    const gone = await busyTenant(5);
    const keepBefore = await rowsOf(keep.tenantId);

    const { pages, result } = await deleteAll(gone.tenantId, 2);
    // 10 message rows and one approval, chunks of at most 2 rows each: several chunks.
    expect(pages.length).toBeGreaterThan(3);
    const keys = pages.flat();
    expect(keys).toContain(gone.approvalThread);
    expect(keys).toContain(conversationKey(gone.tenantId, gone.whatsapp.id, "cust-4"));
    expect(result.tenantDeleted).toBe(true);

    const after = await rowsOf(gone.tenantId);
    expect(Object.entries(after).filter(([, n]) => n !== 0)).toEqual([]);
    expect(await rowsOf(keep.tenantId)).toEqual(keepBefore);
    expect(
      await scalar(
        "SELECT COUNT(*) FROM channel_accounts WHERE tenant_id = ? AND status = 'active'",
        keep.tenantId,
      ),
    ).toBe(3);
  });

  it("deletes every tenant table by name, children first, without relying on ON DELETE CASCADE", async () => {
    const { tenantId } = await busyTenant(1);
    const counting = countingDb();
    await deleteTenantRows(counting.db, tenantId);
    // The holds on its subdomain names (written in the same batch, first) are not the tenant's rows.
    const holds = counting.statements.filter((s) => s.includes("email_subdomain_holds"));
    expect(holds).toHaveLength(3);
    expect(counting.statements.slice(0, 3)).toEqual(holds);
    const order = counting.statements
      .filter((s) => !holds.includes(s))
      .map((s) => /^DELETE FROM (\w+)/.exec(s.trim())?.[1]);
    expect(order.every((t) => t !== undefined)).toBe(true);
    expect([...order].sort()).toEqual([...(await tenantTables()), "tenants"].sort());
    // Children before parents: accounts after everything that names them, the key and the tenant last.
    const at = (t: string) => order.indexOf(t);
    for (const child of ["reply_configs", "channel_tokens", "email_aliases", "email_subdomains"]) {
      expect(at(child), child).toBeLessThan(at("channel_accounts"));
    }
    expect(at("sessions")).toBeLessThan(at("users"));
    expect(at("credit_ledger")).toBeLessThan(at("credit_lots"));
    expect(order.slice(-2)).toEqual(["tenant_keys", "tenants"]);
  });

  it("counts every row it deletes", async () => {
    const { tenantId } = await busyTenant(2);
    // The per-day counters (migrations/0029) are derived from the rows and not counted.
    const { message_days: _m, credit_days: _c, insight_days: _i, ...records } = await rowsOf(tenantId);
    const before = Object.values(records).reduce((a, b) => a + b, 0);
    const { pages, chunked, result } = await deleteAll(tenantId, 50);
    expect(pages).toHaveLength(1);
    // The key, the chunks (message rows, the approval, the growing tables), then the batch.
    expect(result.rows + chunked).toBe(before);
  });

  it("the progress says what is left: the key at once, then the rows as the chunks go", async () => {
    const { tenantId } = await busyTenant(3);
    const start = await tenantDeletionProgress(db(), tenantId);
    expect(start).toMatchObject({ keysDestroyed: false, messages: 6, approvals: 1, capped: false });
    expect(start.other).toBeGreaterThan(0);
    expect(await scalar("SELECT COUNT(*) FROM sessions WHERE tenant_id = ?", tenantId)).toBe(1);
    expect(await destroyTenantKeys(db(), tenantId)).toEqual({ keys: 1, sessions: 1 });
    expect(await tenantDeletionProgress(db(), tenantId)).toMatchObject({ keysDestroyed: true, messages: 6 });
    // Its sessions went with the key: nobody browses a tenant whose data cannot be opened.
    expect(await scalar("SELECT COUNT(*) FROM sessions WHERE tenant_id = ?", tenantId)).toBe(0);
    expect(await destroyTenantKeys(db(), tenantId)).toEqual({ keys: 0, sessions: 0 });
    // A count stops at its cap: a tenant of any size costs the same to report.
    expect(await tenantDeletionProgress(db(), tenantId, 2)).toMatchObject({ messages: 2, capped: true });
    const chunk = await tenantThreadRows(db(), tenantId, 4);
    await deleteThreadRows(
      db(),
      tenantId,
      chunk.messages,
      chunk.approvals.map((a) => a.id),
    );
    expect(await tenantDeletionProgress(db(), tenantId)).toMatchObject({ messages: 2, approvals: 0 });
    // Deleting the same chunk again changes nothing.
    expect(
      await deleteThreadRows(
        db(),
        tenantId,
        chunk.messages,
        chunk.approvals.map((a) => a.id),
      ),
    ).toBe(0);
  });

  it("a chunk's id given meanwhile to another conversation's message deletes nothing of it", async () => {
    const t = (await newTenant()).id;
    const wa = await newAccount(t, "whatsapp");
    const ig = await newAccount(t, "instagram");
    const inbound = (
      a: { id: string; externalId: string },
      channel: "whatsapp" | "instagram",
      from: string,
    ) => ({
      tenantId: t,
      accountId: a.id,
      channel,
      direction: "inbound" as const,
      providerMessageId: newId("in"),
      conversationId: null,
      senderId: from,
      recipientId: a.externalId,
      action: "canned_reply",
      ruleId: null,
      at: NOW,
    });
    await recordMessages(db(), [inbound(wa, "whatsapp", "c1")]);
    const chunk = await tenantThreadRows(db(), t, 10);
    const [stale] = chunk.messages;
    // The chunk's row, the newest of all, goes another way (another run, retention) before this
    // run deletes it, and its id comes back with the next message: of another account, then of
    // another customer of the same account.
    for (const next of [inbound(ig, "instagram", "c2"), inbound(wa, "whatsapp", "c3")]) {
      await db().prepare("DELETE FROM messages WHERE tenant_id = ?").bind(t).run();
      await recordMessages(db(), [next]);
      expect(await scalar("SELECT id FROM messages WHERE tenant_id = ?", t)).toBe(stale?.id);
      expect(await deleteThreadRows(db(), t, chunk.messages, [])).toBe(0);
      expect(await scalar("SELECT COUNT(*) FROM messages WHERE tenant_id = ?", t)).toBe(1);
    }
    // The row the chunk named is deleted when it is still there.
    await db().prepare("DELETE FROM messages WHERE tenant_id = ?").bind(t).run();
    await recordMessages(db(), [{ ...inbound(wa, "whatsapp", "c1") }]);
    const fresh = await tenantThreadRows(db(), t, 10);
    expect(await deleteThreadRows(db(), t, fresh.messages, [])).toBe(1);
  });

  it("disabling turns off only that tenant's accounts and returns them for the caches", async () => {
    const a = await busyTenant(1);
    const b = await busyTenant(1);
    const disabled = await disableTenantAccounts(db(), a.tenantId);
    expect(disabled.map((d) => d.id).sort()).toEqual([...a.accountIds].sort());
    expect(
      await scalar(
        "SELECT COUNT(*) FROM channel_accounts WHERE tenant_id = ? AND status = 'active'",
        a.tenantId,
      ),
    ).toBe(0);
    expect(
      await scalar(
        "SELECT COUNT(*) FROM channel_accounts WHERE tenant_id = ? AND status = 'active'",
        b.tenantId,
      ),
    ).toBe(3);
  });

  it("keeps the tenant's audit rows, which name it by id only", async () => {
    const { tenantId } = await busyTenant(1);
    const entry = {
      operatorEmail: "ops@example.test",
      tenantId,
      target: null,
      summary: { credits: 10, reason: "goodwill" },
    };
    await appendAudit(db(), { ...entry, at: NOW, action: "tenant.grant_credits" });
    await appendAudit(db(), { ...entry, at: NOW + 1, action: "tenant.delete", summary: { confirmed: true } });
    const before = await listAudit(db(), { tenantId });
    expect(before.entries).toHaveLength(2);

    const { result } = await deleteAll(tenantId, 50);
    expect(result.tenantDeleted).toBe(true);
    expect(await scalar("SELECT COUNT(*) FROM tenants WHERE id = ?", tenantId)).toBe(0);
    expect(await listAudit(db(), { tenantId })).toEqual(before);
    // Nothing in them but the id: no name, no email of the tenant's people.
    const stored = await scalar(
      "SELECT COUNT(*) FROM audit_log WHERE tenant_id = ? AND (summary LIKE '%Test tenant%' OR target IS NOT NULL)",
      tenantId,
    );
    expect(stored).toBe(0);
  });

  it("an unknown tenant deletes nothing and says so", async () => {
    const keep = await busyTenant(1);
    const before = await rowsOf(keep.tenantId);
    expect(await deleteTenantRows(db(), "t_unknown")).toEqual({ rows: 0, tenantDeleted: false });
    expect(await rowsOf(keep.tenantId)).toEqual(before);
  });
});
