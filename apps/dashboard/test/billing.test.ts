import { env } from "cloudflare:workers";
import { debitCredit, getTenantSettings, grantCredits, restoreCredit } from "@concierge/storage";
import { describe, expect, it } from "vitest";
import { get, post, signIn } from "./helpers.ts";

const entries = (page: string) => page.match(/<tr data-entry="\d+">/g)?.length ?? 0;

describe("billing", () => {
  it("sends signed-out visitors to sign in", async () => {
    const page = await get(null, "/admin/billing");
    expect(page.status).toBe(303);
    expect(page.headers.get("location")).toBe("/sign-in?next=%2Fadmin%2Fbilling");
    const save = await post(null, "/admin/billing/threshold", { lowBalanceThreshold: 5 });
    expect(save.status).toBe(303);
    expect(save.headers.get("location")).toBe("/sign-in");
  });

  it("shows the balance, the lots and the ledger newest first with localized reasons, and no other tenant's entries", async () => {
    const s = await signIn();
    const other = await signIn();
    const in30Days = Date.now() + 30 * 86_400_000;
    await grantCredits(env.DB, { tenantId: s.tenantId, amount: 100, source: "purchase", reference: "pay_1" });
    await grantCredits(env.DB, {
      tenantId: s.tenantId,
      amount: 10,
      source: "grant",
      reference: "grant_1",
      expiresAt: in30Days,
    });
    await debitCredit(env.DB, s.tenantId, "turn:a");
    await debitCredit(env.DB, s.tenantId, "turn:b");
    await restoreCredit(env.DB, s.tenantId, "turn:b");
    await grantCredits(env.DB, {
      tenantId: other.tenantId,
      amount: 7,
      source: "grant",
      reference: "theirs_1",
    });

    const res = await get(s, "/admin/billing");
    expect(res.status).toBe(200);
    const page = await res.text();
    // 100 bought, 10 granted, the 50 trial credits every new tenant gets, one AI reply spent.
    expect(page).toMatch(/id="balance"[\s\S]*?<p class="stat">159<\/p>/);
    // Lots: the trial (expiring first) is spent first; the purchase never expires.
    const lots = /<table id="lots">([\s\S]*?)<\/table>/.exec(page)![1]!;
    expect(lots).toContain("Purchase");
    expect(lots).toContain("Never");
    expect(lots).toMatch(/Trial credits<\/td>[\s\S]*?<td class="num">50<\/td>\s*<td class="num">49<\/td>/);
    expect(lots).toMatch(/Grant<\/td>[\s\S]*?<td class="num">10<\/td>\s*<td class="num">10<\/td>/);
    // Ledger: newest first, reason in words, signed change, reference.
    const ledger = /<table id="ledger">([\s\S]*?)<\/table>/.exec(page)![1]!;
    const reasons = [...ledger.matchAll(/<tr data-entry="\d+">\s*<td>[^<]*<\/td>\s*<td>([^<]*)<\/td>/g)].map(
      (m) => m[1],
    );
    expect(reasons).toEqual([
      "Credit given back",
      "AI reply",
      "AI reply",
      "Credits granted",
      "Credits bought",
      "Credits granted",
    ]);
    expect(ledger).toContain(">trial<");
    expect(ledger).toContain("restore:turn:b");
    expect(ledger).toContain("+100");
    expect(ledger).toContain("−1");
    expect(ledger).not.toContain("theirs_1");
    expect(page).not.toContain("Older entries");
  });

  it("pages the ledger 50 entries at a time with a cursor (the trial grant is the oldest entry)", async () => {
    const s = await signIn();
    await grantCredits(env.DB, { tenantId: s.tenantId, amount: 100, source: "grant", reference: "g" });
    for (let i = 0; i < 54; i++) await debitCredit(env.DB, s.tenantId, `turn:${i}`);
    const first = await (await get(s, "/admin/billing")).text();
    expect(entries(first)).toBe(50);
    expect(first).toContain("turn:53");
    expect(first).not.toContain(">turn:3<");
    const older = /href="\/admin\/billing\?before=(\d+)#ledger-h">Older entries<\/a>/.exec(first);
    expect(older).not.toBeNull();
    const second = await (await get(s, `/admin/billing?before=${older![1]}`)).text();
    expect(entries(second)).toBe(6);
    expect(second).toContain(">turn:0<");
    expect(second).toContain(">g<");
    expect(second).toContain(">trial<");
    expect(second).toContain("Newest entries");
    expect(second).not.toContain("Older entries");
    // A nonsense cursor is the first page.
    expect(entries(await (await get(s, "/admin/billing?before=abc")).text())).toBe(50);
  });

  it("shows a low balance against the threshold", async () => {
    const s = await signIn();
    // The trial's 50 credits, 30 of them spent: 20 left, the default warning level.
    for (let i = 0; i < 30; i++) await debitCredit(env.DB, s.tenantId, `turn:${i}`);
    const page = await (await get(s, "/admin/billing")).text();
    expect(page).toContain("Low balance");
    expect(page).toContain("at or below your warning level of 20 credits");
  });

  it("saves the low-balance threshold and keeps the other conversation settings", async () => {
    const s = await signIn();
    await post(s, "/admin/conversations", {
      idleGapMinutes: 120,
      handoffCooldownMinutes: 30,
      historyTurns: 12,
      defaultWaitSeconds: 3,
    });
    const page = await (await get(s, "/admin/billing")).text();
    expect(page).toContain('name="lowBalanceThreshold" type="number" value="20"');
    expect(page).toContain("Save threshold");
    const res = await post(s, "/admin/billing/threshold", { lowBalanceThreshold: 250000 });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/admin/billing?saved=1");
    expect(await getTenantSettings(env.DB, s.tenantId)).toMatchObject({
      lowBalanceThreshold: 250000,
      idleGapMinutes: 120,
      handoffCooldownMinutes: 30,
      historyTurns: 12,
      defaultWaitSeconds: 3,
    });
    const after = await (await get(s, "/admin/billing?saved=1")).text();
    expect(after).toContain('value="250000"');
    expect(after).toContain("Saved.");
    expect(await post(s, "/admin/billing/threshold", { lowBalanceThreshold: 0 })).toHaveProperty(
      "status",
      303,
    );
    expect(await getTenantSettings(env.DB, s.tenantId)).toMatchObject({ lowBalanceThreshold: 0 });
  });

  it.each([
    ["-1", "Enter a whole number from 0 to 10,00,000."],
    ["1000001", "Enter a whole number from 0 to 10,00,000."],
    ["2.5", "Enter a whole number."],
    ["lots", "Enter a number."],
    ["", "Enter a number."],
  ])("refuses the threshold %j with a field error and saves nothing", async (value, error) => {
    const s = await signIn();
    const res = await post(s, "/admin/billing/threshold", { lowBalanceThreshold: value });
    expect(res.status).toBe(422);
    const body = await res.text();
    expect(body).toContain(error);
    expect(body).toContain('aria-invalid="true"');
    expect(body).toContain(`name="lowBalanceThreshold" type="number" value="${value}"`);
    expect(body).toContain('id="ledger-h"');
    expect(await getTenantSettings(env.DB, s.tenantId)).toMatchObject({ lowBalanceThreshold: 20 });
  });

  it("refuses a threshold change without the session's CSRF token", async () => {
    const s = await signIn();
    for (const csrf of [false, "forged"] as const) {
      const res = await post(s, "/admin/billing/threshold", { lowBalanceThreshold: 99 }, { csrf });
      expect(res.status).toBe(403);
    }
    expect(await getTenantSettings(env.DB, s.tenantId)).toMatchObject({ lowBalanceThreshold: 20 });
  });
});
