import vm from "node:vm";
import { TEST_SECRETS } from "@concierge/testing/secrets";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "./server.ts";

// Embedded Signup played by the sandbox: the fake SDK (run here in a bare VM context standing in
// for the dashboard's window), the dialog it opens, the number each Continue mints and the Graph
// calls the dashboard and pipeline then make with it, as Meta would answer them.
const APP_ID = TEST_SECRETS.facebookAppId;
const APP_SECRET = TEST_SECRETS.metaAppSecret;
const PLATFORM_TOKEN = TEST_SECRETS.whatsappToken;
const DASHBOARD = "http://127.0.0.1:8787";

let sb: Sandbox;

beforeAll(async () => {
  sb = await startSandbox({
    appSecret: APP_SECRET,
    facebookAppId: APP_ID,
    graphToken: PLATFORM_TOKEN,
    dashboardUrl: DASHBOARD,
    phoneNumbers: [{ id: "106540352242922", display: "+1 555-078-3881", business: "Demo Cafe" }],
  });
});
afterAll(() => sb.close());

function dialogUrl(overrides: Record<string, string> = {}): string {
  const u = new URL(`${sb.url}/facebook/embedded-signup`);
  const params = {
    app_id: APP_ID,
    config_id: "sandbox-embedded-signup-config",
    response_type: "code",
    extras: JSON.stringify({ setup: { business: { name: "Sunrise Bakery" } }, sessionInfoVersion: "3" }),
    origin: DASHBOARD,
    ...overrides,
  };
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.toString();
}

/** Presses Continue or Cancel in the dialog (its form: the hidden fields and the business name). */
function press(action: "continue" | "cancel", fields: Record<string, string> = {}) {
  return fetch(`${sb.url}/facebook/embedded-signup`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      app_id: APP_ID,
      config_id: "sandbox-embedded-signup-config",
      origin: DASHBOARD,
      business_name: "Sunrise Bakery",
      sandbox_action: action,
      ...fields,
    }),
  });
}

type Posted = { message: unknown; targetOrigin: string };

/** Runs the result page's script against a stand-in opener; what it posted, and whether it closed. */
function runResultPage(html: string): { posted: Posted[]; closed: boolean } {
  const data = /<script type="application\/json" id="es-result">(.*?)<\/script>/s.exec(html)?.[1];
  const code = /<script>\s*([\s\S]*?)<\/script>/.exec(html)?.[1];
  expect(data).toBeDefined();
  const posted: Posted[] = [];
  let closed = false;
  const window = {
    opener: {
      postMessage: (message: unknown, targetOrigin: string) => posted.push({ message, targetOrigin }),
    },
    close: () => {
      closed = true;
    },
  };
  const document = { getElementById: (id: string) => (id === "es-result" ? { textContent: data } : null) };
  vm.runInNewContext(code!, { window, document, JSON, setTimeout: (f: () => void) => f() });
  return { posted, closed };
}

async function finish(fields: Record<string, string> = {}) {
  const res = await press("continue", fields);
  expect(res.status).toBe(200);
  const { posted, closed } = runResultPage(await res.text());
  expect(closed).toBe(true);
  expect(posted.map((p) => p.targetOrigin)).toEqual([DASHBOARD, DASHBOARD]);
  // Meta posts the session info as a JSON string.
  expect(typeof posted[0]!.message).toBe("string");
  const session = JSON.parse(posted[0]!.message as string) as {
    type: string;
    event: string;
    data: { phone_number_id: string; waba_id: string; business_id: string };
  };
  const login = posted[1]!.message as { type: string; code: string | null };
  return { session, login };
}

const graph = (path: string, init: RequestInit = {}) => fetch(`${sb.graphBaseUrl}/${path}`, init);

async function exchange(code: string) {
  const u = new URLSearchParams({ client_id: APP_ID, client_secret: APP_SECRET, code });
  const r = await graph(`oauth/access_token?${u}`);
  return {
    status: r.status,
    body: (await r.json()) as { access_token?: string; error?: { error_subcode?: number } },
  };
}

