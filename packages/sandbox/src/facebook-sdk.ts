import { randomInt } from "node:crypto";
import { readFileSync } from "node:fs";
import type { FakeFacebook, OAuthReply } from "./oauth.ts";
import type { FakeOnboarding, FakePhoneNumbers } from "./phone-numbers.ts";

/**
 * WhatsApp Embedded Signup, played end to end: a fake of Meta's JavaScript SDK (GET
 * /facebook/sdk.js, facebook-sdk.js) and of the signup dialog it opens in a popup (GET and POST
 * /facebook/embedded-signup). Where Meta's dialog has the person pick a business portfolio, a
 * WhatsApp Business Account and a number, this one mints a fresh test number for the business
 * named on the page: a new phone number id, display number (+1 555 …) and WABA id, known from then
 * on to the fake Graph API (lookup, register, subscribed_apps, sends), and a one-time code the
 * dashboard exchanges for a business token like any Embedded Signup code. The dialog then posts
 * Meta's session info message (WA_EMBEDDED_SIGNUP, FINISH or CANCEL, as a JSON string) and the
 * code to the page that opened it, and only ever to the dashboard's origin.
 */

const SDK = readFileSync(new URL("./facebook-sdk.js", import.meta.url), "utf8");
const PATH = "/facebook/embedded-signup";
const DEFAULT_BUSINESS = "Sandbox Business";
const NO_STORE = { "cache-control": "no-store" };

/** One signup the dialog completed, for tests and the sandbox's JSON API. */
export type EmbeddedSignupRecord = {
  phoneNumberId: string;
  displayPhoneNumber: string;
  wabaId: string;
  businessId: string;
  business: string;
  at: number;
};

export type EmbeddedSignupDeps = {
  facebook: FakeFacebook;
  phones: FakePhoneNumbers;
  onboarding: FakeOnboarding;
  /** The Facebook app id the dialog expects (the dashboard's FACEBOOK_APP_ID); null accepts any. */
  appId: string | null;
};

/** Digits from a cryptographic source: ids must not repeat across sandbox restarts (D1 persists). */
const digits = (count: number, lead = "") =>
  lead + Array.from({ length: count - lead.length }, () => randomInt(10)).join("");

export class FakeEmbeddedSignup {
  readonly signups: EmbeddedSignupRecord[] = [];
  /** The sandbox's own origin, the fallback for an SDK that cannot see its script's src. */
  baseUrl = "";
  private readonly deps: EmbeddedSignupDeps;
  /** Where the dialog may post its messages: the dashboard (both loopback names); empty refuses all. */
  private dashboardOrigins = new Set<string>();

  constructor(deps: EmbeddedSignupDeps) {
    this.deps = deps;
  }

  /** The dashboard that loads the SDK. Like Meta's allowed domains: any other opener is refused. */
  setDashboardUrl(url: string): void {
    const u = new URL(url);
    const origins = [u.origin];
    const other = { "127.0.0.1": "localhost", localhost: "127.0.0.1" }[u.hostname];
    if (other) origins.push(`${u.protocol}//${other}${u.port ? `:${u.port}` : ""}`);
    this.dashboardOrigins = new Set(origins);
  }

  /** GET /facebook/sdk.js */
  sdk(): OAuthReply {
    return {
      status: 200,
      body: SDK.replace("__SANDBOX_ORIGIN__", this.baseUrl),
      // The dashboard loads it with crossorigin="anonymous", as Meta's SDK is loaded: without CORS
      // the browser would refuse to run it.
      headers: {
        "content-type": "text/javascript; charset=utf-8",
        "access-control-allow-origin": "*",
        ...NO_STORE,
      },
    };
  }

