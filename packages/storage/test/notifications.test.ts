import { newId } from "@concierge/core";
import { describe, expect, it } from "vitest";
import { createApproval } from "../src/approvals.ts";
import { grantCredits } from "../src/credits.ts";
import {
  claimDigest,
  digestCounts,
  listDigestDue,
  releaseDigest,
  setFirstDigestBoundary,
} from "../src/digest.ts";
import {
  consumeForwardToken,
  deleteForwardAddressRow,
  insertForwardAddress,
  listForwardAddresses,
} from "../src/email-config.ts";
import { recordDeliveryStatus, recordMessages } from "../src/messages.ts";
import {
  dueNotices,
  listDueNoticeTenants,
  postponeNotices,
  queueNotice,
  removeSentNotices,
  saveNotificationPrefs,
} from "../src/notifications.ts";
import { db, newAccount, newTenant, rows, undeliverable } from "./fixtures.ts";

const NOW = 1_800_000_000_000;
const MIN = 60_000;

type Prefs = {
  discordChannelId: string | null;
  email: string | null;
  cadence: string;
  digest: string;
  digestNextAt: number | null;
};
async function prefs(tenantId: string): Promise<Prefs> {
  const [row] = await rows<Prefs>(
    `SELECT notify_discord_channel_id AS discordChannelId, notify_email AS email, notify_cadence AS cadence,
            digest, digest_next_at AS digestNextAt FROM tenants WHERE id = ?`,
    tenantId,
  );
  return row!;
}

/** A forward address of the tenant, confirmed by its link when `verified`. */
async function address(tenantId: string, address: string, verified: boolean) {
  const tokenHash = newId("h");
  await insertForwardAddress(db(), {
    id: newId("fwd"),
    tenantId,
    address,
    tokenHash,
    expiresAt: NOW + 60 * MIN,
    limit: 10,
  });
  if (verified) expect(await consumeForwardToken(db(), tokenHash, NOW)).toMatchObject({ status: "verified" });
}

