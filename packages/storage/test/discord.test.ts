import { newId } from "@concierge/core";
import { describe, expect, it } from "vitest";
import {
  createRelay,
  deleteDiscordInstall,
  getDiscordInstall,
  getDiscordInstallByGuild,
  getRelay,
  getRelayByApproval,
  type NewRelay,
  reopenRelay,
  saveDiscordInstall,
  setRelayMessageId,
  transitionRelay,
  updateDiscordSettings,
} from "../src/discord.ts";
import {
  listCustomerAccounts,
  listEmailSubdomainStates,
  listInstagramTokenStates,
} from "../src/discord-summaries.ts";
import { saveChannelToken, markChannelTokenDead } from "../src/channel-tokens.ts";
import { insertEmailSubdomain } from "../src/email-config.ts";
import { db, newAccount, newTenant } from "./fixtures.ts";

const NOW = 1_800_000_000_000;

async function installed(guildId = newId("guild")) {
  const t = (await newTenant()).id;
  expect(
    await saveDiscordInstall(db(), { tenantId: t, guildId, guildName: "Cafe", installedBy: "u1" }, NOW),
  ).toEqual({
    ok: true,
  });
  return { tenantId: t, guildId };
}

describe("discord installs", () => {
  it("records the install with the defaults; found by tenant and by guild", async () => {
    const { tenantId, guildId } = await installed();
    const row = await getDiscordInstall(db(), tenantId);
    expect(row).toEqual({
      tenantId,
      guildId,
      guildName: "Cafe",
      inboxChannelId: null,
      staffRoleId: null,
      relayMode: "needs_human",
      afterHumanReply: "silent",
      installedBy: "u1",
      createdAt: NOW,
      updatedAt: NOW,
    });
    expect(await getDiscordInstallByGuild(db(), guildId)).toEqual(row);
  });

  it("a guild belongs to one tenant: another tenant installing it is guild_taken and changes nothing", async () => {
    const { tenantId, guildId } = await installed();
    const other = (await newTenant()).id;
    expect(
      await saveDiscordInstall(db(), { tenantId: other, guildId, guildName: "Mine", installedBy: "u2" }),
    ).toEqual({
      ok: false,
      code: "guild_taken",
    });
    expect(await getDiscordInstall(db(), other)).toBeNull();
    expect((await getDiscordInstallByGuild(db(), guildId))?.tenantId).toBe(tenantId);
  });

  it("reinstalling in the same guild keeps the choices; moving to another guild forgets them", async () => {
    const { tenantId, guildId } = await installed();
    const choices = {
      inboxChannelId: "chan-1",
      staffRoleId: "role-1",
      relayMode: "all",
      afterHumanReply: "keep",
    } as const;
    expect(await updateDiscordSettings(db(), tenantId, choices, NOW + 1)).toBe(true);
    await saveDiscordInstall(db(), { tenantId, guildId, guildName: "Cafe 2", installedBy: "u1" }, NOW + 2);
    expect(await getDiscordInstall(db(), tenantId)).toMatchObject({
      ...choices,
      guildName: "Cafe 2",
      createdAt: NOW,
    });
    const elsewhere = newId("guild");
    await saveDiscordInstall(
      db(),
      { tenantId, guildId: elsewhere, guildName: "New", installedBy: "u1" },
      NOW + 3,
    );
    expect(await getDiscordInstall(db(), tenantId)).toMatchObject({
      guildId: elsewhere,
      inboxChannelId: null,
      staffRoleId: null,
    });
    // The old guild is free again.
    expect(await getDiscordInstallByGuild(db(), guildId)).toBeNull();
  });

  it("settings and deletion touch only an existing install", async () => {
    const { tenantId } = await installed();
    const none = (await newTenant()).id;
    expect(
      await updateDiscordSettings(db(), none, {
        inboxChannelId: "c",
        staffRoleId: null,
        relayMode: "all",
        afterHumanReply: "keep",
      }),
    ).toBe(false);
    expect(await deleteDiscordInstall(db(), none)).toBeNull();
    expect((await deleteDiscordInstall(db(), tenantId))?.tenantId).toBe(tenantId);
    expect(await getDiscordInstall(db(), tenantId)).toBeNull();
  });
});

