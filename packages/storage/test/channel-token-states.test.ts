import { describe, expect, it } from "vitest";
import { markChannelTokenDead, saveChannelToken } from "../src/channel-tokens.ts";
import { listChannelTokenStates } from "../src/channel-token-states.ts";
import { db, newAccount, newTenant } from "./fixtures.ts";
import { scansOf } from "./plans.ts";

async function withToken(tenantId: string, expiresAt: number | null) {
  const account = await newAccount(tenantId, "instagram");
  await saveChannelToken(db(), {
    accountId: account.id,
    tenantId,
    pageId: `page-${crypto.randomUUID()}`,
    sealedToken: "sealed-token",
    sealedUserToken: "sealed-user-token",
    expiresAt,
    facebookUserId: null,
  });
  return account.id;
}

describe("channel token states", () => {
  it("lists each of the tenant's page tokens with its state, never the token", async () => {
    const t = await newTenant();
    const alive = await withToken(t.id, 9_000);
    const forever = await withToken(t.id, null);
    const dead = await withToken(t.id, 1);
    await markChannelTokenDead(db(), dead, "revoked");
    // An account without a token has no state; another tenant's tokens are not listed.
    await newAccount(t.id, "whatsapp");
    await withToken((await newTenant()).id, null);
    const states = await listChannelTokenStates(db(), t.id);
    expect(states.sort((a, b) => a.accountId.localeCompare(b.accountId))).toEqual(
      [
        { accountId: alive, status: "ok", expiresAt: 9_000, deadReason: null },
        { accountId: forever, status: "ok", expiresAt: null, deadReason: null },
        { accountId: dead, status: "dead", expiresAt: 1, deadReason: "revoked" },
      ].sort((a, b) => a.accountId.localeCompare(b.accountId)),
    );
    expect(JSON.stringify(states)).not.toContain("sealed");
    expect(await listChannelTokenStates(db(), "t_nobody")).toEqual([]);
  });

  it("is bounded by the tenant's accounts, although channel_tokens has no tenant index", async () => {
    const t = await newTenant();
    await withToken(t.id, null);
    expect(await scansOf((d) => listChannelTokenStates(d, t.id))).toEqual([]);
  });
});
