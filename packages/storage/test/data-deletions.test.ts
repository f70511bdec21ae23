import { newId } from "@concierge/core";
import { describe, expect, it } from "vitest";
import { saveChannelToken } from "../src/channel-tokens.ts";
import {
  finishDataDeletion,
  getDataDeletion,
  insertDataDeletion,
  tenantsOfFacebookUser,
} from "../src/data-deletions.ts";
import { insertUserIfAbsent } from "../src/users.ts";
import { db, newAccount, newTenant, rows } from "./fixtures.ts";
import { scansOf } from "./plans.ts";

const fbUser = () => String(Math.floor(Math.random() * 1e15));

async function facebookSignIn(
  tenantId: string,
  subject: string,
  provider: "facebook" | "google" = "facebook",
) {
  await insertUserIfAbsent(db(), {
    id: newId("u"),
    tenantId,
    provider,
    subject,
    email: null,
    name: null,
    createdAt: 1,
  });
}

async function instagramConnectedBy(tenantId: string, facebookUserId: string) {
  const account = await newAccount(tenantId, "instagram");
  await saveChannelToken(db(), {
    accountId: account.id,
    tenantId,
    pageId: `page-${crypto.randomUUID()}`,
    sealedToken: "sealed",
    sealedUserToken: null,
    expiresAt: null,
    facebookUserId,
  });
}

describe("data deletions", () => {
  it("finds every tenant a Facebook user signed in to or connected Instagram to, each once", async () => {
    const who = fbUser();
    const [signedIn, connected, both, other] = await Promise.all([
      newTenant(),
      newTenant(),
      newTenant(),
      newTenant(),
    ]);
    await facebookSignIn(signedIn.id, who);
    await instagramConnectedBy(connected.id, who);
    await facebookSignIn(both.id, `${who}0`);
    await instagramConnectedBy(both.id, who);
    await instagramConnectedBy(both.id, who);
    // The same id at another provider, and another person's Instagram: not this person's.
    await facebookSignIn(other.id, who, "google");
    await instagramConnectedBy(other.id, fbUser());
    expect((await tenantsOfFacebookUser(db(), who)).sort()).toEqual(
      [signedIn.id, connected.id, both.id].sort(),
    );
    expect(await tenantsOfFacebookUser(db(), fbUser())).toEqual([]);
  });

  it("keeps a request's code and outcome, and nothing about the person", async () => {
    const code = `code-${crypto.randomUUID()}`;
    await insertDataDeletion(db(), { code, status: "pending", requestedAt: 1_000 });
    expect(await getDataDeletion(db(), code)).toEqual({ status: "pending", requestedAt: 1_000 });
    await finishDataDeletion(db(), code, "completed", 2_000);
    expect(await getDataDeletion(db(), code)).toEqual({ status: "completed", requestedAt: 1_000 });
    expect(await rows("SELECT * FROM data_deletions WHERE code = ?", code)).toEqual([
      { code, status: "completed", requested_at: 1_000, completed_at: 2_000 },
    ]);
    const none = `code-${crypto.randomUUID()}`;
    await insertDataDeletion(db(), { code: none, status: "nothing_found", requestedAt: 3 });
    expect((await getDataDeletion(db(), none))?.status).toBe("nothing_found");
    expect(await getDataDeletion(db(), "no-such-code")).toBeNull();
  });

  it("refuses a code twice", async () => {
    const d = { code: `code-${crypto.randomUUID()}`, status: "pending" as const, requestedAt: 1 };
    await insertDataDeletion(db(), d);
    await expect(insertDataDeletion(db(), d)).rejects.toThrow(/UNIQUE|PRIMARY KEY/);
  });

  it("every statement is bounded by an index", async () => {
    const code = `code-${crypto.randomUUID()}`;
    expect(await scansOf((d) => tenantsOfFacebookUser(d, "123"))).toEqual([]);
    expect(await scansOf((d) => insertDataDeletion(d, { code, status: "pending", requestedAt: 1 }))).toEqual(
      [],
    );
    expect(await scansOf((d) => finishDataDeletion(d, code, "failed"))).toEqual([]);
    expect(await scansOf((d) => getDataDeletion(d, code))).toEqual([]);
  });
});