describe("the fake SDK", () => {
  it("is served as JavaScript, defines FB and calls fbAsyncInit once loaded", async () => {
    const res = await fetch(sb.facebookSdkUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/javascript/);
    // The dashboard's script tag has crossorigin="anonymous", as Meta's snippet does.
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    const page = await loadSdk(await res.text());
    await new Promise((r) => setTimeout(r, 10));
    expect(page.initialised).toBe(1);
    expect(typeof page.window.FB.init).toBe("function");
  });

  it("opens the dialog on the sandbox with the app, config, extras and the page's origin", async () => {
    const page = await loadSdk(await (await fetch(sb.facebookSdkUrl)).text());
    page.window.FB.init({ appId: APP_ID, version: "v24.0" });
    const responses: unknown[] = [];
    page.window.FB.login((r: unknown) => responses.push(r), {
      config_id: "cfg-1",
      response_type: "code",
      override_default_response_type: true,
      extras: { setup: { business: { name: "Sunrise Bakery" } } },
    });
    const opened = new URL(page.opened[0]!.url);
    expect(opened.origin + opened.pathname).toBe(`${sb.url}/facebook/embedded-signup`);
    expect(Object.fromEntries(opened.searchParams)).toMatchObject({
      app_id: APP_ID,
      config_id: "cfg-1",
      response_type: "code",
      origin: DASHBOARD,
    });
    expect(JSON.parse(opened.searchParams.get("extras")!)).toEqual({
      setup: { business: { name: "Sunrise Bakery" } },
    });
    const popup = page.opened[0]!.popup;
    // A message from anywhere but the popup, or from another origin, is not the login's answer.
    page.dispatch({
      origin: "https://evil.example",
      source: popup,
      data: { type: "sandbox_fb_login", code: "x" },
    });
    page.dispatch({ origin: sb.url, source: {}, data: { type: "sandbox_fb_login", code: "x" } });
    expect(responses).toEqual([]);
    page.dispatch({ origin: sb.url, source: popup, data: { type: "sandbox_fb_login", code: "AQcode" } });
    expect(responses).toEqual([
      {
        authResponse: { code: "AQcode", userID: null, expiresIn: null, accessToken: null },
        status: "connected",
      },
    ]);
  });

  it("calls back without authResponse on Cancel, and when the popup is closed", async () => {
    const page = await loadSdk(await (await fetch(sb.facebookSdkUrl)).text());
    page.window.FB.init({ appId: APP_ID });
    const responses: unknown[] = [];
    page.window.FB.login((r: unknown) => responses.push(r), { config_id: "cfg" });
    page.dispatch({
      origin: sb.url,
      source: page.opened[0]!.popup,
      data: { type: "sandbox_fb_login", code: null },
    });
    expect(responses).toEqual([{ authResponse: null, status: "unknown" }]);
    page.window.FB.login((r: unknown) => responses.push(r), { config_id: "cfg" });
    page.opened[1]!.popup.closed = true;
    await new Promise((r) => setTimeout(r, 1700));
    expect(responses).toEqual([
      { authResponse: null, status: "unknown" },
      { authResponse: null, status: "unknown" },
    ]);
  });
});