describe("notification preferences", () => {
  it("saves only the fields given; a verified address of the tenant is accepted", async () => {
    const t = (await newTenant()).id;
    await address(t, "owner@chai.test", true);
    expect(await saveNotificationPrefs(db(), t, { discordChannelId: "130000000000000042" })).toBe("saved");
    expect(await saveNotificationPrefs(db(), t, { email: "owner@chai.test", cadence: "hourly" })).toBe(
      "saved",
    );
    expect(await prefs(t)).toEqual({
      discordChannelId: "130000000000000042",
      email: "owner@chai.test",
      cadence: "hourly",
      digest: "off",
      digestNextAt: null,
    });
    expect(await saveNotificationPrefs(db(), t, { discordChannelId: null })).toBe("saved");
    expect(await prefs(t)).toMatchObject({
      discordChannelId: null,
      email: "owner@chai.test",
      cadence: "hourly",
    });
  });

  it("refuses an unverified address, another tenant's and an unknown one, saving nothing else either", async () => {
    const t = (await newTenant()).id;
    const other = (await newTenant()).id;
    await address(t, "pending@chai.test", false);
    await address(other, "theirs@chai.test", true);
    const before = await prefs(t);
    for (const email of ["pending@chai.test", "theirs@chai.test", "nobody@chai.test"]) {
      expect(await saveNotificationPrefs(db(), t, { email, cadence: "daily", digest: "weekly" })).toBe(
        "email_unverified",
      );
    }
    expect(await prefs(t)).toEqual(before);
    // Clearing is always allowed; an unknown tenant is not found.
    expect(await saveNotificationPrefs(db(), t, { email: null })).toBe("saved");
    expect(await saveNotificationPrefs(db(), "t_nobody", { email: null })).toBe("not_found");
    expect(await saveNotificationPrefs(db(), "t_nobody", { email: "x@chai.test" })).toBe("not_found");
  });

  it("a changed digest clears its boundary; saving the same digest again keeps it", async () => {
    const t = (await newTenant()).id;
    await saveNotificationPrefs(db(), t, { digest: "daily", discordChannelId: "130000000000000042" });
    expect(await setFirstDigestBoundary(db(), t, NOW)).toBe(true);
    expect(await setFirstDigestBoundary(db(), t, NOW + 1)).toBe(false);
    await saveNotificationPrefs(db(), t, { digest: "daily", cadence: "15m" });
    expect((await prefs(t)).digestNextAt).toBe(NOW);
    await saveNotificationPrefs(db(), t, { digest: "weekly" });
    expect((await prefs(t)).digestNextAt).toBeNull();
  });

  it("refuses a digest with nowhere to go (no email, no Discord channel after the update): nothing saved", async () => {
    const t = (await newTenant()).id;
    await address(t, "owner@chai.test", true);
    expect(await saveNotificationPrefs(db(), t, { digest: "daily", cadence: "hourly" })).toBe("no_target");
    expect(await prefs(t)).toMatchObject({ digest: "off", cadence: "instant" });
    expect(await saveNotificationPrefs(db(), t, { digest: "weekly", email: "owner@chai.test" })).toBe(
      "saved",
    );
    // Clearing the only target while the digest is on: refused; together with the digest: fine.
    expect(await saveNotificationPrefs(db(), t, { email: null })).toBe("no_target");
    expect(await prefs(t)).toMatchObject({ digest: "weekly", email: "owner@chai.test" });
    expect(
      await saveNotificationPrefs(db(), t, { discordChannelId: "130000000000000042", email: null }),
    ).toBe("saved");
    expect(await saveNotificationPrefs(db(), t, { discordChannelId: null, digest: "off" })).toBe("saved");
    expect(await prefs(t)).toMatchObject({ digest: "off", email: null, discordChannelId: null });
  });

  it("deleting the address that is the notification email clears it in the same batch; another address leaves it", async () => {
    const t = (await newTenant()).id;
    await address(t, "owner@chai.test", true);
    await address(t, "other@chai.test", true);
    expect(await saveNotificationPrefs(db(), t, { email: "owner@chai.test" })).toBe("saved");
    const byAddress = async (a: string) =>
      (await listForwardAddresses(db(), t)).find((r) => r.address === a)!;
    expect(await deleteForwardAddressRow(db(), t, (await byAddress("other@chai.test")).id)).toBe(true);
    expect((await prefs(t)).email).toBe("owner@chai.test");
    // Another tenant cannot delete it (nor clear the email).
    const other = (await newTenant()).id;
    const owner = await byAddress("owner@chai.test");
    expect(await deleteForwardAddressRow(db(), other, owner.id)).toBe(false);
    expect((await prefs(t)).email).toBe("owner@chai.test");
    expect(await deleteForwardAddressRow(db(), t, owner.id)).toBe(true);
    expect((await prefs(t)).email).toBeNull();
    // Added again, unverified: not the notification email, and it cannot be chosen.
    await address(t, "owner@chai.test", false);
    expect((await prefs(t)).email).toBeNull();
    expect(await saveNotificationPrefs(db(), t, { email: "owner@chai.test" })).toBe("email_unverified");
  });
});

