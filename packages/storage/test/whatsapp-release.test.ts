import { describe, expect, it } from "vitest";
import {
  WHATSAPP_CODE_ATTEMPTS,
  WHATSAPP_CODE_COOLDOWN_MS,
  WHATSAPP_CODE_REQUESTS_PER_DAY,
  WHATSAPP_CODE_TTL_MS,
  cancelWhatsAppCodeRequest,
  deleteTenantRows,
  deleteWhatsAppAccount,
  finishWhatsAppVerification,
  listWhatsAppReleaseTargets,
  setWhatsAppBusinessAccount,
  startWhatsAppVerification,
  takeWhatsAppCodeAttempt,
  whatsappReleaseState,
} from "../src/index.ts";
import { db, newAccount, newTenant, rows } from "./fixtures.ts";

const NOW = 1_800_000_000_000;
const pn = () => `10${Math.floor(Math.random() * 1e12)}`;

describe("WhatsApp proof of control: pending verifications", () => {
  it("counts attempts per code atomically, bound to the tenant that asked, and expires", async () => {
    const a = (await newTenant()).id;
    const b = (await newTenant()).id;
    const id = pn();
    expect(await takeWhatsAppCodeAttempt(db(), a, id, NOW)).toBe("none");
    expect(await startWhatsAppVerification(db(), { tenantId: a, phoneNumberId: id, now: NOW })).toEqual({
      ok: true,
    });
    // Another tenant has no code for this number.
    expect(await takeWhatsAppCodeAttempt(db(), b, id, NOW)).toBe("none");
    const tries = await Promise.all(
      Array.from({ length: WHATSAPP_CODE_ATTEMPTS + 2 }, () => takeWhatsAppCodeAttempt(db(), a, id, NOW)),
    );
    expect(tries.filter((t) => t === "ok")).toHaveLength(WHATSAPP_CODE_ATTEMPTS);
    expect(tries.filter((t) => t === "exhausted")).toHaveLength(2);
    // Past the code's life: nothing to try against.
    expect(await takeWhatsAppCodeAttempt(db(), a, id, NOW + WHATSAPP_CODE_TTL_MS)).toBe("none");
    // A new code (after the cooldown) starts the attempts again; the right code ends it.
    const later = NOW + WHATSAPP_CODE_COOLDOWN_MS;
    expect(await startWhatsAppVerification(db(), { tenantId: a, phoneNumberId: id, now: later })).toEqual({
      ok: true,
    });
    expect(await takeWhatsAppCodeAttempt(db(), a, id, later)).toBe("ok");
    await finishWhatsAppVerification(db(), a, id);
    expect(await takeWhatsAppCodeAttempt(db(), a, id, later)).toBe("none");
    expect(await rows("SELECT * FROM whatsapp_verifications WHERE phone_number_id = ?", id)).toEqual([]);
  });

  it("refuses a code request within the cooldown and past the daily cap, then allows it a day later", async () => {
    const t = (await newTenant()).id;
    const id = pn();
    const start = (now: number) => startWhatsAppVerification(db(), { tenantId: t, phoneNumberId: id, now });
    expect(await start(NOW)).toEqual({ ok: true });
    expect(await start(NOW + 1000)).toEqual({
      ok: false,
      reason: "too_soon",
      retryAt: NOW + WHATSAPP_CODE_COOLDOWN_MS,
    });
    let now = NOW;
    for (let i = 1; i < WHATSAPP_CODE_REQUESTS_PER_DAY; i++) {
      now += WHATSAPP_CODE_COOLDOWN_MS;
      expect(await start(now)).toEqual({ ok: true });
    }
    now += WHATSAPP_CODE_COOLDOWN_MS;
    expect(await start(now)).toMatchObject({ ok: false, reason: "too_many", retryAt: NOW + 86_400_000 });
    expect(await start(NOW + 86_400_000)).toEqual({ ok: true });
  });

  it("caps a number's codes across tenants: one live code at a time, five a day in all", async () => {
    const id = pn();
    const tenants = await Promise.all(Array.from({ length: 7 }, async () => (await newTenant()).id));
    const start = (t: string, now: number) =>
      startWhatsAppVerification(db(), { tenantId: t, phoneNumberId: id, now });
    expect(await start(tenants[0]!, NOW)).toEqual({ ok: true });
    // Another account cannot ask while that code is live (nor guess against it).
    expect(await start(tenants[1]!, NOW + 1000)).toEqual({
      ok: false,
      reason: "busy",
      retryAt: NOW + WHATSAPP_CODE_TTL_MS,
    });
    expect(await takeWhatsAppCodeAttempt(db(), tenants[1]!, id, NOW + 1000)).toBe("none");
    // Each code expired in turn, new accounts ask: the number's fifth code is the last of the day.
    let now = NOW;
    for (let i = 1; i < WHATSAPP_CODE_REQUESTS_PER_DAY; i++) {
      now += WHATSAPP_CODE_TTL_MS;
      expect(await start(tenants[i]!, now)).toEqual({ ok: true });
    }
    now += WHATSAPP_CODE_TTL_MS;
    expect(await start(tenants[5]!, now)).toMatchObject({
      ok: false,
      reason: "too_many",
      retryAt: NOW + 86_400_000,
    });
    expect(await start(tenants[0]!, now)).toMatchObject({ ok: false, reason: "too_many" });
    expect(
      await rows("SELECT tenant_id FROM whatsapp_verifications WHERE tenant_id = ?", tenants[5]!),
    ).toEqual([]);
    // Deleting the accounts that asked gives the number no fresh day.
    for (const t of tenants.slice(0, 5)) await deleteTenantRows(db(), t);
    expect(await start(tenants[5]!, now + 1)).toMatchObject({ ok: false, reason: "too_many" });
    // Racing requests from two new accounts at the same moment: at most one gets a code.
    const later = NOW + 86_400_000;
    const raced = await Promise.all([start(tenants[5]!, later), start(tenants[6]!, later)]);
    expect(raced.filter((r) => r.ok)).toHaveLength(1);
  });

  it("takes back a request Meta refused: it counts for nothing and keeps nobody waiting", async () => {
    const id = pn();
    const [a, b] = [(await newTenant()).id, (await newTenant()).id];
    const start = (t: string, now: number) =>
      startWhatsAppVerification(db(), { tenantId: t, phoneNumberId: id, now });
    for (let i = 0; i < WHATSAPP_CODE_REQUESTS_PER_DAY + 2; i++) {
      const now = NOW + i * WHATSAPP_CODE_COOLDOWN_MS;
      expect(await start(a, now), `request ${i + 1}`).toEqual({ ok: true });
      await cancelWhatsAppCodeRequest(db(), { tenantId: a, phoneNumberId: id, requestedAt: now });
      expect(await takeWhatsAppCodeAttempt(db(), a, id, now)).toBe("none");
    }
    // Another account is not kept waiting for a code that was never sent.
    expect(await start(b, NOW + 10 * WHATSAPP_CODE_COOLDOWN_MS)).toEqual({ ok: true });
    // Taking back an older request leaves the live one alone.
    await cancelWhatsAppCodeRequest(db(), { tenantId: b, phoneNumberId: id, requestedAt: NOW });
    expect(await takeWhatsAppCodeAttempt(db(), b, id, NOW + 10 * WHATSAPP_CODE_COOLDOWN_MS)).toBe("ok");
  });
});

