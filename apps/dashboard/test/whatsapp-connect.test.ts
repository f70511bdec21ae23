import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { getConnectedAccount, listConnectedAccounts } from "@concierge/storage";
import {
  addGraphPhoneNumber,
  embeddedSignupSession,
  uniquePhoneNumberId,
} from "@concierge/testing/sandbox-client";
import { describe, expect, it } from "vitest";
import worker from "../src/index.ts";
import { ORIGIN, type TestSession, get, post, signIn } from "./helpers.ts";

async function knownNumber(display = "+91 98765 43210"): Promise<string> {
  const id = uniquePhoneNumberId();
  await addGraphPhoneNumber(env.SANDBOX_URL, {
    id,
    display_phone_number: display,
    verified_name: "Chai & Co.",
  });
  return id;
}

async function whatsappAccounts(s: TestSession) {
  return (await listConnectedAccounts(env.DB, s.tenantId)).filter((a) => a.channel === "whatsapp");
}

describe("WhatsApp manual connect", () => {
  it("connects a number Meta knows, with its display number, and the self-test round trip goes green", async () => {
    const s = await signIn();
    const id = await knownNumber("+91 98765 43210");
    const res = await post(s, "/admin/whatsapp/manual", { phoneNumberId: ` ${id} ` });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toMatch(/^\/admin\/channels\?done=connected#account-acc_/);
    const [account] = await whatsappAccounts(s);
    expect(account).toMatchObject({ externalId: id, displayName: "+91 98765 43210", selfTestError: null });
    expect(account!.selfTestOkAt).toEqual(expect.any(Number));
    const page = await (await get(s, "/admin/channels?done=connected")).text();
    expect(page).toContain("+91 98765 43210");
    expect(page).toContain("Round trip completed");
    expect(page).toContain("Connected. The self-test result is shown below.");
    // The self-test started no conversation: no message metadata for the account.
    const rows = await env.DB.prepare("SELECT COUNT(*) AS n FROM messages WHERE account_id = ?")
      .bind(account!.id)
      .first<{ n: number }>();
    expect(rows!.n).toBe(0);
  });

  it("refuses an id Meta does not know with a form error and saves nothing", async () => {
    const s = await signIn();
    const id = uniquePhoneNumberId();
    const res = await post(s, "/admin/whatsapp/manual", { phoneNumberId: id });
    expect(res.status).toBe(422);
    const body = await res.text();
    expect(body).toContain("Meta knows no WhatsApp number with this ID");
    expect(body).toContain(`value="${id}"`);
    expect(body).toContain('aria-invalid="true"');
    expect(await whatsappAccounts(s)).toEqual([]);
  });

  it("answers 422 with field errors for empty and non-digit ids, nothing saved", async () => {
    const s = await signIn();
    const empty = await post(s, "/admin/whatsapp/manual", { phoneNumberId: "  " });
    expect(empty.status).toBe(422);
    expect(await empty.text()).toContain("Enter the phone number ID.");
    const junk = await post(s, "/admin/whatsapp/manual", { phoneNumberId: "+91 98765 43210" });
    expect(junk.status).toBe(422);
    const body = await junk.text();
    expect(body).toContain("A phone number ID is 5 to 32 digits, nothing else.");
    expect(body).toContain('value="+91 98765 43210"');
    expect(await whatsappAccounts(s)).toEqual([]);
  });

  it("refuses a number another business owns with a clear error, and changes neither tenant", async () => {
    const [owner, other] = [await signIn(), await signIn()];
    const id = await knownNumber();
    expect((await post(owner, "/admin/whatsapp/manual", { phoneNumberId: id })).status).toBe(303);
    const before = await whatsappAccounts(owner);
    const res = await post(other, "/admin/whatsapp/manual", { phoneNumberId: id });
    expect(res.status).toBe(409);
    expect(await res.text()).toContain("already connected to another business");
    expect(await whatsappAccounts(other)).toEqual([]);
    expect(await whatsappAccounts(owner)).toEqual(before);
  });

  it("treats the same business connecting the same number again as a no-op", async () => {
    const s = await signIn();
    const id = await knownNumber();
    expect((await post(s, "/admin/whatsapp/manual", { phoneNumberId: id })).status).toBe(303);
    const again = await post(s, "/admin/whatsapp/manual", { phoneNumberId: id });
    expect(again.status).toBe(303);
    expect(again.headers.get("location")).toMatch(/done=again/);
    const accounts = await whatsappAccounts(s);
    expect(accounts).toHaveLength(1);
    expect(accounts[0]!.selfTestOkAt).toEqual(expect.any(Number));
  });

  it("refuses the form without the CSRF token", async () => {
    const s = await signIn();
    const id = await knownNumber();
    const res = await post(s, "/admin/whatsapp/manual", { phoneNumberId: id }, { csrf: false });
    expect(res.status).toBe(403);
    expect(await whatsappAccounts(s)).toEqual([]);
  });
});

describe("deleting a channel account", () => {
  it("removes the tenant's own number, after which ingest no longer knows it", async () => {
    const s = await signIn();
    const id = await knownNumber();
    await post(s, "/admin/whatsapp/manual", { phoneNumberId: id });
    const [account] = await whatsappAccounts(s);
    const page = await (await get(s, "/admin/channels")).text();
    expect(page).toContain(`action="/admin/channels/${account!.id}/delete"`);
    const res = await post(s, `/admin/channels/${account!.id}/delete`);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/admin/channels?done=deleted");
    expect(await whatsappAccounts(s)).toEqual([]);
    const status = await env.PIPELINE_INGEST.ingest([
      {
        channel: "whatsapp",
        accountExternalId: id,
        providerMessageId: `wamid.gone.${id}`,
        customerId: "919800000001",
        sentAt: Date.now(),
        kind: "text",
        text: "hello",
        hasAttachment: false,
      },
    ]);
    expect(status).toMatchObject({ ok: true, results: [{ status: "unknown_account" }] });
  });

  it("answers 404 for another tenant's account and leaves it in place", async () => {
    const [owner, attacker] = [await signIn(), await signIn()];
    const id = await knownNumber();
    await post(owner, "/admin/whatsapp/manual", { phoneNumberId: id });
    const [account] = await whatsappAccounts(owner);
    expect((await post(attacker, `/admin/channels/${account!.id}/delete`)).status).toBe(404);
    expect((await post(attacker, `/admin/channels/${account!.id}/self-test`)).status).toBe(404);
    expect(await getConnectedAccount(env.DB, owner.tenantId, account!.id)).not.toBeNull();
  });
});

describe("WhatsApp Embedded Signup", () => {
  it("serves Meta's SDK with the page's nonce, the config id, and a CSP widened for this page only", async () => {
    const s = await signIn();
    const res = await get(s, "/admin/whatsapp/connect");
    expect(res.status).toBe(200);
    const csp = res.headers.get("content-security-policy")!;
    const nonce = /'nonce-([^']+)'/.exec(csp)![1]!;
    const body = await res.text();
    expect(body).toContain(`src="https://connect.facebook.net/en_US/sdk.js" nonce="${nonce}"`);
    // Our script (a static asset) runs first, so window.fbAsyncInit is there when the SDK loads.
    const ours = /<script src="\/assets\/whatsapp-signup\.js\?v=[a-z0-9]+" nonce="([^"]+)"><\/script>/.exec(
      body,
    );
    expect(ours?.[1]).toBe(nonce);
    expect(ours!.index).toBeLessThan(body.indexOf("connect.facebook.net/en_US/sdk.js"));
    expect(body).toContain('data-config-id="sandbox-embedded-signup-config"');
    expect(body).toContain("<noscript>");
    expect(body).toContain('href="/admin/whatsapp/manual"');
    expect(csp).toContain("script-src 'nonce-");
    expect(csp).toContain("https://connect.facebook.net");
    expect(csp).toContain("frame-src https://www.facebook.com");
    const other = (await get(s, "/admin/channels")).headers.get("content-security-policy")!;
    expect(other).not.toContain("facebook");
  });

  it("exchanges the code server-side, connects the number from the session info and self-tests it", async () => {
    const s = await signIn();
    const id = await knownNumber("+1 631-555-0142");
    const session = await embeddedSignupSession(env.SANDBOX_URL, id);
    const res = await post(s, "/admin/whatsapp/connect", {
      code: session.code,
      phone_number_id: session.data.phone_number_id,
      waba_id: session.data.waba_id,
      pin: "246810",
    });
    expect(res.status).toBe(303);
    const [account] = await whatsappAccounts(s);
    expect(account).toMatchObject({ externalId: id, displayName: "+1 631-555-0142" });
    expect(account!.selfTestOkAt).toEqual(expect.any(Number));
    // Meta's onboarding steps for a Tech Provider: our app subscribed to the customer's account,
    // and the number registered for Cloud API.
    const onboarding = await onboardingAtMeta();
    expect(onboarding.subscriptions).toContain(session.data.waba_id);
    expect(onboarding.registrations).toContainEqual({ phoneNumberId: id });
    const row = await env.DB.prepare("SELECT waba_id AS wabaId FROM channel_accounts WHERE external_id = ?")
      .bind(id)
      .first<{ wabaId: string }>();
    expect(row!.wabaId).toBe(session.data.waba_id);
  });

  it("asks for the two-step verification PIN and connects nothing without it", async () => {
    const s = await signIn();
    const id = await knownNumber();
    const session = await embeddedSignupSession(env.SANDBOX_URL, id);
    const fields = { code: session.code, phone_number_id: id, waba_id: session.data.waba_id };
    for (const pin of ["", "12345", "abcdef"]) {
      const res = await post(s, "/admin/whatsapp/connect", { ...fields, pin });
      expect(res.status).toBe(422);
      expect(await res.text()).toContain("exactly 6 digits");
    }
    expect(await whatsappAccounts(s)).toEqual([]);
  });

  it("explains a PIN that does not match the number's two-step verification, and connects nothing", async () => {
    const s = await signIn();
    const id = await knownNumber();
    await fetch(`${env.SANDBOX_URL}/__sandbox/whatsapp/two-step`, {
      method: "POST",
      body: JSON.stringify({ phone_number_id: id, pin: "111111" }),
    });
    const session = await embeddedSignupSession(env.SANDBOX_URL, id);
    const res = await post(s, "/admin/whatsapp/connect", {
      code: session.code,
      phone_number_id: id,
      waba_id: session.data.waba_id,
      pin: "222222",
    });
    expect(res.status).toBe(422);
    expect(await res.text()).toContain("already has a different two-step verification PIN");
    expect(await whatsappAccounts(s)).toEqual([]);
  });

  it("refuses a forged or missing CSRF token with 403 and connects nothing", async () => {
    const s = await signIn();
    const id = await knownNumber();
    const session = await embeddedSignupSession(env.SANDBOX_URL, id);
    const fields = { code: session.code, phone_number_id: id, waba_id: session.data.waba_id, pin: "246810" };
    expect((await post(s, "/admin/whatsapp/connect", fields, { csrf: false })).status).toBe(403);
    expect((await post(s, "/admin/whatsapp/connect", fields, { csrf: "forged-token" })).status).toBe(403);
    expect(await whatsappAccounts(s)).toEqual([]);
  });

  it("shows a clear error for a code Meta refuses, and for a code used twice", async () => {
    const s = await signIn();
    const id = await knownNumber();
    const bad = await post(s, "/admin/whatsapp/connect", {
      code: "AQnot-a-real-code",
      phone_number_id: id,
      waba_id: "102290129340398",
      pin: "246810",
    });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain("Meta did not accept the sign-up code");
    const session = await embeddedSignupSession(env.SANDBOX_URL, id);
    const fields = { code: session.code, phone_number_id: id, waba_id: session.data.waba_id, pin: "246810" };
    expect((await post(s, "/admin/whatsapp/connect", fields)).status).toBe(303);
    const replay = await post(await signIn(), "/admin/whatsapp/connect", fields);
    expect(replay.status).toBe(422);
    expect(await replay.text()).toContain("Meta did not accept the sign-up code");
  });

  it("answers 422 when the page sends no code or phone number", async () => {
    const s = await signIn();
    const res = await post(s, "/admin/whatsapp/connect", { code: "", phone_number_id: "" });
    expect(res.status).toBe(422);
    expect(await res.text()).toContain("The sign-up did not return a code and a phone number.");
    expect(await whatsappAccounts(s)).toEqual([]);
  });
});