  /** GET /facebook/embedded-signup: the dialog, or Meta-like error page for a bad request. */
  dialog(params: URLSearchParams): OAuthReply {
    const refused = this.refuse(params);
    if (refused) return refused;
    let business = DEFAULT_BUSINESS;
    try {
      // Meta's pre-fill: extras.setup.business.name.
      const name = (JSON.parse(params.get("extras") ?? "{}") as { setup?: { business?: { name?: unknown } } })
        .setup?.business?.name;
      if (typeof name === "string" && name.trim()) business = name.trim().slice(0, 128);
    } catch {}
    return { status: 200, body: dialogPage(params, business, null), headers: NO_STORE };
  }

  /** POST /facebook/embedded-signup: Continue mints the number; Cancel ends the session. */
  submit(raw: string): OAuthReply {
    const form = new URLSearchParams(raw);
    const refused = this.refuse(form);
    if (refused) return refused;
    const origin = form.get("origin")!;
    if (form.get("sandbox_action") !== "continue") {
      // Meta's message for a flow abandoned at a step; the login callback gets no authResponse.
      const session = {
        data: { current_step: "PHONE_NUMBER_SETUP" },
        type: "WA_EMBEDDED_SIGNUP",
        event: "CANCEL",
      };
      return { status: 200, body: resultPage(origin, session, null, "Sign-up cancelled"), headers: NO_STORE };
    }
    const business = (form.get("business_name") ?? "").trim().slice(0, 128);
    if (!business) {
      return { status: 422, body: dialogPage(form, "", "Enter the business name."), headers: NO_STORE };
    }
    const signup = this.mint(business);
    const code = this.deps.facebook.issueSdkCode(form.get("app_id"), {
      email: "owner@example.com",
      name: business,
    });
    const session = {
      data: { phone_number_id: signup.phoneNumberId, waba_id: signup.wabaId, business_id: signup.businessId },
      type: "WA_EMBEDDED_SIGNUP",
      event: "FINISH",
    };
    return {
      status: 200,
      body: resultPage(origin, session, code, `${signup.displayPhoneNumber} is ready for ${business}`),
      headers: NO_STORE,
    };
  }

  /** A fresh number and WhatsApp Business Account, known to the fake Graph API from now on. */
  mint(business: string): EmbeddedSignupRecord {
    const { phones, onboarding } = this.deps;
    const taken = new Set(phones.list().map((n) => n.display_phone_number));
    let phoneNumberId = digits(15, "1");
    while (phones.has(phoneNumberId)) phoneNumberId = digits(15, "1");
    let displayPhoneNumber = `+1 555-${digits(3)}-${digits(4)}`;
    while (taken.has(displayPhoneNumber)) displayPhoneNumber = `+1 555-${digits(3)}-${digits(4)}`;
    const signup = {
      phoneNumberId,
      displayPhoneNumber,
      wabaId: digits(15, "1"),
      businessId: digits(15, "1"),
      business,
      at: Date.now(),
    };
    phones.add(
      { id: phoneNumberId, display_phone_number: displayPhoneNumber, verified_name: business },
      "embedded_signup",
    );
    onboarding.wabas.add(signup.wabaId);
    this.signups.push(signup);
    return signup;
  }

  /** Meta's error page for an unknown app or a missing config; ours for an opener not allowed. */
  private refuse(params: URLSearchParams): OAuthReply | null {
    const { appId } = this.deps;
    if (!params.get("app_id") || (appId !== null && params.get("app_id") !== appId)) {
      return errorPage("Invalid App ID", "The provided app ID does not look like a valid app ID.");
    }
    if (!params.get("config_id")) {
      return errorPage("Missing configuration", "FB.login needs a config_id for Embedded Signup.");
    }
    if (!this.dashboardOrigins.has(params.get("origin") ?? "")) {
      return errorPage(
        "Domain not allowed",
        "The page that opened this window is not the dashboard the sandbox serves, so nothing is sent to it.",
      );
    }
    return null;
  }
}

// ---- pages: plain HTML, no external resources, fine at 375 px ----

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