describe("WhatsApp release on disconnect", () => {
  it("deletes the account and records its release in one batch; not another tenant's, not twice", async () => {
    const t = (await newTenant()).id;
    const other = (await newTenant()).id;
    const acc = await newAccount(t, "whatsapp");
    await setWhatsAppBusinessAccount(db(), acc.id, "555000111");
    expect(await listWhatsAppReleaseTargets(db(), t)).toEqual([
      { phoneNumberId: acc.externalId, wabaId: "555000111" },
    ]);
    expect(await deleteWhatsAppAccount(db(), other, acc.id, NOW)).toBeNull();
    expect(await rows("SELECT id FROM side_effects WHERE tenant_id = ?", other)).toEqual([]);
    const gone = await deleteWhatsAppAccount(db(), t, acc.id, NOW);
    expect(gone).toEqual({
      channel: "whatsapp",
      externalId: acc.externalId,
      release: { phoneNumberId: acc.externalId, wabaId: "555000111" },
    });
    expect(await rows("SELECT id FROM channel_accounts WHERE id = ?", acc.id)).toEqual([]);
    expect(await rows("SELECT kind, status, target FROM side_effects WHERE tenant_id = ?", t)).toEqual([
      {
        kind: "whatsapp_release",
        status: "pending",
        target: JSON.stringify({ phoneNumberId: acc.externalId, wabaId: "555000111" }),
      },
    ]);
    expect(await deleteWhatsAppAccount(db(), t, acc.id, NOW)).toBeNull();
    // An Instagram account is not a WhatsApp number: nothing deleted, nothing recorded.
    const ig = await newAccount(t, "instagram");
    expect(await deleteWhatsAppAccount(db(), t, ig.id, NOW)).toBeNull();
    expect(await rows("SELECT id FROM channel_accounts WHERE id = ?", ig.id)).toHaveLength(1);
  });

  it("knows whether a number is connected (a deleting tenant's disabled accounts are not) and its WABA's numbers", async () => {
    const t = (await newTenant()).id;
    const waba = `9${Math.floor(Math.random() * 1e9)}`;
    const one = await newAccount(t, "whatsapp");
    const two = await newAccount(t, "whatsapp");
    await setWhatsAppBusinessAccount(db(), one.id, waba);
    await setWhatsAppBusinessAccount(db(), two.id, waba);
    expect(await whatsappReleaseState(db(), one.externalId, waba)).toEqual({
      numberConnected: true,
      wabaNumbers: 2,
    });
    await db().prepare("UPDATE channel_accounts SET status = 'disabled' WHERE id = ?").bind(one.id).run();
    expect(await whatsappReleaseState(db(), one.externalId, waba)).toEqual({
      numberConnected: false,
      wabaNumbers: 1,
    });
    expect(await whatsappReleaseState(db(), pn(), null)).toEqual({ numberConnected: false, wabaNumbers: 0 });
  });
});