async function onboardingAtMeta() {
  const r = await fetch(`${env.SANDBOX_URL}/__sandbox/whatsapp/onboarding`);
  return (await r.json()) as { subscriptions: string[]; registrations: { phoneNumberId: string }[] };
}

describe("WhatsApp self-test", () => {
  it("shows the reason when meta-webhooks refuses the signature, and goes green when run again", async () => {
    const s = await signIn();
    const id = await knownNumber();
    // The dashboard signs with a different app secret than meta-webhooks verifies with.
    const body = new URLSearchParams({ _csrf: s.csrf, phoneNumberId: id });
    const ctx = createExecutionContext();
    const res = await worker.fetch(
      new Request(`${ORIGIN}/admin/whatsapp/manual`, {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", cookie: s.cookie },
        body,
      }),
      { ...env, META_APP_SECRET: "not-the-app-secret" },
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(303);
    const [account] = await whatsappAccounts(s);
    expect(account).toMatchObject({ selfTestOkAt: null, selfTestError: "signature_refused" });
    const page = await (await get(s, "/admin/channels")).text();
    expect(page).toContain("Not completed");
    expect(page).toContain("Our webhook refused the test message&#39;s signature");

    const again = await post(s, `/admin/channels/${account!.id}/self-test`);
    expect(again.status).toBe(303);
    const after = await getConnectedAccount(env.DB, s.tenantId, account!.id);
    expect(after).toMatchObject({ selfTestError: null });
    expect(after!.selfTestOkAt).toEqual(expect.any(Number));
  });
});