describe("the Embedded Signup dialog", () => {
  it("shows the business name from Meta's pre-fill, editable, with Continue and Cancel", async () => {
    const res = await fetch(dialogUrl());
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('id="es-business" type="text" name="business_name" value="Sunrise Bakery"');
    expect(html).toContain('id="es-continue"');
    expect(html).toContain('id="es-cancel"');
    expect(html).toContain("fresh test number");
  });

  it("mints a fresh number, WABA and single-use code on each Continue, which Graph then knows", async () => {
    const first = await finish();
    const second = await finish({ business_name: "Moonlight Salon" });
    expect(first.session).toMatchObject({ type: "WA_EMBEDDED_SIGNUP", event: "FINISH" });
    expect(first.session.data.phone_number_id).toMatch(/^\d{15}$/);
    expect(second.session.data.phone_number_id).not.toBe(first.session.data.phone_number_id);
    expect(second.session.data.waba_id).not.toBe(first.session.data.waba_id);
    expect(first.login).toMatchObject({ type: "sandbox_fb_login", code: expect.stringMatching(/^AQ/) });

    // The dashboard's code exchange, once; a second exchange is refused as Meta refuses a used code.
    const token = await exchange(first.login.code!);
    expect(token.status).toBe(200);
    const replay = await exchange(first.login.code!);
    expect(replay.status).toBe(400);
    expect(replay.body.error?.error_subcode).toBe(36009);

    // The pipeline's lookup, subscribe and register with the business token.
    const auth = { authorization: `Bearer ${token.body.access_token}` };
    const id = first.session.data.phone_number_id;
    const lookup = await graph(`${id}?fields=display_phone_number,verified_name`, { headers: auth });
    expect(lookup.status).toBe(200);
    const number = (await lookup.json()) as { display_phone_number: string; verified_name: string };
    expect(number.display_phone_number).toMatch(/^\+1 555-\d{3}-\d{4}$/);
    expect(number.verified_name).toBe("Sunrise Bakery");
    const other = (await (
      await graph(`${second.session.data.phone_number_id}`, { headers: auth })
    ).json()) as {
      display_phone_number: string;
      verified_name: string;
    };
    expect(other.display_phone_number).not.toBe(number.display_phone_number);
    expect(other.verified_name).toBe("Moonlight Salon");
    const subscribed = await graph(`${first.session.data.waba_id}/subscribed_apps`, {
      method: "POST",
      headers: auth,
    });
    expect(subscribed.status).toBe(200);
    const registered = await graph(`${id}/register`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ messaging_product: "whatsapp", pin: "246810" }),
    });
    expect(registered.status).toBe(200);
    // And the pipeline's replies from the new number, with the platform token.
    const sent = await graph(`${id}/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${PLATFORM_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({
        messaging_product: "whatsapp",
        to: "919800000001",
        type: "text",
        text: { body: "Hi" },
      }),
    });
    expect(sent.status).toBe(200);
  });

  it("on Cancel posts Meta's CANCEL session info and no code, and mints nothing", async () => {
    const before = await numbers();
    const res = await press("cancel");
    const { posted } = runResultPage(await res.text());
    expect(JSON.parse(posted[0]!.message as string)).toEqual({
      type: "WA_EMBEDDED_SIGNUP",
      event: "CANCEL",
      data: { current_step: "PHONE_NUMBER_SETUP" },
    });
    expect(posted[1]!.message).toEqual({ type: "sandbox_fb_login", code: null });
    expect(await numbers()).toEqual(before);
  });

  it("refuses an opener that is not the dashboard, and a wrong app id, and mints nothing", async () => {
    const before = await numbers();
    for (const origin of ["https://evil.example", "http://127.0.0.1:9999", ""]) {
      const page = await fetch(dialogUrl({ origin }));
      expect(page.status).toBe(400);
      expect(await page.text()).toContain("Domain not allowed");
      const posted = await press("continue", { origin });
      expect(posted.status).toBe(400);
      expect(await posted.text()).not.toContain("es-result");
    }
    const app = await fetch(dialogUrl({ app_id: "123" }));
    expect(app.status).toBe(400);
    expect(await app.text()).toContain("Invalid App ID");
    expect(await numbers()).toEqual(before);
  });

  it("accepts the dashboard under its other loopback name", async () => {
    const res = await fetch(dialogUrl({ origin: "http://localhost:8787" }));
    expect(res.status).toBe(200);
  });

  it("asks again for an empty business name", async () => {
    const res = await press("continue", { business_name: "  " });
    expect(res.status).toBe(422);
    expect(await res.text()).toContain("Enter the business name.");
  });

  it("refuses every opener while no dashboard is configured", async () => {
    const bare = await startSandbox({ appSecret: APP_SECRET, facebookAppId: APP_ID });
    try {
      const u = new URL(dialogUrl());
      const res = await fetch(`${bare.url}/facebook/embedded-signup${u.search}`);
      expect(res.status).toBe(400);
    } finally {
      await bare.close();
    }
  });
});

describe("the customer page", () => {
  it("lists every number, newest first and chosen, labelled by where it came from", async () => {
    const { session } = await finish({ business_name: "Newest Nails" });
    const list = await numbers();
    expect(list[0]).toMatchObject({
      id: session.data.phone_number_id,
      verified_name: "Newest Nails",
      source: "embedded_signup",
    });
    expect(list.at(-1)).toMatchObject({ id: "106540352242922", source: "configured" });
    const html = await (await fetch(`${sb.url}/`)).text();
    const options = [...html.matchAll(/<option value="(\d+)"( selected)?>([^<]*)<\/option>/g)];
    expect(options.map((o) => o[1])).toEqual(list.map((n) => n.id));
    expect(options[0]![2]).toBe(" selected");
    expect(options[0]![3]).toMatch(/^Newest Nails · \+1 555-\d{3}-\d{4} · new \(Embedded Signup\)$/);
    expect(options.at(-1)![3]).toBe("Demo Cafe · +1 555-078-3881 · demo");
  });
});

async function numbers() {
  const r = await fetch(`${sb.url}/__sandbox/whatsapp/phone-numbers`);
  return ((await r.json()) as { numbers: { id: string; verified_name: string; source: string }[] }).numbers;
}

type Popup = { closed: boolean };
// biome-ignore lint/suspicious/noExplicitAny: the SDK's window.FB, as the page's script sees it.
type SdkWindow = { FB: any; fbAsyncInit: () => void; location: { origin: string } };

/** Runs the SDK as the dashboard's page would load it: what it opened, and a way to post to it. */
async function loadSdk(source: string) {
  const listeners: ((e: unknown) => void)[] = [];
  const opened: { url: string; popup: Popup }[] = [];
  const state = { initialised: 0 };
  const window: SdkWindow & Record<string, unknown> = {
    FB: undefined,
    fbAsyncInit: () => {
      state.initialised += 1;
    },
    location: { origin: DASHBOARD },
    addEventListener: (type: string, fn: (e: unknown) => void) => type === "message" && listeners.push(fn),
    open: (url: URL | string) => {
      const popup = { closed: false };
      opened.push({ url: String(url), popup });
      return popup;
    },
  };
  const document = {
    currentScript: { src: sb.facebookSdkUrl },
    baseURI: `${DASHBOARD}/admin/whatsapp/connect`,
  };
  vm.runInNewContext(source, {
    window,
    document,
    URL,
    URLSearchParams,
    JSON,
    setTimeout,
    setInterval,
    clearInterval,
  });
  return {
    window,
    opened,
    get initialised() {
      return state.initialised;
    },
    dispatch: (event: { origin: string; source: unknown; data: unknown }) => {
      for (const fn of listeners) fn(event);
    },
  };
}