describe("gathered notices", () => {
  it("an instant tenant's notice is not gathered", async () => {
    const t = (await newTenant()).id;
    expect(await queueNotice(db(), { tenantId: t, kind: "handoff", channel: "whatsapp" }, NOW)).toBe(false);
    expect(await queueNotice(db(), { tenantId: "t_nobody", kind: "handoff", channel: "x" }, NOW)).toBe(false);
    expect(await dueNotices(db(), t, NOW + 365 * 24 * 60 * MIN)).toEqual([]);
  });

  it("counts per kind and channel, due a cadence after the first notice", async () => {
    const t = (await newTenant()).id;
    await saveNotificationPrefs(db(), t, { cadence: "15m" });
    const q = (kind: "handoff" | "approval", channel: string, at: number) =>
      queueNotice(db(), { tenantId: t, kind, channel }, at);
    expect(await q("handoff", "whatsapp", NOW)).toBe(true);
    expect(await q("handoff", "whatsapp", NOW + 5 * MIN)).toBe(true);
    expect(await q("approval", "instagram", NOW + 6 * MIN)).toBe(true);
    expect(await dueNotices(db(), t, NOW + 15 * MIN - 1)).toEqual([]);
    expect(await listDueNoticeTenants(db(), NOW + 15 * MIN - 1, 10)).not.toContain(t);
    expect(await listDueNoticeTenants(db(), NOW + 15 * MIN, 10)).toContain(t);
    expect(await dueNotices(db(), t, NOW + 21 * MIN)).toEqual([
      { kind: "approval", channel: "instagram", count: 1, dueAt: NOW + 21 * MIN },
      { kind: "handoff", channel: "whatsapp", count: 2, dueAt: NOW + 15 * MIN },
    ]);
    for (const [cadence, ms] of [
      ["hourly", 60 * MIN],
      ["daily", 24 * 60 * MIN],
    ] as const) {
      const u = (await newTenant()).id;
      await saveNotificationPrefs(db(), u, { cadence });
      await queueNotice(db(), { tenantId: u, kind: "approval", channel: "email" }, NOW);
      expect(await dueNotices(db(), u, NOW + ms)).toEqual([
        { kind: "approval", channel: "email", count: 1, dueAt: NOW + ms },
      ]);
    }
  });

  it("removes exactly what was sent: a notice that arrived meanwhile stays, waiting a new cadence", async () => {
    const t = (await newTenant()).id;
    await saveNotificationPrefs(db(), t, { cadence: "hourly" });
    await queueNotice(db(), { tenantId: t, kind: "handoff", channel: "whatsapp" }, NOW);
    await queueNotice(db(), { tenantId: t, kind: "handoff", channel: "whatsapp" }, NOW + MIN);
    await queueNotice(db(), { tenantId: t, kind: "approval", channel: "email" }, NOW + MIN);
    const sent = await dueNotices(db(), t, NOW + 61 * MIN);
    // While the summary is out, one more handoff arrives.
    await queueNotice(db(), { tenantId: t, kind: "handoff", channel: "whatsapp" }, NOW + 62 * MIN);
    await removeSentNotices(db(), t, sent, NOW + 63 * MIN);
    expect(await dueNotices(db(), t, NOW + 63 * MIN)).toEqual([]);
    expect(await dueNotices(db(), t, NOW + 123 * MIN)).toEqual([
      { kind: "handoff", channel: "whatsapp", count: 1, dueAt: NOW + 123 * MIN },
    ]);
  });

  it("a summary that reached nobody waits until retryAt; rows older than cadence + 24 h are dropped", async () => {
    const t = (await newTenant()).id;
    await saveNotificationPrefs(db(), t, { cadence: "hourly" });
    await queueNotice(db(), { tenantId: t, kind: "handoff", channel: "whatsapp" }, NOW);
    await queueNotice(db(), { tenantId: t, kind: "approval", channel: "email" }, NOW + 30 * MIN);
    // At NOW + 60 min only the handoff is due: it alone waits 15 minutes more.
    expect(await postponeNotices(db(), t, NOW + 60 * MIN, NOW + 75 * MIN)).toBe(0);
    expect(await dueNotices(db(), t, NOW + 74 * MIN)).toEqual([]);
    expect(await listDueNoticeTenants(db(), NOW + 74 * MIN, 10)).not.toContain(t);
    expect(await dueNotices(db(), t, NOW + 90 * MIN)).toEqual([
      { kind: "approval", channel: "email", count: 1, dueAt: NOW + 90 * MIN },
      { kind: "handoff", channel: "whatsapp", count: 1, dueAt: NOW + 75 * MIN },
    ]);
    // A day and an hour after its first notice the handoff is dropped; the approval is not yet.
    const late = NOW + 25 * 60 * MIN;
    expect(await postponeNotices(db(), t, late, late + 15 * MIN)).toBe(1);
    expect(await dueNotices(db(), t, late + 15 * MIN)).toEqual([
      { kind: "approval", channel: "email", count: 1, dueAt: late + 15 * MIN },
    ]);
  });

  it("a row that gained notices while its postponed summary went out waits the tenant's cadence", async () => {
    const t = (await newTenant()).id;
    await saveNotificationPrefs(db(), t, { cadence: "15m" });
    await queueNotice(db(), { tenantId: t, kind: "handoff", channel: "whatsapp" }, NOW);
    await postponeNotices(db(), t, NOW + 15 * MIN, NOW + 30 * MIN);
    const sent = await dueNotices(db(), t, NOW + 30 * MIN);
    await queueNotice(db(), { tenantId: t, kind: "handoff", channel: "whatsapp" }, NOW + 31 * MIN);
    await removeSentNotices(db(), t, sent, NOW + 32 * MIN);
    expect(await dueNotices(db(), t, NOW + 47 * MIN)).toEqual([
      { kind: "handoff", channel: "whatsapp", count: 1, dueAt: NOW + 47 * MIN },
    ]);
  });
});

