// Issue 17 item 3: a released WhatsApp number cannot be claimed by another tenant without the
// code Meta sends to the number, and disconnecting releases it at Meta (retried by the cron).
import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import {
  addGraphPhoneNumber,
  embeddedSignupSession,
  uniquePhoneNumberId,
} from "@concierge/testing/sandbox-client";
import { describe, expect, it } from "vitest";
import worker from "../src/index.ts";
import { tenantApi, tenantId } from "./helpers.ts";

type Onboarding = {
  deregistrations: string[];
  unsubscriptions: string[];
  registrations: { phoneNumberId: string }[];
};

async function metaSaw(): Promise<Onboarding> {
  return (await (await fetch(`${env.SANDBOX_URL}/__sandbox/whatsapp/onboarding`)).json()) as Onboarding;
}

/** The code the fake Meta "sent" to the number, as its owner reads it off the phone. */
async function codeSentTo(phoneNumberId: string): Promise<string> {
  const r = await fetch(`${env.SANDBOX_URL}/__sandbox/whatsapp/code?phone_number_id=${phoneNumberId}`);
  expect(r.status).toBe(200);
  return ((await r.json()) as { code: string }).code;
}

async function newNumber(): Promise<string> {
  const id = uniquePhoneNumberId();
  await addGraphPhoneNumber(env.SANDBOX_URL, { id, display_phone_number: `+91 9${id.slice(-9)}` });
  return id;
}

async function newTenant(): Promise<string> {
  const t = await tenantApi.createTenant({ name: "Other business" });
  return (t as { tenantId: string }).tenantId;
}

/** The manual path, as the owner of the phone does it: ask for a code, type it back. */
async function connectWithCode(tenant: string, phoneNumberId: string) {
  expect(await tenantApi.requestWhatsAppCode(tenant, { phoneNumberId })).toMatchObject({ ok: true });
  const code = await codeSentTo(phoneNumberId);
  return tenantApi.connectWhatsApp(tenant, { phoneNumberId, code, pin: "123456" });
}

async function sideEffect(phoneNumberId: string) {
  return env.DB.prepare(
    "SELECT status, attempts, last_error AS lastError FROM side_effects WHERE kind = 'whatsapp_release' AND target LIKE ?",
  )
    .bind(`%"${phoneNumberId}"%`)
    .first<{ status: string; attempts: number; lastError: string | null }>();
}

const ownerOf = (phoneNumberId: string) =>
  env.DB.prepare("SELECT tenant_id AS t FROM channel_accounts WHERE external_id = ?")
    .bind(phoneNumberId)
    .first<{ t: string }>();