describe("discord relays", () => {
  async function relay(o: Partial<NewRelay> = {}) {
    const { tenantId, guildId } = await installed();
    const r: NewRelay = {
      id: newId("rel"),
      tenantId,
      accountId: "acc_x",
      channel: "whatsapp",
      customerId: "15550001111",
      threadKey: `${tenantId}/acc_x/15550001111`,
      kind: "approval",
      approvalId: newId("apr"),
      providerMessageId: "wamid.1",
      guildId,
      channelId: "chan-1",
      ...o,
    };
    await createRelay(db(), r, NOW);
    return r;
  }

  it("is idempotent on its id, found by id and by approval within the tenant only", async () => {
    const r = await relay();
    await createRelay(db(), { ...r, kind: "message" }, NOW + 5);
    const row = await getRelay(db(), r.tenantId, r.id);
    expect(row).toMatchObject({ kind: "approval", status: "open", createdAt: NOW, discordMessageId: null });
    expect(await getRelayByApproval(db(), r.tenantId, r.approvalId!)).toEqual(row);
    const other = (await newTenant()).id;
    expect(await getRelay(db(), other, r.id)).toBeNull();
    expect(await getRelayByApproval(db(), other, r.approvalId!)).toBeNull();
    await setRelayMessageId(db(), other, r.id, "stolen");
    await setRelayMessageId(db(), r.tenantId, r.id, "discord-msg-1");
    expect((await getRelay(db(), r.tenantId, r.id))?.discordMessageId).toBe("discord-msg-1");
  });

  it("open → handled happens once: of two racing clicks one wins, a later click finds it handled", async () => {
    const r = await relay();
    const [a, b] = await Promise.all([
      transitionRelay(db(), r.tenantId, r.id, "approved", "alice", NOW + 1),
      transitionRelay(db(), r.tenantId, r.id, "dropped", "bob", NOW + 1),
    ]);
    expect([a.changed, b.changed].sort()).toEqual([false, true]);
    const winner = a.changed
      ? { status: "approved", handledBy: "alice" }
      : { status: "dropped", handledBy: "bob" };
    expect(await getRelay(db(), r.tenantId, r.id)).toMatchObject({ ...winner, handledAt: NOW + 1 });
    expect(await transitionRelay(db(), r.tenantId, r.id, "replied", "carol", NOW + 2)).toEqual({
      changed: false,
    });
    expect(await getRelay(db(), r.tenantId, r.id)).toMatchObject(winner);
  });

  it("another tenant cannot handle it; reopening after a failed action lets it be handled again", async () => {
    const r = await relay();
    const other = (await newTenant()).id;
    expect(await transitionRelay(db(), other, r.id, "dropped", "mallory")).toEqual({ changed: false });
    expect(await transitionRelay(db(), r.tenantId, r.id, "replied", "alice", NOW)).toEqual({ changed: true });
    await reopenRelay(db(), other, r.id);
    expect((await getRelay(db(), r.tenantId, r.id))?.status).toBe("replied");
    await reopenRelay(db(), r.tenantId, r.id);
    expect(await getRelay(db(), r.tenantId, r.id)).toMatchObject({
      status: "open",
      handledBy: null,
      handledAt: null,
    });
    expect(await transitionRelay(db(), r.tenantId, r.id, "replied", "alice", NOW + 1)).toEqual({
      changed: true,
    });
  });
});

describe("slash-command summaries", () => {
  it("list the tenant's token states, subdomain states and customer accounts only", async () => {
    const t = (await newTenant()).id;
    const other = (await newTenant()).id;
    const ig = await newAccount(t, "instagram");
    const wa = await newAccount(t, "whatsapp");
    await newAccount(t, "discord");
    await newAccount(other, "whatsapp");
    await saveChannelToken(db(), {
      accountId: ig.id,
      tenantId: t,
      pageId: newId("page"),
      sealedToken: "s",
      sealedUserToken: null,
      expiresAt: null,
      facebookUserId: null,
    });
    await markChannelTokenDead(db(), ig.id, "revoked");
    const sd = await insertEmailSubdomain(db(), {
      accountId: newId("acc"),
      tenantId: t,
      name: `s-${t.slice(-8)}`,
      domain: `s-${t.slice(-8)}.cncg.test`,
    });
    expect(await listInstagramTokenStates(db(), t)).toEqual([
      { accountId: ig.id, status: "dead", deadReason: "revoked" },
    ]);
    expect(await listEmailSubdomainStates(db(), t)).toEqual([
      {
        accountId: sd.ok ? sd.subdomain.accountId : "",
        domain: `s-${t.slice(-8)}.cncg.test`,
        status: "provisioning",
        statusError: null,
      },
    ]);
    expect((await listCustomerAccounts(db(), t)).map((a) => [a.channel, a.id])).toEqual([
      ["email", sd.ok ? sd.subdomain.accountId : ""],
      ["instagram", ig.id],
      ["whatsapp", wa.id],
    ]);
    expect(await listInstagramTokenStates(db(), other)).toEqual([]);
  });
});
