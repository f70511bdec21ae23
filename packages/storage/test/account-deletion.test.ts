// Issue 17 items 6, 13, 14: the storage side of deleting one account (Meta's data deletion
// request), the ids a tenant deletion's effects need, and the tenant deletions left to resume.
import { newId } from "@concierge/core";
import { describe, expect, it } from "vitest";
import { saveReplyConfig } from "../src/accounts.ts";
import { saveChannelToken } from "../src/channel-tokens.ts";
import { saveDiscordInstall } from "../src/discord.ts";
import { insertEmailSubdomain, setEmailSubdomainState } from "../src/email-config.ts";
import { recordMessages } from "../src/messages.ts";
import {
  deleteAccountRows,
  disableAccountStatement,
  listDeletingTenants,
  tenantThreadRows,
  tenantProviderIds,
} from "../src/tenant-deletion.ts";
import { markTenantDeletingStatement } from "../src/tenants.ts";
import { db, newAccount, newTenant, scalar } from "./fixtures.ts";

const CONFIG = {
  wait_seconds: 0,
  rules: [],
  default_rule: { id: "default", response: { kind: "canned", text: "Thanks" } },
};

async function message(
  tenantId: string,
  accountId: string,
  channel: "instagram" | "whatsapp",
  customer: string,
) {
  await recordMessages(db(), [
    {
      tenantId,
      accountId,
      channel,
      direction: "inbound",
      providerMessageId: newId("mid"),
      conversationId: null,
      senderId: customer,
      recipientId: accountId,
      action: null,
      ruleId: null,
      at: 1,
    },
  ]);
}

describe("deleting one account", () => {
  it("lists only that account's threads, and deletes its rows and nothing else of the tenant", async () => {
    const tenant = await newTenant();
    const ig = await newAccount(tenant.id, "instagram");
    const wa = await newAccount(tenant.id, "whatsapp");
    await saveChannelToken(db(), {
      accountId: ig.id,
      tenantId: tenant.id,
      pageId: `page-${crypto.randomUUID()}`,
      sealedToken: "sealed",
      sealedUserToken: null,
      expiresAt: null,
      facebookUserId: "1",
    });
    await saveReplyConfig(db(), tenant.id, ig.id, CONFIG);
    await saveReplyConfig(db(), tenant.id, wa.id, CONFIG);
    await message(tenant.id, ig.id, "instagram", "ig-1");
    await message(tenant.id, wa.id, "whatsapp", "wa-1");

    const chunk = await tenantThreadRows(db(), tenant.id, 50, ig.id);
    expect(chunk.messages.map((t) => [t.accountId, t.customerId])).toEqual([[ig.id, "ig-1"]]);
    await disableAccountStatement(db(), tenant.id, ig.id).run();
    expect(
      await scalar("SELECT COUNT(*) FROM channel_accounts WHERE id = ? AND status = 'disabled'", ig.id),
    ).toBe(1);
    expect(
      await scalar("SELECT COUNT(*) FROM channel_accounts WHERE id = ? AND status = 'active'", wa.id),
    ).toBe(1);

    // Another tenant cannot delete it; the tenant itself deletes its message, config, token, account.
    expect(await deleteAccountRows(db(), "t_other", ig.id)).toBe(0);
    expect(await deleteAccountRows(db(), tenant.id, ig.id)).toBe(4);
    expect(await deleteAccountRows(db(), tenant.id, ig.id)).toBe(0);
    expect(await scalar("SELECT COUNT(*) FROM channel_accounts WHERE tenant_id = ?", tenant.id)).toBe(1);
    expect(await scalar("SELECT COUNT(*) FROM messages WHERE account_id = ?", wa.id)).toBe(1);
    expect(await scalar("SELECT COUNT(*) FROM reply_configs WHERE account_id = ?", wa.id)).toBe(1);
    expect(await scalar("SELECT COUNT(*) FROM tenants WHERE id = ?", tenant.id)).toBe(1);
  });
});

describe("a tenant deletion's effects and resumption", () => {
  it("names the guild, the Cloudflare rules and the pages its effects need, and when it was marked", async () => {
    const tenant = await newTenant();
    expect(await tenantProviderIds(db(), tenant.id)).toEqual({
      guildIds: [],
      emailRules: [],
      pages: [],
      deletingAt: null,
    });
    const guildId = String(Date.now()) + String(Math.floor(Math.random() * 1e6));
    await saveDiscordInstall(db(), { tenantId: tenant.id, guildId, guildName: null, installedBy: null });
    const name = `del${crypto.randomUUID().slice(0, 8)}`;
    const sub = await insertEmailSubdomain(db(), {
      accountId: newId("acc"),
      tenantId: tenant.id,
      name,
      domain: `${name}.cncg.test`,
    });
    expect(sub).toMatchObject({ ok: true });
    const accountId = (await db()
      .prepare("SELECT account_id AS id FROM email_subdomains WHERE name = ?")
      .bind(name)
      .first<{ id: string }>())!.id;
    await setEmailSubdomainState(db(), accountId, {
      status: "active",
      cfRuleId: "rule-1",
      statusError: null,
    });
    const ig = await newAccount(tenant.id, "instagram");
    const pageId = `page-${crypto.randomUUID()}`;
    await saveChannelToken(db(), {
      accountId: ig.id,
      tenantId: tenant.id,
      pageId,
      sealedToken: "sealed",
      sealedUserToken: null,
      expiresAt: null,
      facebookUserId: null,
    });
    await markTenantDeletingStatement(db(), tenant.id, 5_000).run();
    expect(await tenantProviderIds(db(), tenant.id)).toEqual({
      guildIds: [guildId],
      emailRules: [{ ruleId: "rule-1", domain: `${name}.cncg.test` }],
      pages: [{ pageId, accountId: ig.id }],
      deletingAt: 5_000,
    });
  });

  it("lists tenants marked for deletion before a time, oldest first", async () => {
    const [a, b, c] = await Promise.all([newTenant(), newTenant(), newTenant()]);
    await markTenantDeletingStatement(db(), a.id, 2_000).run();
    await markTenantDeletingStatement(db(), b.id, 1_000).run();
    const listed = await listDeletingTenants(db(), 2_000, 1000);
    expect(listed.indexOf(b.id)).toBeLessThan(listed.indexOf(a.id));
    expect(listed).toContain(a.id);
    expect(listed).not.toContain(c.id);
    expect(await listDeletingTenants(db(), 1_500, 1000)).not.toContain(a.id);
  });
});