describe("digest", () => {
  it("lists tenants whose boundary passed or is unknown, not those off, later, suspended or deleting", async () => {
    const unknown = (await newTenant()).id;
    const due = (await newTenant()).id;
    const later = (await newTenant()).id;
    const off = (await newTenant()).id;
    const suspended = (await newTenant()).id;
    for (const t of [unknown, due, later, suspended])
      await saveNotificationPrefs(db(), t, { digest: "daily", discordChannelId: "130000000000000042" });
    await setFirstDigestBoundary(db(), due, NOW - 1);
    await setFirstDigestBoundary(db(), later, NOW + 1);
    await setFirstDigestBoundary(db(), suspended, NOW - 1);
    await db().prepare("UPDATE tenants SET status = 'suspended' WHERE id = ?").bind(suspended).run();
    const ids = (await listDigestDue(db(), NOW, 1000)).map((r) => r.id);
    expect(ids).toEqual(expect.arrayContaining([unknown, due]));
    expect(ids).not.toContain(later);
    expect(ids).not.toContain(off);
    expect(ids).not.toContain(suspended);
  });

  it("a period is claimed once; a claim given back can be claimed again", async () => {
    const t = (await newTenant()).id;
    await saveNotificationPrefs(db(), t, { digest: "weekly", discordChannelId: "130000000000000042" });
    await setFirstDigestBoundary(db(), t, NOW);
    expect(await claimDigest(db(), t, NOW, NOW + 7)).toBe(true);
    expect(await claimDigest(db(), t, NOW, NOW + 7)).toBe(false);
    expect(await releaseDigest(db(), t, NOW, NOW + 7)).toBe(true);
    expect(await claimDigest(db(), t, NOW, NOW + 7)).toBe(true);
    // The tenant changed its digest meanwhile: nothing is given back over the new choice.
    await saveNotificationPrefs(db(), t, { digest: "daily" });
    expect(await releaseDigest(db(), t, NOW, NOW + 7)).toBe(false);
    expect((await prefs(t)).digestNextAt).toBeNull();
  });

  it("counts the period's messages per channel and direction, AI replies, handoffs, waiting approvals, balance", async () => {
    const t = (await newTenant()).id;
    const wa = await newAccount(t, "whatsapp");
    const ig = await newAccount(t, "instagram");
    const msg = (
      account: { id: string; channel: "whatsapp" | "instagram" },
      direction: "inbound" | "outbound",
      action: string,
      at: number,
    ) => ({
      tenantId: t,
      accountId: account.id,
      channel: account.channel,
      direction,
      providerMessageId: newId("p"),
      conversationId: null,
      senderId: "s",
      recipientId: "r",
      action,
      ruleId: null,
      at,
    });
    const waAcc = { id: wa.id, channel: "whatsapp" as const };
    const igAcc = { id: ig.id, channel: "instagram" as const };
    // An AI reply Meta later reported undeliverable: a failure, not a reply sent.
    const undelivered = msg(waAcc, "outbound", "ai_reply", NOW + 8);
    await recordMessages(db(), [
      undelivered,
      msg(waAcc, "inbound", "ai_reply", NOW),
      msg(waAcc, "outbound", "ai_reply", NOW + 1),
      msg(waAcc, "inbound", "canned_reply", NOW + 2),
      msg(waAcc, "outbound", "canned_reply", NOW + 3),
      msg(igAcc, "inbound", "handoff", NOW + 4),
      msg(igAcc, "outbound", "handoff", NOW + 5),
      msg(igAcc, "inbound", "send_failed", NOW + 6),
      msg(igAcc, "outbound", "send_failed", NOW + 7),
      // Outside [from, to): not counted.
      msg(waAcc, "inbound", "ai_reply", NOW - 1),
      msg(waAcc, "inbound", "ai_reply", NOW + 100),
    ]);
    await recordDeliveryStatus(db(), undeliverable(t, wa.id, undelivered.providerMessageId, NOW + 9));
    await createApproval(db(), {
      id: newId("apr"),
      tenantId: t,
      accountId: wa.id,
      threadKey: "k",
      conversationId: null,
      ruleId: null,
      creditRef: "r",
      reasons: ["always"],
    });
    await grantCredits(db(), { tenantId: t, amount: 7, source: "grant", reference: newId("g") });
    const counts = await digestCounts(db(), t, NOW, NOW + 100);
    expect(counts).toMatchObject({
      received: { whatsapp: 2, instagram: 2, email: 0 },
      sent: { whatsapp: 2, instagram: 1, email: 0 },
      aiReplies: 1,
      handoffs: 1,
      approvalsWaiting: 1,
    });
    expect(counts.balance).toBeGreaterThanOrEqual(7);
  });
});
