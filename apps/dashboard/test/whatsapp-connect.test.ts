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
import { WIZARD_CHANNELS_STEP } from "../src/wizard-return.ts";
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

/** The code the fake Meta "sent" to the number, as its owner reads it off the phone. */
async function sentCode(phoneNumberId: string): Promise<string> {
  const r = await fetch(`${env.SANDBOX_URL}/__sandbox/whatsapp/code?phone_number_id=${phoneNumberId}`);
  expect(r.status).toBe(200);
  return ((await r.json()) as { code: string }).code;
}

/** The manual path: step one sends a code to the number, step two types it back with a PIN. */
async function connectManually(s: TestSession, phoneNumberId: string, extra: Record<string, string> = {}) {
  const asked = await post(s, "/admin/whatsapp/manual", { phoneNumberId, ...extra });
  expect(asked.status).toBe(200);
  const code = await sentCode(phoneNumberId.trim());
  return post(s, "/admin/whatsapp/manual", {
    step: "code",
    phoneNumberId: phoneNumberId.trim(),
    code,
    pin: "123456",
    ...extra,
  });
}

describe("WhatsApp manual connect", () => {
  it("connects a number Meta knows, with its display number, and the self-test round trip goes green", async () => {
    const s = await signIn();
    const id = await knownNumber("+91 98765 43210");
    const asked = await post(s, "/admin/whatsapp/manual", { phoneNumberId: ` ${id} ` });
    expect(asked.status).toBe(200);
    const form = await asked.text();
    // Step two: the code Meta sent to the number, and the two-step PIN.
    expect(form).toContain("Meta is sending a 6-digit code to +91 98765 43210");
    expect(form).toContain('name="code"');
    expect(form).toContain('autocomplete="one-time-code"');
    expect(await whatsappAccounts(s)).toEqual([]);
    const res = await post(s, "/admin/whatsapp/manual", {
      step: "code",
      phoneNumberId: id,
      code: await sentCode(id),
      pin: "123456",
    });
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
    expect((await connectManually(owner, id)).status).toBe(303);
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
    expect((await connectManually(s, id)).status).toBe(303);
    const again = await post(s, "/admin/whatsapp/manual", { phoneNumberId: id });
    expect(again.status).toBe(303);
    expect(again.headers.get("location")).toMatch(/done=again/);
    const accounts = await whatsappAccounts(s);
    expect(accounts).toHaveLength(1);
    expect(accounts[0]!.selfTestOkAt).toEqual(expect.any(Number));
  });

  it("from the wizard: keeps from=wizard through an error and goes back to the wizard's channels step", async () => {
    const s = await signIn();
    const page = await (await get(s, "/admin/whatsapp/manual?from=wizard")).text();
    expect(page).toContain('<input type="hidden" name="from" value="wizard">');
    const bad = await post(s, "/admin/whatsapp/manual", { phoneNumberId: "12", from: "wizard" });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain('<input type="hidden" name="from" value="wizard">');
    const unknown = await post(s, "/admin/whatsapp/manual", {
      phoneNumberId: uniquePhoneNumberId(),
      from: "wizard",
    });
    expect(unknown.status).toBe(422);
    const id = await knownNumber();
    const res = await connectManually(s, id, { from: "wizard" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toMatch(
      new RegExp(`^${WIZARD_CHANNELS_STEP}\\?done=whatsapp#account-`),
    );
    // Without the flag, the channels page as before.
    const plain = await connectManually(await signIn(), await knownNumber());
    expect(plain.headers.get("location")).toMatch(/^\/admin\/channels\?done=connected/);
  });

  it("refuses the form without the CSRF token", async () => {
    const s = await signIn();
    const id = await knownNumber();
    const res = await post(s, "/admin/whatsapp/manual", { phoneNumberId: id }, { csrf: false });
    expect(res.status).toBe(403);
    expect(await whatsappAccounts(s)).toEqual([]);
  });
});

describe("taking over a released number through the manual form", () => {
  it("a second business cannot claim a removed number without the code sent to it; with the code it can", async () => {
    const [owner, other] = [await signIn(), await signIn()];
    const id = await knownNumber("+91 98765 00017");
    expect((await connectManually(owner, id)).status).toBe(303);
    const [account] = await whatsappAccounts(owner);
    expect((await post(owner, `/admin/channels/${account!.id}/delete`)).status).toBe(303);
    // Released at Meta at once: deregistered.
    const meta = (await (await fetch(`${env.SANDBOX_URL}/__sandbox/whatsapp/onboarding`)).json()) as {
      deregistrations: string[];
    };
    expect(meta.deregistrations).toContain(id);

    // The code step posted straight away, with a guess and no code asked for: nothing claimed.
    const guess = await post(other, "/admin/whatsapp/manual", {
      step: "code",
      phoneNumberId: id,
      code: "123456",
      pin: "123456",
    });
    expect(guess.status).toBe(422);
    expect(await guess.text()).toContain("No code is waiting for this number");
    // Asked for, then a wrong code: the error next to the code field, nothing claimed.
    const asked = await post(other, "/admin/whatsapp/manual", { phoneNumberId: id, codeMethod: "VOICE" });
    expect(asked.status).toBe(200);
    const real = await sentCode(id);
    const wrong = await post(other, "/admin/whatsapp/manual", {
      step: "code",
      phoneNumberId: id,
      code: real === "111111" ? "222222" : "111111",
      pin: "123456",
    });
    expect(wrong.status).toBe(422);
    const wrongPage = await wrong.text();
    expect(wrongPage).toMatch(/id="f-code"[^>]*aria-invalid="true"/);
    expect(wrongPage).toContain('id="f-code-err">That is not the code Meta sent to this number.');
    // The form still works without JavaScript: the hidden id and a way to ask again.
    expect(wrongPage).toContain(`<input type="hidden" name="phoneNumberId" value="${id}">`);
    expect(wrongPage).toContain("Send a new code");
    expect(await whatsappAccounts(other)).toEqual([]);
    // Typing a malformed code is caught before Meta is asked.
    const junk = await post(other, "/admin/whatsapp/manual", {
      step: "code",
      phoneNumberId: id,
      code: "12ab",
      pin: "123456",
    });
    expect(junk.status).toBe(422);
    expect(await junk.text()).toContain("Enter the 6-digit code Meta sent to the number.");

    const ok = await post(other, "/admin/whatsapp/manual", {
      step: "code",
      phoneNumberId: id,
      code: real,
      pin: "123456",
    });
    expect(ok.status).toBe(303);
    expect((await whatsappAccounts(other)).map((a) => a.externalId)).toEqual([id]);
  });

  it("says when a new code was asked for too soon", async () => {
    const s = await signIn();
    const id = await knownNumber();
    expect((await post(s, "/admin/whatsapp/manual", { phoneNumberId: id })).status).toBe(200);
    const again = await post(s, "/admin/whatsapp/manual", { phoneNumberId: id });
    expect(again.status).toBe(429);
    expect(await again.text()).toContain("A code was sent less than a minute ago.");
    const bad = await post(s, "/admin/whatsapp/manual", { phoneNumberId: id, codeMethod: "FAX" });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain("Choose a text message or a voice call.");
  });
});

describe("deleting a channel account", () => {
  it("removes the tenant's own number, after which ingest no longer knows it", async () => {
    const s = await signIn();
    const id = await knownNumber();
    await connectManually(s, id);
    const [account] = await whatsappAccounts(s);
    const page = await (await get(s, "/admin/channels")).text();
    expect(page).toContain("The number is also released at Meta");
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
    await connectManually(owner, id);
    const [account] = await whatsappAccounts(owner);
    expect((await post(attacker, `/admin/channels/${account!.id}/delete`)).status).toBe(404);
    expect((await post(attacker, `/admin/channels/${account!.id}/self-test`)).status).toBe(404);
    expect(await getConnectedAccount(env.DB, owner.tenantId, account!.id)).not.toBeNull();
  });
});

describe("WhatsApp Embedded Signup", () => {
  it("loads the configured SDK (the sandbox's here) with the page's nonce, and widens the CSP for this page only", async () => {
    const s = await signIn({ name: "Sunrise Bakery" });
    const res = await get(s, "/admin/whatsapp/connect");
    expect(res.status).toBe(200);
    const csp = res.headers.get("content-security-policy")!;
    const nonce = /'nonce-([^']+)'/.exec(csp)![1]!;
    const body = await res.text();
    const sandbox = new URL(env.SANDBOX_URL).origin;
    expect(body).toContain(`src="${env.SANDBOX_URL}/facebook/sdk.js" nonce="${nonce}"`);
    // Our script (a static asset) runs first, so window.fbAsyncInit is there when the SDK loads.
    const ours = /<script src="\/assets\/whatsapp-signup\.js\?v=[a-z0-9]+" nonce="([^"]+)"><\/script>/.exec(
      body,
    );
    expect(ours?.[1]).toBe(nonce);
    expect(ours!.index).toBeLessThan(body.indexOf("/facebook/sdk.js"));
    expect(body).toContain('data-config-id="sandbox-embedded-signup-config"');
    // The session info is trusted from the SDK's own origin, where its dialog runs.
    expect(body).toContain(`data-message-origins="${sandbox}"`);
    // Meta's pre-fill of the signup: the business's name.
    expect(body).toContain('data-business-name="Sunrise Bakery"');
    expect(body).toContain("<noscript>");
    expect(body).toContain('href="/admin/whatsapp/manual"');
    expect(body).not.toContain('name="from"');
    expect(csp).toContain(`script-src 'nonce-${nonce}' 'strict-dynamic' ${sandbox}`);
    expect(csp).toContain(`frame-src ${sandbox}`);
    expect(csp).toContain(`connect-src 'self' ${sandbox}`);
    expect(csp).not.toContain("facebook");
    const other = (await get(s, "/admin/channels")).headers.get("content-security-policy")!;
    expect(other).not.toContain(sandbox);
  });

  it("with Meta's SDK, trusts only www/web.facebook.com and allows Meta's hosts in the CSP", async () => {
    const s = await signIn();
    const ctx = createExecutionContext();
    const res = await worker.fetch(
      new Request(`${ORIGIN}/admin/whatsapp/connect`, { headers: { cookie: s.cookie } }),
      {
        ...env,
        FACEBOOK_SDK_URL: "https://connect.facebook.net/en_US/sdk.js",
        META_GRAPH_BASE_URL: "https://graph.facebook.com/v24.0",
      },
      ctx,
    );
    await waitOnExecutionContext(ctx);
    const csp = res.headers.get("content-security-policy")!;
    const body = await res.text();
    expect(body).toContain('src="https://connect.facebook.net/en_US/sdk.js"');
    expect(body).toContain('data-message-origins="https://www.facebook.com https://web.facebook.com"');
    expect(csp).toContain("'strict-dynamic' https://connect.facebook.net");
    expect(csp).toContain("frame-src https://www.facebook.com https://web.facebook.com");
    expect(csp).toContain(
      "connect-src 'self' https://graph.facebook.com https://www.facebook.com https://web.facebook.com",
    );
    expect(csp).toContain("img-src 'self' data: https://www.facebook.com https://web.facebook.com");
  });

  it("falls back to Meta's SDK when FACEBOOK_SDK_URL is not a URL", async () => {
    const s = await signIn();
    const ctx = createExecutionContext();
    const res = await worker.fetch(
      new Request(`${ORIGIN}/admin/whatsapp/connect`, { headers: { cookie: s.cookie } }),
      { ...env, FACEBOOK_SDK_URL: "" },
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(await res.text()).toContain('src="https://connect.facebook.net/en_US/sdk.js"');
  });

  it("plays the whole signup in the sandbox: a fresh number per business, connected and self-tested", async () => {
    const connected: string[] = [];
    for (const name of ["Sunrise Bakery", "Moonlight Salon"]) {
      const s = await signIn({ name });
      const signup = await sandboxSignup(name);
      expect(signup.session).toMatchObject({ type: "WA_EMBEDDED_SIGNUP", event: "FINISH" });
      const res = await post(s, "/admin/whatsapp/connect", {
        code: signup.code!,
        phone_number_id: signup.session.data.phone_number_id,
        waba_id: signup.session.data.waba_id,
        pin: "246810",
      });
      expect(res.status).toBe(303);
      expect(res.headers.get("location")).toMatch(/^\/admin\/channels\?done=connected#account-acc_/);
      const [account] = await whatsappAccounts(s);
      expect(account).toMatchObject({ externalId: signup.session.data.phone_number_id, selfTestError: null });
      expect(account!.displayName).toMatch(/^\+1 555-\d{3}-\d{4}$/);
      expect(account!.selfTestOkAt).toEqual(expect.any(Number));
      connected.push(account!.externalId);
    }
    expect(new Set(connected).size).toBe(2);
  });

  it("from the wizard: carries from=wizard and goes back to the wizard's channels step", async () => {
    const s = await signIn();
    const page = await (await get(s, "/admin/whatsapp/connect?from=wizard")).text();
    expect(page).toContain('<input type="hidden" name="from" value="wizard">');
    expect(page).toContain('href="/admin/whatsapp/manual?from=wizard"');
    const signup = await sandboxSignup("Test business");
    const fields = {
      code: signup.code!,
      phone_number_id: signup.session.data.phone_number_id,
      waba_id: signup.session.data.waba_id,
      from: "wizard",
    };
    // An error stays on the page, still from the wizard.
    const bad = await post(s, "/admin/whatsapp/connect", { ...fields, pin: "12" });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain('<input type="hidden" name="from" value="wizard">');
    const res = await post(s, "/admin/whatsapp/connect", { ...fields, pin: "246810" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toMatch(
      new RegExp(`^${WIZARD_CHANNELS_STEP}\\?done=whatsapp#account-`),
    );
    const [account] = await whatsappAccounts(s);
    expect(account!.selfTestOkAt).toEqual(expect.any(Number));
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

/**
 * Embedded Signup as a person plays it in the sandbox's dialog (the popup the fake SDK opens for
 * the dashboard): Continue for this business, and what the dialog then posts to the dashboard's
 * page: Meta's session info (a JSON string) and the code for FB.login's callback.
 */
async function sandboxSignup(business: string) {
  const res = await fetch(`${env.SANDBOX_URL}/facebook/embedded-signup`, {
    method: "POST",
    body: new URLSearchParams({
      app_id: env.FACEBOOK_APP_ID,
      config_id: env.WHATSAPP_EMBEDDED_SIGNUP_CONFIG_ID,
      origin: ORIGIN,
      business_name: business,
      sandbox_action: "continue",
    }),
  });
  expect(res.status).toBe(200);
  const data = /<script type="application\/json" id="es-result">(.*?)<\/script>/s.exec(await res.text())![1]!;
  const result = JSON.parse(data) as { origin: string; session: string; code: string | null };
  expect(result.origin).toBe(ORIGIN);
  return {
    code: result.code,
    session: JSON.parse(result.session) as {
      type: string;
      event: string;
      data: { phone_number_id: string; waba_id: string };
    },
  };
}

async function onboardingAtMeta() {
  const r = await fetch(`${env.SANDBOX_URL}/__sandbox/whatsapp/onboarding`);
  return (await r.json()) as { subscriptions: string[]; registrations: { phoneNumberId: string }[] };
}

describe("WhatsApp self-test", () => {
  it("shows the reason when meta-webhooks refuses the signature, and goes green when run again", async () => {
    const s = await signIn();
    const id = await knownNumber();
    expect((await post(s, "/admin/whatsapp/manual", { phoneNumberId: id })).status).toBe(200);
    // The dashboard signs with a different app secret than meta-webhooks verifies with.
    const body = new URLSearchParams({
      _csrf: s.csrf,
      step: "code",
      phoneNumberId: id,
      code: await sentCode(id),
      pin: "123456",
    });
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
