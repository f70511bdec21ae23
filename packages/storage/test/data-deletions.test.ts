import { newId } from "@concierge/core";
import { describe, expect, it } from "vitest";
import { saveChannelToken } from "../src/channel-tokens.ts";
import {
  dataDeletionEffects,
  facebookUserTargets,
  finishDataDeletion,
  getDataDeletion,
  insertDataDeletion,
  listPendingDataDeletions,
  markDataDeletionStarted,
  sideEffectsRecordedSince,
} from "../src/data-deletions.ts";
import { completeSideEffect, getPendingSideEffect, recordSideEffectStatement } from "../src/side-effects.ts";
import { deleteUserWithSessions, insertUserIfAbsent } from "../src/users.ts";
import { db, newAccount, newTenant, rows } from "./fixtures.ts";
import { scansOf } from "./plans.ts";

const fbUser = () => String(Math.floor(Math.random() * 1e15));

async function facebookSignIn(
  tenantId: string,
  subject: string,
  provider: "facebook" | "google" = "facebook",
): Promise<string> {
  const id = newId("u");
  await insertUserIfAbsent(db(), { id, tenantId, provider, subject, email: null, name: null, createdAt: 1 });
  return id;
}

async function instagramConnectedBy(tenantId: string, facebookUserId: string) {
  const account = await newAccount(tenantId, "instagram");
  const pageId = `page-${crypto.randomUUID()}`;
  await saveChannelToken(db(), {
    accountId: account.id,
    tenantId,
    pageId,
    sealedToken: "sealed",
    sealedUserToken: null,
    expiresAt: null,
    facebookUserId,
  });
  return { tenantId, accountId: account.id, pageId };
}

