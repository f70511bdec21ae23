import { describe, expect, it } from "vitest";
import {
  claimSilenceAlert,
  getSilenceAlertHours,
  listSilentAccounts,
  releaseSilenceAlert,
  SILENCE_DEFAULT_HOURS,
  saveSilenceAlertHours,
} from "../src/silence.ts";
import { db, newAccount, newTenant, rows } from "./fixtures.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
// Far ahead of every other test's rows.
const NOW = 5_000_000_000_000;

/** Customer messages to the account at these times (ms before NOW). */
async function inbound(tenantId: string, accountId: string, ...agesMs: number[]) {
  for (const age of agesMs) {
    await db()
      .prepare(
        `INSERT INTO messages (tenant_id, account_id, channel, direction, provider_message_id, sender_id, recipient_id, created_at)
         VALUES (?1, ?2, 'whatsapp', 'inbound', ?3, 'c1', 'biz', ?4)`,
      )
      .bind(tenantId, accountId, `sil_${crypto.randomUUID()}`, NOW - age)
      .run();
  }
}

/** Every silent account of these tenants, over all pages of `limit`. */
async function silent(tenants: string[], limit = 2) {
  const found: string[] = [];
  let after = "";
  for (;;) {
    const page = await listSilentAccounts(db(), NOW, after, limit);
    found.push(...page.accounts.filter((a) => tenants.includes(a.tenantId)).map((a) => a.id));
    if (page.next === null) return found.sort();
    after = page.next;
  }
}

describe("quiet channels", () => {
  it("a new tenant alerts after 24 hours; a saved value (0 to 168) is read back, versioned", async () => {
    const t = await newTenant();
    expect(await getSilenceAlertHours(db(), t.id)).toBe(SILENCE_DEFAULT_HOURS);
    expect(await saveSilenceAlertHours(db(), t.id, 6)).toBe("saved");
    expect(await getSilenceAlertHours(db(), t.id)).toBe(6);
    expect(await saveSilenceAlertHours(db(), t.id, 12, 0)).toBe("stale");
    expect(await getSilenceAlertHours(db(), t.id)).toBe(6);
    await expect(saveSilenceAlertHours(db(), t.id, 169)).rejects.toThrow(/CHECK/);
    expect(await saveSilenceAlertHours(db(), "t_none", 6)).toBe("not_found");
  });

  it("finds an account silent past the tenant's hours after daily messages, and only that one", async () => {
    const t = await newTenant();
    const off = await newTenant();
    await saveSilenceAlertHours(db(), off.id, 0);
    const [quiet, busy, sporadic, fresh, disabled, longQuiet] = await Promise.all(
      Array.from({ length: 6 }, () => newAccount(t.id)),
    );
    // Daily once, quiet for three days now: old news, not alerted (nor probed) any more.
    await inbound(t.id, longQuiet!.id, 3 * DAY, 4 * DAY, 5 * DAY, 6 * DAY);
    const offAccount = await newAccount(off.id);
    const daily = [25 * HOUR, 25 * HOUR + DAY, 25 * HOUR + 2 * DAY, 25 * HOUR + 3 * DAY];
    await inbound(t.id, quiet!.id, ...daily);
    await inbound(t.id, offAccount.id, ...daily);
    await inbound(t.id, disabled!.id, ...daily);
    await db()
      .prepare("UPDATE channel_accounts SET status = 'disabled' WHERE id = ?")
      .bind(disabled!.id)
      .run();
    // Still talking: its newest message is an hour old.
    await inbound(t.id, busy!.id, HOUR, ...daily);
    // Silent, but it never got a message every day (a gap the day before its last one).
    await inbound(t.id, sporadic!.id, 25 * HOUR, 25 * HOUR + 2 * DAY, 25 * HOUR + 3 * DAY);
    // Never had a message: nothing to compare with.
    void fresh;
    expect(await silent([t.id, off.id])).toEqual([quiet!.id]);
    // The tenant's own hours: at 30 the same account is not silent yet.
    await saveSilenceAlertHours(db(), t.id, 30);
    expect(await silent([t.id])).toEqual([]);
  });

  it("is claimed once per silence; a newer message starts a new one; a release gives it back", async () => {
    const t = await newTenant();
    const acc = await newAccount(t.id);
    await inbound(t.id, acc.id, 25 * HOUR, 25 * HOUR + DAY, 25 * HOUR + 2 * DAY, 25 * HOUR + 3 * DAY);
    const [a] = (await listSilentAccounts(db(), NOW, "", 10_000)).accounts.filter((x) => x.id === acc.id);
    expect(a).toMatchObject({ tenantId: t.id, hours: 24, lastInboundAt: NOW - 25 * HOUR, alertedAt: null });
    // The hourly run that saw it first claims it, an hour into the silence.
    const at = NOW - 24 * HOUR;
    const claims = await Promise.all([
      claimSilenceAlert(db(), acc.id, a!.lastInboundAt, at),
      claimSilenceAlert(db(), acc.id, a!.lastInboundAt, at),
    ]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await silent([t.id], 10_000)).toEqual([]);
    // The alert could not be delivered: given back, found again.
    await releaseSilenceAlert(db(), acc.id, at, null);
    expect(await silent([t.id], 10_000)).toEqual([acc.id]);
    expect(await claimSilenceAlert(db(), acc.id, a!.lastInboundAt, at)).toBe(true);
    expect(await claimSilenceAlert(db(), acc.id, a!.lastInboundAt, at + HOUR)).toBe(false);
    // A message after the alert, then silence again (12 hours is the tenant's limit now): a new one.
    await saveSilenceAlertHours(db(), t.id, 12);
    await inbound(t.id, acc.id, 23 * HOUR);
    expect(await silent([t.id], 10_000)).toEqual([acc.id]);
    expect(await rows("SELECT silence_alerted_at AS at FROM channel_accounts WHERE id = ?", acc.id)).toEqual([
      { at },
    ]);
  });
});