describe("taking over a disconnected WhatsApp number", () => {
  it("a second tenant cannot claim it by its id alone, nor with a wrong code; with the code Meta sent it can", async () => {
    const id = await newNumber();
    const first = await connectWithCode(tenantId, id);
    expect(first).toMatchObject({ ok: true, created: true });
    const accountId = (first as { accountId: string }).accountId;
    expect(await tenantApi.disconnectAccount(tenantId, accountId)).toEqual({ ok: true });

    const attacker = await newTenant();
    // Today's manual form: the id alone.
    expect(await tenantApi.connectWhatsApp(attacker, { phoneNumberId: id })).toMatchObject({
      ok: false,
      error: { code: "code_required" },
    });
    // A code nobody asked for, then a wrong one against a live code.
    expect(
      await tenantApi.connectWhatsApp(attacker, { phoneNumberId: id, code: "000000", pin: "123456" }),
    ).toMatchObject({ ok: false, error: { code: "no_code" } });
    expect(await tenantApi.requestWhatsAppCode(attacker, { phoneNumberId: id })).toMatchObject({ ok: true });
    const real = await codeSentTo(id);
    const wrong = real === "111111" ? "222222" : "111111";
    expect(
      await tenantApi.connectWhatsApp(attacker, { phoneNumberId: id, code: wrong, pin: "123456" }),
    ).toMatchObject({ ok: false, error: { code: "wrong_code" } });
    expect(await ownerOf(id)).toBeNull();
    // The first tenant's live code is not this tenant's: a code is bound to who asked for it.
    const bystander = await newTenant();
    expect(
      await tenantApi.connectWhatsApp(bystander, { phoneNumberId: id, code: real, pin: "123456" }),
    ).toMatchObject({ ok: false, error: { code: "no_code" } });
    expect(await ownerOf(id)).toBeNull();

    // Whoever holds the phone types the code: the number is theirs, registered again at Meta.
    const before = (await metaSaw()).registrations.filter((r) => r.phoneNumberId === id).length;
    expect(
      await tenantApi.connectWhatsApp(attacker, { phoneNumberId: id, code: real, pin: "123456" }),
    ).toMatchObject({ ok: true, created: true });
    expect(await ownerOf(id)).toEqual({ t: attacker });
    expect((await metaSaw()).registrations.filter((r) => r.phoneNumberId === id)).toHaveLength(before + 1);
    // Now it is the first tenant that cannot take it back.
    expect(await tenantApi.requestWhatsAppCode(tenantId, { phoneNumberId: id })).toMatchObject({
      ok: false,
      error: { code: "account_taken" },
    });
  });

  it("limits wrong codes and code requests, and refuses malformed input, claiming nothing", async () => {
    const id = await newNumber();
    const tenant = await newTenant();
    expect(await tenantApi.requestWhatsAppCode(tenant, { phoneNumberId: "12ab" })).toMatchObject({
      ok: false,
      error: { code: "invalid_phone_number_id" },
    });
    expect(
      await tenantApi.requestWhatsAppCode(tenant, { phoneNumberId: id, codeMethod: "FAX" as "SMS" }),
    ).toMatchObject({ ok: false, error: { code: "invalid_code_method" } });
    expect(
      await tenantApi.requestWhatsAppCode(tenant, { phoneNumberId: id, codeMethod: "VOICE" }),
    ).toMatchObject({
      ok: true,
    });
    // Asking again at once sends nothing more.
    expect(await tenantApi.requestWhatsAppCode(tenant, { phoneNumberId: id })).toMatchObject({
      ok: false,
      error: { code: "code_too_soon" },
    });
    const real = await codeSentTo(id);
    const wrong = real === "111111" ? "222222" : "111111";
    expect(
      await tenantApi.connectWhatsApp(tenant, { phoneNumberId: id, code: real, pin: "12" }),
    ).toMatchObject({ ok: false, error: { code: "invalid_pin" } });
    const tries = await Promise.all(
      Array.from({ length: 6 }, () =>
        tenantApi.connectWhatsApp(tenant, { phoneNumberId: id, code: wrong, pin: "123456" }),
      ),
    );
    const codes = tries.map((r) => (r as { error: { code: string } }).error.code).sort();
    expect(codes).toEqual(["code_attempts", ...Array(5).fill("wrong_code")]);
    // Even the right code is refused once the attempts are spent.
    expect(
      await tenantApi.connectWhatsApp(tenant, { phoneNumberId: id, code: real, pin: "123456" }),
    ).toMatchObject({ ok: false, error: { code: "code_attempts" } });
    expect(await ownerOf(id)).toBeNull();
  });
});