describe("data deletions", () => {
  it("finds what belongs to a Facebook user: the Instagram accounts they connected and their Facebook sign-ins, by id", async () => {
    const who = fbUser();
    const [signedIn, connected, both, other] = await Promise.all([
      newTenant(),
      newTenant(),
      newTenant(),
      newTenant(),
    ]);
    const user = await facebookSignIn(signedIn.id, who);
    const a = await instagramConnectedBy(connected.id, who);
    await facebookSignIn(both.id, `${who}0`);
    const b = await instagramConnectedBy(both.id, who);
    const c = await instagramConnectedBy(both.id, who);
    // The same id at another provider, and another person's Instagram: not this person's.
    await facebookSignIn(other.id, who, "google");
    await instagramConnectedBy(other.id, fbUser());
    const targets = await facebookUserTargets(db(), who);
    expect(targets.users).toEqual([{ tenantId: signedIn.id, userId: user }]);
    expect(targets.accounts).toEqual([a, b, c].sort((x, y) => x.accountId.localeCompare(y.accountId)));
    expect(await facebookUserTargets(db(), fbUser())).toEqual({ accounts: [], users: [] });
  });

  it("keeps a request's code, targets by id and outcome; started reads as in progress; nothing about the person", async () => {
    const code = `code-${crypto.randomUUID()}`;
    const targets = { accounts: [{ tenantId: "t_1", accountId: "acc_1", pageId: "p1" }], users: [] };
    await insertDataDeletion(db(), { code, status: "pending", requestedAt: 1_000, targets });
    expect(await getDataDeletion(db(), code)).toEqual({
      status: "pending",
      requestedAt: 1_000,
      startedAt: null,
      completedAt: null,
      targets,
    });
    expect(await listPendingDataDeletions(db(), 1_000, 100)).toContain(code);
    expect(await listPendingDataDeletions(db(), 999, 100)).not.toContain(code);
    await markDataDeletionStarted(db(), code, 1_500);
    await markDataDeletionStarted(db(), code, 1_700);
    expect((await getDataDeletion(db(), code))?.startedAt).toBe(1_500);
    await finishDataDeletion(db(), code, "completed", 2_000);
    // A finished request stays finished.
    await finishDataDeletion(db(), code, "failed", 3_000);
    expect(await getDataDeletion(db(), code)).toMatchObject({ status: "completed", completedAt: 2_000 });
    expect(await listPendingDataDeletions(db(), 10_000, 100)).not.toContain(code);
    expect(await rows("SELECT * FROM data_deletions WHERE code = ?", code)).toEqual([
      {
        code,
        status: "completed",
        requested_at: 1_000,
        completed_at: 2_000,
        started_at: 1_500,
        targets: JSON.stringify(targets),
      },
    ]);
    const none = `code-${crypto.randomUUID()}`;
    await insertDataDeletion(db(), { code: none, status: "nothing_found", requestedAt: 3 });
    expect((await getDataDeletion(db(), none))?.status).toBe("nothing_found");
    expect(await getDataDeletion(db(), "no-such-code")).toBeNull();
  });

  it("tells a request's effects at providers, and which were recorded since a time", async () => {
    const tenant = await newTenant();
    const page = `page-${crypto.randomUUID()}`;
    const effect = { kind: "instagram_unsubscribe" as const, target: { page_id: page } };
    expect(await dataDeletionEffects(db(), [effect])).toEqual([]);
    expect(await sideEffectsRecordedSince(db(), [effect], 0)).toEqual(new Set());
    await recordSideEffectStatement(db(), { tenantId: tenant.id, ...effect, now: 5_000 }).run();
    expect(await dataDeletionEffects(db(), [effect])).toEqual([
      { kind: "instagram_unsubscribe", status: "pending" },
    ]);
    expect((await sideEffectsRecordedSince(db(), [effect], 5_000)).size).toBe(1);
    expect((await sideEffectsRecordedSince(db(), [effect], 5_001)).size).toBe(0);
    const e = await getPendingSideEffect(db(), effect.kind, effect.target);
    await completeSideEffect(db(), e!.id, 6_000);
    expect(await dataDeletionEffects(db(), [effect])).toEqual([
      { kind: "instagram_unsubscribe", status: "done" },
    ]);
  });

  it("deletes one user and their sessions, nothing else of the tenant", async () => {
    const tenant = await newTenant();
    const gone = await facebookSignIn(tenant.id, fbUser());
    const stays = await facebookSignIn(tenant.id, fbUser(), "google");
    for (const [user, token] of [
      [gone, "a"],
      [stays, "b"],
    ]) {
      await db()
        .prepare(
          "INSERT INTO sessions (token_hash, user_id, tenant_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, 'c', 1, 9e12)",
        )
        .bind(`${token}-${crypto.randomUUID()}`, user, tenant.id)
        .run();
    }
    expect(await deleteUserWithSessions(db(), tenant.id, gone)).toBe(2);
    expect(await deleteUserWithSessions(db(), tenant.id, gone)).toBe(0);
    expect(await rows("SELECT id FROM users WHERE tenant_id = ?", tenant.id)).toEqual([{ id: stays }]);
    expect(await rows("SELECT user_id FROM sessions WHERE tenant_id = ?", tenant.id)).toEqual([
      { user_id: stays },
    ]);
    expect(await rows("SELECT id FROM tenants WHERE id = ?", tenant.id)).toHaveLength(1);
  });

  it("refuses a code twice", async () => {
    const d = { code: `code-${crypto.randomUUID()}`, status: "pending" as const, requestedAt: 1 };
    await insertDataDeletion(db(), d);
    await expect(insertDataDeletion(db(), d)).rejects.toThrow(/UNIQUE|PRIMARY KEY/);
  });

  it("every statement is bounded by an index", async () => {
    const code = `code-${crypto.randomUUID()}`;
    const effect = { kind: "instagram_unsubscribe" as const, target: { page_id: "p" } };
    expect(await scansOf((d) => facebookUserTargets(d, "123"))).toEqual([]);
    expect(await scansOf((d) => insertDataDeletion(d, { code, status: "pending", requestedAt: 1 }))).toEqual(
      [],
    );
    expect(await scansOf((d) => markDataDeletionStarted(d, code, 2))).toEqual([]);
    expect(await scansOf((d) => finishDataDeletion(d, code, "failed"))).toEqual([]);
    expect(await scansOf((d) => getDataDeletion(d, code))).toEqual([]);
    expect(await scansOf((d) => listPendingDataDeletions(d, 10, 10))).toEqual([]);
    expect(await scansOf((d) => dataDeletionEffects(d, [effect]))).toEqual([]);
    expect(await scansOf((d) => sideEffectsRecordedSince(d, [effect], 1))).toEqual([]);
    expect(await scansOf((d) => deleteUserWithSessions(d, "t", "u"))).toEqual([]);
  });
});
