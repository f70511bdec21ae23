import { describe, expect, it } from "vitest";
import {
  channelTokenPageOwner,
  DEAD_REASON_MAX,
  deleteChannelToken,
  getSealedPageToken,
  getSealedUserToken,
  listChannelTokensExpiringBefore,
  markChannelTokenDead,
  saveChannelToken,
} from "../src/channel-tokens.ts";
import { db, newAccount, newTenant, rows } from "./fixtures.ts";

async function instagramAccount() {
  const tenant = await newTenant();
  const account = await newAccount(tenant.id, "instagram");
  return { tenantId: tenant.id, accountId: account.id };
}

const token = (
  o: { tenantId: string; accountId: string },
  t: Partial<Parameters<typeof saveChannelToken>[1]> = {},
) => ({
  ...o,
  pageId: `page-${o.accountId}`,
  sealedToken: "sealed-page-1",
  sealedUserToken: null,
  expiresAt: null,
  facebookUserId: null,
  ...t,
});

describe("channel tokens", () => {
  it("stores a sealed token that only its own tenant reads back", async () => {
    const a = await instagramAccount();
    const other = await newTenant();
    await saveChannelToken(db(), token(a, { sealedUserToken: "sealed-user-1" }));
    expect(await getSealedPageToken(db(), a.tenantId, a.accountId)).toEqual({
      pageId: `page-${a.accountId}`,
      sealed: "sealed-page-1",
      status: "ok",
    });
    expect(await getSealedUserToken(db(), a.tenantId, a.accountId)).toBe("sealed-user-1");
    expect(await getSealedPageToken(db(), other.id, a.accountId)).toBeNull();
    expect(await getSealedUserToken(db(), other.id, a.accountId)).toBeNull();
  });

  it("a later save replaces the token, revives a dead one and keeps the user token and Facebook user when not given", async () => {
    const a = await instagramAccount();
    await saveChannelToken(
      db(),
      token(a, { sealedUserToken: "sealed-user-1", facebookUserId: "fb-1" }),
      1_000,
    );
    await markChannelTokenDead(db(), a.accountId, "expired", 2_000);
    expect((await getSealedPageToken(db(), a.tenantId, a.accountId))?.status).toBe("dead");

    await saveChannelToken(db(), token(a, { sealedToken: "sealed-page-2", expiresAt: 9_000 }), 3_000);
    const [row] = await rows(
      "SELECT sealed_token, sealed_user_token, status, dead_reason, facebook_user_id, expires_at, refreshed_at FROM channel_tokens WHERE account_id = ?",
      a.accountId,
    );
    expect(row).toEqual({
      sealed_token: "sealed-page-2",
      sealed_user_token: "sealed-user-1",
      status: "ok",
      dead_reason: null,
      facebook_user_id: "fb-1",
      expires_at: 9_000,
      refreshed_at: 3_000,
    });

    await saveChannelToken(db(), token(a, { sealedUserToken: "sealed-user-2", facebookUserId: "fb-2" }));
    expect(await getSealedUserToken(db(), a.tenantId, a.accountId)).toBe("sealed-user-2");
    expect((await channelTokenPageOwner(db(), `page-${a.accountId}`))?.accountId).toBe(a.accountId);
  });

  it("one page belongs to one account: storing it on a second account fails on the unique page", async () => {
    const a = await instagramAccount();
    const b = await instagramAccount();
    await saveChannelToken(db(), token(a, { pageId: "page-shared" }));
    await expect(saveChannelToken(db(), token(b, { pageId: "page-shared" }))).rejects.toThrow(
      /UNIQUE constraint failed/,
    );
    expect(await channelTokenPageOwner(db(), "page-shared")).toEqual(a);
    expect(await channelTokenPageOwner(db(), "page-nobody")).toBeNull();
  });

  it("marks a token dead with its reason cut to a short code", async () => {
    const a = await instagramAccount();
    await saveChannelToken(db(), token(a));
    await markChannelTokenDead(db(), a.accountId, "x".repeat(200), 5_000);
    const [row] = await rows<{ status: string; dead_reason: string; updated_at: number }>(
      "SELECT status, dead_reason, updated_at FROM channel_tokens WHERE account_id = ?",
      a.accountId,
    );
    expect(row).toEqual({ status: "dead", dead_reason: "x".repeat(DEAD_REASON_MAX), updated_at: 5_000 });
  });

  it("lists only alive tokens expiring before the cut-off (never-expiring and dead ones are not due)", async () => {
    const due = await instagramAccount();
    const later = await instagramAccount();
    const never = await instagramAccount();
    const dead = await instagramAccount();
    const base = 4_000_000_000_000;
    await saveChannelToken(db(), token(due, { expiresAt: base + 10, facebookUserId: "fb-due" }), 7);
    await saveChannelToken(db(), token(later, { expiresAt: base + 1_000 }));
    await saveChannelToken(db(), token(never, { expiresAt: null }));
    await saveChannelToken(db(), token(dead, { expiresAt: base + 5 }));
    await markChannelTokenDead(db(), dead.accountId, "revoked");

    const list = await listChannelTokensExpiringBefore(db(), base + 100);
    const mine = list.filter((r) => [due, later, never, dead].some((x) => x.accountId === r.accountId));
    expect(mine).toEqual([
      {
        accountId: due.accountId,
        pageId: `page-${due.accountId}`,
        tenantId: due.tenantId,
        expiresAt: base + 10,
        status: "ok",
        deadReason: null,
        facebookUserId: "fb-due",
        refreshedAt: 7,
      },
    ]);
  });

  it("deletes only the tenant's own account's tokens", async () => {
    const a = await instagramAccount();
    const other = await newTenant();
    await saveChannelToken(db(), token(a));
    await deleteChannelToken(db(), other.id, a.accountId);
    expect(await getSealedPageToken(db(), a.tenantId, a.accountId)).not.toBeNull();
    await deleteChannelToken(db(), a.tenantId, a.accountId);
    expect(await getSealedPageToken(db(), a.tenantId, a.accountId)).toBeNull();
  });
});