describe("releasing a number at Meta on disconnect", () => {
  it("a number's code is one at a time across businesses: a second account cannot ask while it is live", async () => {
    const id = await newNumber();
    const [first, second] = [await newTenant(), await newTenant()];
    expect(await tenantApi.requestWhatsAppCode(first, { phoneNumberId: id })).toMatchObject({ ok: true });
    const code = await codeSentTo(id);
    // The second account gets no new code sent (no SMS to the owner) and no guesses at the live one.
    expect(await tenantApi.requestWhatsAppCode(second, { phoneNumberId: id })).toMatchObject({
      ok: false,
      error: { code: "code_busy" },
    });
    expect(await codeSentTo(id)).toBe(code);
    expect(await tenantApi.connectWhatsApp(second, { phoneNumberId: id, code, pin: "123456" })).toMatchObject(
      { ok: false, error: { code: "no_code" } },
    );
    expect(await ownerOf(id)).toBeNull();
    // The first, who asked, connects with it.
    expect(await tenantApi.connectWhatsApp(first, { phoneNumberId: id, code, pin: "123456" })).toMatchObject({
      ok: true,
    });
    expect((await ownerOf(id))?.t).toBe(first);
  });

  it("deregisters the number and unsubscribes our app from its WABA once no connected number uses it", async () => {
    const one = await newNumber();
    const two = await newNumber();
    const waba = `77${String(Date.now()).slice(-9)}`;
    const connectES = async (id: string) => {
      await fetch(`${env.SANDBOX_URL}/__sandbox/whatsapp/embedded-signup`, {
        method: "POST",
        body: JSON.stringify({ phone_number_id: id, waba_id: waba }),
      });
      const session = await embeddedSignupSession(env.SANDBOX_URL, id);
      // The dashboard exchanges the code for the business token; here the token Graph issues.
      const r = await fetch(
        `${env.SANDBOX_URL}/graph/v24.0/oauth/access_token?client_id=${env.FACEBOOK_APP_ID}&client_secret=${env.META_APP_SECRET}&code=${session.code}`,
      );
      const { access_token } = (await r.json()) as { access_token: string };
      const connected = await tenantApi.connectWhatsApp(tenantId, {
        phoneNumberId: id,
        accessToken: access_token,
        wabaId: waba,
        pin: "123456",
      });
      expect(connected).toMatchObject({ ok: true, created: true });
      return (connected as { accountId: string }).accountId;
    };
    const a = await connectES(one);
    const b = await connectES(two);

    expect(await tenantApi.disconnectAccount(tenantId, a)).toEqual({ ok: true });
    let meta = await metaSaw();
    expect(meta.deregistrations).toContain(one);
    // The other number still needs the WABA's webhooks.
    expect(meta.unsubscriptions).not.toContain(waba);
    expect(await sideEffect(one)).toMatchObject({ status: "done" });

    expect(await tenantApi.disconnectAccount(tenantId, b)).toEqual({ ok: true });
    meta = await metaSaw();
    expect(meta.deregistrations).toContain(two);
    expect(meta.unsubscriptions.filter((w) => w === waba)).toHaveLength(1);
    expect(await sideEffect(two)).toMatchObject({ status: "done" });
  });

  it("a 5xx at Meta leaves the release pending, and the cron's run completes it", async () => {
    const id = await newNumber();
    const connected = await connectWithCode(tenantId, id);
    const accountId = (connected as { accountId: string }).accountId;
    await fetch(`${env.SANDBOX_URL}/__sandbox/whatsapp/release-faults`, {
      method: "POST",
      body: JSON.stringify({ target: "deregister", status: 503, code: 131000 }),
    });
    expect(await tenantApi.disconnectAccount(tenantId, accountId)).toEqual({ ok: true });
    // Disconnected from us at once; the release waits for the retry.
    expect(await ownerOf(id)).toBeNull();
    expect(await sideEffect(id)).toMatchObject({
      status: "pending",
      attempts: 1,
      lastError: "http_503_graph_131000",
    });
    expect((await metaSaw()).deregistrations).not.toContain(id);

    await worker.scheduled(
      createScheduledController({ cron: "*/15 * * * *", scheduledTime: Date.now() + 16 * 60_000 }),
      env,
    );
    expect(await sideEffect(id)).toMatchObject({ status: "done" });
    expect((await metaSaw()).deregistrations.filter((n) => n === id)).toHaveLength(1);
  });

  it("a release retried after the number was connected again leaves the new connection alone", async () => {
    const id = await newNumber();
    const first = await connectWithCode(tenantId, id);
    await fetch(`${env.SANDBOX_URL}/__sandbox/whatsapp/release-faults`, {
      method: "POST",
      body: JSON.stringify({ target: "deregister", status: 500 }),
    });
    await tenantApi.disconnectAccount(tenantId, (first as { accountId: string }).accountId);
    expect(await sideEffect(id)).toMatchObject({ status: "pending" });
    // Its owner connects it again (with a new code) before the cron's retry.
    await env.DB.prepare("UPDATE whatsapp_verifications SET requested_at = 0 WHERE phone_number_id = ?")
      .bind(id)
      .run();
    expect(await connectWithCode(tenantId, id)).toMatchObject({ ok: true, created: true });
    await worker.scheduled(
      createScheduledController({ cron: "*/15 * * * *", scheduledTime: Date.now() + 16 * 60_000 }),
      env,
    );
    expect(await sideEffect(id)).toMatchObject({ status: "done" });
    expect((await metaSaw()).deregistrations).not.toContain(id);
  });
});
