import { env } from "cloudflare:workers";
import { SELF_TEST_ID_PREFIX, SELF_TEST_SENDER } from "@concierge/core";
import { getConnectedAccount, startSelfTest } from "@concierge/storage";
import { addGraphPhoneNumber, uniquePhoneNumberId } from "@concierge/testing/sandbox-client";
import { describe, expect, it } from "vitest";
import { inboundText, ingestApi, tenantApi, tenantId } from "./helpers.ts";

function selfTestMessage(phoneNumberId: string, token: string) {
  return {
    ...inboundText(phoneNumberId, SELF_TEST_SENDER, "Concierge self-test"),
    providerMessageId: `${SELF_TEST_ID_PREFIX}${token}`,
  };
}

const token = () => crypto.randomUUID().replaceAll("-", "");

/** The manual path: Meta sends the number a code (read off the fake phone), typed back with a PIN. */
async function connectManually(tenant: string, phoneNumberId: string) {
  const asked = await tenantApi.requestWhatsAppCode(tenant, { phoneNumberId });
  if (!asked.ok) return asked;
  const r = await fetch(`${env.SANDBOX_URL}/__sandbox/whatsapp/code?phone_number_id=${phoneNumberId}`);
  const { code } = (await r.json()) as { code: string };
  return tenantApi.connectWhatsApp(tenant, { phoneNumberId, code, pin: "123456" });
}

describe("connectWhatsApp and disconnectAccount", () => {
  it("connects a number Graph knows with its display number, and refuses unknown and malformed ids", async () => {
    const id = uniquePhoneNumberId();
    await addGraphPhoneNumber(env.SANDBOX_URL, { id, display_phone_number: "+91 90000 00001" });
    const connected = await connectManually(tenantId, id);
    expect(connected).toMatchObject({
      ok: true,
      phoneNumberId: id,
      displayName: "+91 90000 00001",
      created: true,
    });
    const unknown = await tenantApi.requestWhatsAppCode(tenantId, { phoneNumberId: uniquePhoneNumberId() });
    expect(unknown).toMatchObject({ ok: false, error: { code: "unknown_number" } });
    const junk = await tenantApi.connectWhatsApp(tenantId, { phoneNumberId: "12ab" });
    expect(junk).toMatchObject({ ok: false, error: { code: "invalid_phone_number_id" } });
  });

  it("gives a number to one tenant only", async () => {
    const id = uniquePhoneNumberId();
    await addGraphPhoneNumber(env.SANDBOX_URL, { id, display_phone_number: "+91 90000 00002" });
    expect(await connectManually(tenantId, id)).toMatchObject({ ok: true });
    // The same tenant again: a no-op, no code needed.
    expect(await tenantApi.connectWhatsApp(tenantId, { phoneNumberId: id })).toMatchObject({
      ok: true,
      created: false,
    });
    const other = await tenantApi.createTenant({ name: "Other" });
    expect(other.ok).toBe(true);
    const otherId = (other as { tenantId: string }).tenantId;
    expect(await tenantApi.connectWhatsApp(otherId, { phoneNumberId: id })).toMatchObject({
      ok: false,
      error: { code: "account_taken" },
    });
    // No code is sent to a number another business has connected.
    expect(await tenantApi.requestWhatsAppCode(otherId, { phoneNumberId: id })).toMatchObject({
      ok: false,
      error: { code: "account_taken" },
    });
    expect(await tenantApi.disconnectAccount(otherId, "acc_missing")).toMatchObject({
      ok: false,
      error: { code: "not_found" },
    });
  });
});

describe("the self-test message at ingest", () => {
  it("marks the current attempt green, starts no conversation, and ignores a stale token", async () => {
    const id = uniquePhoneNumberId();
    await addGraphPhoneNumber(env.SANDBOX_URL, { id, display_phone_number: "+91 90000 00003" });
    const connected = await connectManually(tenantId, id);
    const accountId = (connected as { accountId: string }).accountId;
    const current = token();
    await startSelfTest(env.DB, tenantId, accountId, current, Date.now());

    const stale = await ingestApi.ingest([selfTestMessage(id, token())]);
    expect(stale).toMatchObject({ ok: true, results: [{ status: "accepted" }] });
    expect(await getConnectedAccount(env.DB, tenantId, accountId)).toMatchObject({ selfTestOkAt: null });

    await ingestApi.ingest([selfTestMessage(id, current)]);
    const after = await getConnectedAccount(env.DB, tenantId, accountId);
    expect(after!.selfTestOkAt).toEqual(expect.any(Number));
    const rows = await env.DB.prepare("SELECT COUNT(*) AS n FROM messages WHERE account_id = ?")
      .bind(accountId)
      .first<{ n: number }>();
    expect(rows!.n).toBe(0);
  });

  it("treats a customer message that only looks like a self-test as a customer message", async () => {
    const id = uniquePhoneNumberId();
    await addGraphPhoneNumber(env.SANDBOX_URL, { id, display_phone_number: "+91 90000 00004" });
    const connected = await connectManually(tenantId, id);
    const accountId = (connected as { accountId: string }).accountId;
    const current = token();
    await startSelfTest(env.DB, tenantId, accountId, current, Date.now());
    // The token in the id, but from a real customer: not the reserved sender.
    await ingestApi.ingest([{ ...selfTestMessage(id, current), customerId: "919811111111" }]);
    expect(await getConnectedAccount(env.DB, tenantId, accountId)).toMatchObject({ selfTestOkAt: null });
  });
});