function shell(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>
  *{box-sizing:border-box} body{margin:0;font:16px/1.45 system-ui,sans-serif;background:#f0f2f5;color:#1f1f1f}
  main{max-width:460px;margin:6vh auto 24px;padding:28px 24px;background:#fff;border-radius:12px;box-shadow:0 1px 3px #0002}
  .brand{font-weight:600;color:#1877f2;margin:0 0 12px} h1{font-size:22px;font-weight:600;margin:0 0 8px}
  p{margin:0 0 16px;color:#444} label{display:block;font-size:14px;margin:0 0 4px}
  input[type=text]{width:100%;padding:10px;font:inherit;border:1px solid #c4c7c5;border-radius:6px;margin:0 0 16px}
  .row{display:flex;flex-direction:row-reverse;justify-content:flex-start;gap:8px}
  button{padding:10px 20px;font:inherit;font-weight:600;border:0;border-radius:6px;cursor:pointer}
  .primary{background:#1877f2;color:#fff} .secondary{background:#e4e6eb;color:#1f1f1f}
  .err{color:#b3261e} .note{font-size:12px;color:#666;margin:16px 0 0}
</style></head>
<body><main>
<p class="brand">facebook · WhatsApp Embedded Signup · sandbox</p>
${body}
</main></body></html>`;
}

function dialogPage(params: URLSearchParams, business: string, error: string | null): string {
  const hidden = ["app_id", "config_id", "origin"]
    .map((k) => `<input type="hidden" name="${k}" value="${esc(params.get(k) ?? "")}">`)
    .join("");
  // Continue comes first in the form, so Enter in the name field continues (the row shows it last).
  return shell(
    "Connect WhatsApp (sandbox)",
    `<h1>Connect a WhatsApp number</h1>
  <p>The sandbox will create a fresh test number and WhatsApp Business Account for this business and share them with ${esc(hostOf(params.get("origin")))}.</p>
  <form method="post" action="${PATH}">${hidden}
    <label for="es-business">Business name</label>
    <input id="es-business" type="text" name="business_name" value="${esc(business)}" maxlength="128" autocomplete="organization"${error ? ' aria-invalid="true" aria-describedby="es-error"' : ""}>
    ${error ? `<p class="err" id="es-error" role="alert">${esc(error)}</p>` : ""}
    <div class="row">
      <button class="primary" id="es-continue" type="submit" name="sandbox_action" value="continue">Continue</button>
      <button class="secondary" id="es-cancel" type="submit" name="sandbox_action" value="cancel">Cancel</button>
    </div>
  </form>
  <p class="note">Sandbox: nothing leaves this machine. Each signup gets a new number.</p>`,
  );
}

/**
 * The page Continue or Cancel lands on: hands the session info and the code to the page that
 * opened the popup, on the checked dashboard origin only, then closes as Meta's dialog does.
 */
function resultPage(origin: string, session: object, code: string | null, heading: string): string {
  // JSON in a data block; "<" escaped so no value can end the script element.
  const data = JSON.stringify({ origin, session: JSON.stringify(session), code }).replace(/</g, "\\u003c");
  return shell(
    heading,
    `<h1 id="es-done">${esc(heading)}</h1>
  <p>This window closes on its own. If it stays open, close it and go back to the dashboard.</p>
  <script type="application/json" id="es-result">${data}</script>
  <script>
  (() => {
    const r = JSON.parse(document.getElementById("es-result").textContent);
    if (!window.opener) return;
    // Meta's session info message (a JSON string) for the page, then the code for the SDK.
    window.opener.postMessage(r.session, r.origin);
    window.opener.postMessage({ type: "sandbox_fb_login", code: r.code }, r.origin);
    setTimeout(() => window.close(), 100);
  })();
  </script>`,
  );
}

function errorPage(title: string, description: string): OAuthReply {
  return {
    status: 400,
    body: shell(`Error - ${title}`, `<h1>${esc(title)}</h1><p>${esc(description)}</p>`),
    headers: NO_STORE,
  };
}

function hostOf(origin: string | null): string {
  try {
    return new URL(origin ?? "").host;
  } catch {
    return "the app";
  }
}
