import { newId } from "@concierge/core";
import { describe, expect, it } from "vitest";
import {
  automaticMailToday,
  claimAutomaticMail,
  claimForwardSend,
  getEmailAutomaticSettings,
  markForwardSentStatement,
  nextUtcMidnight,
  pruneAutomaticMail,
  saveEmailAutomaticLimitStatement,
  utcDay,
} from "../src/email-automatic.ts";
import { db, newAccount, newTenant, scalar } from "./fixtures.ts";
import { scansOf } from "./plans.ts";

const NOW = Date.UTC(2026, 11, 5, 18, 0, 0);

async function withLimit<T>(limit: number, run: () => Promise<T>): Promise<T> {
  const before = (await getEmailAutomaticSettings(db())).dailyLimit;
  await saveEmailAutomaticLimitStatement(db(), limit, "op@example.com", NOW).run();
  try {
    return await run();
  } finally {
    await saveEmailAutomaticLimitStatement(db(), before, "op@example.com", NOW).run();
  }
}

describe("automatic mail cap", () => {
  it("defaults to 200 a day; the operator's save changes it and a repeat changes no row", async () => {
    expect((await getEmailAutomaticSettings(db())).dailyLimit).toBe(200);
    await withLimit(5, async () => {
      expect(await getEmailAutomaticSettings(db())).toEqual({
        dailyLimit: 5,
        updatedAt: NOW,
        updatedBy: "op@example.com",
      });
      const again = await saveEmailAutomaticLimitStatement(db(), 5, "other@example.com", NOW + 1).run();
      expect(again.meta.changes).toBe(0);
    });
  });

  it("allows up to the limit, refuses the next, and a retried mail is answered the same and never counted twice", async () => {
    const t = await newTenant();
    const a = await newAccount(t.id, "email");
    await withLimit(3, async () => {
      const claim = (id: string, now = NOW) =>
        claimAutomaticMail(db(), { tenantId: t.id, accountId: a.id, providerMessageId: id, now });
      expect(await claim("<1@x>")).toMatchObject({ allowed: true, sent: 1, limit: 3 });
      // The same mail again (Cloudflare redelivers after a temporary failure): same answer, no count.
      expect(await claim("<1@x>", NOW + 5)).toMatchObject({ allowed: true, sent: 1 });
      expect(await claim("<2@x>")).toMatchObject({ allowed: true, sent: 2 });
      expect(await claim("<3@x>")).toMatchObject({ allowed: true, sent: 3 });
      const refused = await claim("<4@x>", NOW + 60_000);
      expect(refused).toEqual({ allowed: false, sent: 3, limit: 3, resetsAt: nextUtcMidnight(NOW) });
      expect(await claim("<4@x>", NOW + 120_000)).toMatchObject({ allowed: false, sent: 3 });
      expect(await automaticMailToday(db(), t.id, NOW + 1000)).toEqual({
        sent: 3,
        limit: 3,
        limitedAt: NOW + 60_000,
        resetsAt: Date.UTC(2026, 11, 6),
      });
      // The next UTC day starts from nothing.
      const tomorrow = Date.UTC(2026, 11, 6, 0, 0, 1);
      expect(await claim("<5@x>", tomorrow)).toMatchObject({ allowed: true, sent: 1 });
    });
  });

  it("concurrent claims of different mails never pass the limit", async () => {
    const t = await newTenant();
    const a = await newAccount(t.id, "email");
    await withLimit(4, async () => {
      const all = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          claimAutomaticMail(db(), {
            tenantId: t.id,
            accountId: a.id,
            providerMessageId: `<c${i}@x>`,
            now: NOW,
          }),
        ),
      );
      expect(all.filter((c) => c.allowed)).toHaveLength(4);
      expect(
        await scalar(
          "SELECT sent FROM email_automatic_days WHERE tenant_id = ? AND day = ?",
          t.id,
          utcDay(NOW),
        ),
      ).toBe(4);
    });
  });

  it("prunes old claims and days", async () => {
    const t = await newTenant();
    const a = await newAccount(t.id, "email");
    const old = NOW - 10 * 24 * 3600_000;
    await claimAutomaticMail(db(), {
      tenantId: t.id,
      accountId: a.id,
      providerMessageId: "<old@x>",
      now: old,
    });
    expect(await pruneAutomaticMail(db(), NOW)).toBeGreaterThanOrEqual(2);
    expect(await scalar("SELECT COUNT(*) FROM email_automatic_claims WHERE tenant_id = ?", t.id)).toBe(0);
  });

  it("reads and writes by key", async () => {
    const t = await newTenant();
    const input = { tenantId: t.id, accountId: "a_x", providerMessageId: "<p@x>", now: NOW };
    expect(await scansOf((d) => automaticMailToday(d, t.id, NOW))).toEqual([]);
    expect(await scansOf((d) => claimAutomaticMail(d, input))).toEqual([]);
    expect(await scansOf((d) => claimForwardSend(d, { ...input, addressId: "f" }))).toEqual([]);
  });
});

describe("forward claims", () => {
  it("the first attempt claims; a retry sees `sending` until it is marked sent, then `sent`", async () => {
    const t = await newTenant();
    const a = await newAccount(t.id, "email");
    const input = {
      tenantId: t.id,
      accountId: a.id,
      providerMessageId: `<${newId("m")}@x>`,
      addressId: "f1",
    };
    expect(await claimForwardSend(db(), { ...input, now: NOW })).toBe("claimed");
    expect(await claimForwardSend(db(), { ...input, now: NOW + 1 })).toBe("sending");
    await markForwardSentStatement(db(), { ...input, now: NOW + 2 }).run();
    expect(await claimForwardSend(db(), { ...input, now: NOW + 3 })).toBe("sent");
    // Another address of the same mail is its own claim.
    expect(await claimForwardSend(db(), { ...input, addressId: "f2", now: NOW })).toBe("claimed");
  });
});
