import { env } from "cloudflare:workers";
import { personaHash } from "@concierge/prompt";
import {
  createChannelAccount,
  creditBalance,
  getReplyConfig,
  grantCredits,
  recordPersonaVerdict,
  savePersona,
  saveReplyConfig,
} from "@concierge/storage";
import { graphAttempts } from "@concierge/testing/sandbox-client";
import { describe, expect, it } from "vitest";
import { get, post, signIn, type TestSession } from "./helpers.ts";

let phone = 0;
/** A new WhatsApp number of the tenant; with `config`, its reply config is stored directly. */
async function newAccount(s: TestSession, config?: unknown) {
  phone += 1;
  const externalId = `1555${String(Date.now() % 1e7).padStart(7, "0")}${phone}`;
  const account = await createChannelAccount(env.DB, {
    tenantId: s.tenantId,
    channel: "whatsapp",
    externalId,
    displayName: `+1 555 ${phone}`,
  });
  if (config) await saveReplyConfig(env.DB, s.tenantId, account.id, config);
  return { ...account, path: `/admin/rules/whatsapp/${account.id}` };
}

const canned = (text: string) => ({ kind: "canned", text });

const THREE_RULES = {
  enabled: true,
  wait_seconds: 3,
  rules: [
    {
      id: "hours",
      label: "Hours",
      matcher: { kind: "static_text", keywords: ["open", "hours"] },
      response: canned("We open at 9."),
    },
    {
      id: "menu",
      label: "Menu",
      matcher: { kind: "static_text", keywords: ["menu"] },
      response: canned("Menu: chai."),
    },
    {
      id: "wifi",
      label: "Wifi",
      matcher: { kind: "static_text", keywords: ["wifi"] },
      response: canned("Password: tea."),
    },
  ],
  default_rule: { response: canned("Thanks, we'll reply soon.") },
};

async function stored(accountId: string) {
  return (await getReplyConfig(env.DB, accountId))?.config ?? null;
}

/** The hidden version every editing form carries, as the page shows it now. */
async function version(s: TestSession, path: string): Promise<string> {
  const page = await (await get(s, path)).text();
  const m = /name="version" value="([^"]+)"/.exec(page);
  if (!m) throw new Error("no version field on the page");
  return m[1]!;
}

function ruleFields(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    label: "Opening hours",
    id: "",
    matcherKind: "static_text",
    keywords: "open, hours\nclosed",
    description: "",
    threshold: "0.72",
    responseKind: "canned",
    responseText: "We open at 9 every day.",
    approval: "auto",
    ...overrides,
  };
}

/** Every route of the editor for one account, with a valid body for the POSTs. */
function routes(path: string) {
  return {
    gets: [path, `${path}/new-rule`, `${path}/rules/hours`],
    posts: [
      { path: `${path}/settings`, fields: { enabled: "on", waitSeconds: "9" } },
      {
        path: `${path}/default`,
        fields: { responseKind: "canned", responseText: "Changed", approval: "auto" },
      },
      { path: `${path}/rules`, fields: ruleFields({ id: "fresh" }) },
      { path: `${path}/rules/hours`, fields: ruleFields({ id: "hours", label: "Changed" }) },
      { path: `${path}/rules/hours/move`, fields: { direction: "down" } },
      { path: `${path}/rules/hours/delete`, fields: {} },
      { path: `${path}/test`, fields: { text: "are you open?" } },
      { path: `${path}/preview`, fields: { text: "are you open?", previewId: crypto.randomUUID() } },
    ],
  };
}

describe("reply rules: access", () => {
  it("sends signed-out visitors to sign in from every page and every form", async () => {
    const owner = await signIn();
    const acc = await newAccount(owner, THREE_RULES);
    const { gets, posts } = routes(acc.path);
    for (const path of ["/admin/rules", ...gets]) {
      const res = await get(null, path);
      expect(res.status, path).toBe(303);
      expect(res.headers.get("location"), path).toBe(`/sign-in?next=${encodeURIComponent(path)}`);
    }
    for (const p of posts) {
      const res = await post(null, p.path, p.fields);
      expect(res.status, p.path).toBe(303);
      expect(res.headers.get("location"), p.path).toBe("/sign-in");
    }
    expect(await stored(acc.id)).toMatchObject({
      wait_seconds: 3,
      rules: [{ id: "hours" }, { id: "menu" }, { id: "wifi" }],
    });
  });

  it("answers 404 for another tenant's account on every route and changes nothing", async () => {
    const owner = await signIn();
    const acc = await newAccount(owner, THREE_RULES);
    const before = await getReplyConfig(env.DB, acc.id);
    const intruder = await signIn();
    const { gets, posts } = routes(acc.path);
    for (const path of gets) expect((await get(intruder, path)).status, path).toBe(404);
    for (const p of posts) {
      const res = await post(intruder, p.path, { ...p.fields, version: "anything" });
      expect(res.status, p.path).toBe(404);
    }
    expect(await getReplyConfig(env.DB, acc.id)).toEqual(before);
    const list = await (await get(intruder, "/admin/rules")).text();
    expect(list).not.toContain(acc.id);
  });

  it("answers 404 for the demo tenant's account, a missing account, a missing rule and the wrong channel", async () => {
    const s = await signIn();
    const acc = await newAccount(s, THREE_RULES);
    expect((await get(s, "/admin/rules/whatsapp/acc_demo_whatsapp")).status).toBe(404);
    expect((await get(s, "/admin/rules/whatsapp/acc_nope")).status).toBe(404);
    expect((await get(s, `/admin/rules/instagram/${acc.id}`)).status).toBe(404);
    expect((await get(s, `${acc.path}/rules/nope`)).status).toBe(404);
    const v = await version(s, acc.path);
    expect((await post(s, `${acc.path}/rules/nope/delete`, { version: v })).status).toBe(404);
    expect((await post(s, `${acc.path}/rules/nope/move`, { version: v, direction: "up" })).status).toBe(404);
    expect((await stored(acc.id))?.rules).toHaveLength(3);
  });

  it("refuses every form without the session's CSRF token and changes nothing", async () => {
    const s = await signIn();
    const acc = await newAccount(s, THREE_RULES);
    const before = await getReplyConfig(env.DB, acc.id);
    const v = await version(s, acc.path);
    for (const p of routes(acc.path).posts) {
      const fields = { ...p.fields, version: v };
      expect((await post(s, p.path, fields, { csrf: false })).status, p.path).toBe(403);
      expect((await post(s, p.path, fields, { csrf: "forged" })).status, p.path).toBe(403);
    }
    expect(await getReplyConfig(env.DB, acc.id)).toEqual(before);
  });
});

describe("reply rules: the list and the editor", () => {
  it("lists the tenant's accounts with their rule counts and state, linking to each editor", async () => {
    const s = await signIn();
    const on = await newAccount(s, THREE_RULES);
    const off = await newAccount(s, { ...THREE_RULES, enabled: false, rules: [] });
    const bare = await newAccount(s);
    const page = await (await get(s, "/admin/rules")).text();
    expect(page).toContain(`href="${on.path}"`);
    expect(page).toContain(`href="${off.path}"`);
    expect(page).toContain(`href="${bare.path}"`);
    const row = (path: string) => page.slice(page.indexOf(`href="${path}"`)).split("</tr>")[0]!;
    expect(row(on.path)).toContain("On");
    expect(row(on.path)).toMatch(/<td class="num">3<\/td>/);
    expect(row(off.path)).toContain("Paused");
    expect(row(bare.path)).toContain("Not set up");
    expect(page).not.toContain("acc_demo_whatsapp");
  });

  it("shows the rules in order with their matchers, replies and approval, the default reply and the settings", async () => {
    const s = await signIn();
    const acc = await newAccount(s, {
      ...THREE_RULES,
      rules: [
        THREE_RULES.rules[0],
        {
          id: "booking",
          label: "Bookings",
          matcher: { kind: "prompt", description: "The customer wants to book a table", threshold: 0.8 },
          response: { kind: "prompt", text: "Explain how to book." },
          approval: "always",
        },
      ],
    });
    const page = await (await get(s, acc.path)).text();
    expect(page).toContain('id="rule-list"');
    expect(page.indexOf('id="rule-hours"')).toBeLessThan(page.indexOf('id="rule-booking"'));
    expect(page).toContain('<span class="badge">open</span>');
    expect(page).toContain("The customer wants to book a table");
    expect(page).toContain("match at 0.8 or more");
    expect(page).toContain("Explain how to book.");
    expect(page).toContain("Always wait for my approval");
    expect(page).toContain("Thanks, we&#39;ll reply soon.");
    expect(page).toContain('name="waitSeconds" type="number" value="3"');
    expect(page).toMatch(/id="f-enabled" name="enabled" checked/);
    expect(page).toContain('id="test-panel"');
  });

  it("starts an account with no config from the Fluent default reply and the tenant's default wait", async () => {
    const s = await signIn();
    await env.DB.prepare("UPDATE tenants SET default_wait_seconds = 7 WHERE id = ?").bind(s.tenantId).run();
    const acc = await newAccount(s);
    const page = await (await get(s, acc.path)).text();
    expect(page).toContain("Nothing is saved for this account yet");
    expect(page).toContain("Thanks for your message! We&#39;ll get back to you shortly.");
    expect(page).toContain('name="waitSeconds" type="number" value="7"');
    expect(page).toContain('name="version" value="0"');
    // The first change saves the starter with it.
    const res = await post(s, `${acc.path}/rules`, { ...ruleFields(), version: "0" });
    expect(res.status).toBe(303);
    expect(await stored(acc.id)).toMatchObject({
      enabled: true,
      wait_seconds: 7,
      default_rule: {
        response: { kind: "canned", text: "Thanks for your message! We'll get back to you shortly." },
      },
      rules: [{ id: "opening-hours" }],
    });
  });
});

describe("reply rules: changes", () => {
  it("adds a keyword rule with an id made from its label, unique among the rules", async () => {
    const s = await signIn();
    const acc = await newAccount(s, THREE_RULES);
    const res = await post(s, `${acc.path}/rules`, { ...ruleFields(), version: await version(s, acc.path) });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`${acc.path}?saved=1#rule-opening-hours`);
    const again = await post(s, `${acc.path}/rules`, {
      ...ruleFields({ keywords: "timing" }),
      version: await version(s, acc.path),
    });
    expect(again.status).toBe(303);
    const config = await stored(acc.id);
    expect(config?.rules.map((r) => r.id)).toEqual([
      "hours",
      "menu",
      "wifi",
      "opening-hours",
      "opening-hours-2",
    ]);
    expect(config?.rules[3]).toEqual({
      id: "opening-hours",
      label: "Opening hours",
      matcher: { kind: "static_text", keywords: ["open", "hours", "closed"] },
      response: { kind: "canned", text: "We open at 9 every day." },
      approval: "auto",
    });
    const page = await (await get(s, `${acc.path}?saved=1`)).text();
    expect(page).toContain("Saved.");
    expect(page).toContain('id="rule-opening-hours-2"');
  });

  it("adds a hand-off rule (issue 19 item 7): listed as one, and the test panel says what it does", async () => {
    const s = await signIn();
    const acc = await newAccount(s, THREE_RULES);
    const form = await (await get(s, `${acc.path}/new-rule`)).text();
    expect(form).toContain('name="responseKind" value="handoff"');
    expect(form).toContain("Hand off to a person (free)");
    const res = await post(s, `${acc.path}/rules`, {
      ...ruleFields({
        label: "A person",
        keywords: "talk to a person, human",
        responseKind: "handoff",
        responseText: "Someone from our team will reply here shortly.",
      }),
      version: await version(s, acc.path),
    });
    expect(res.status).toBe(303);
    expect((await stored(acc.id))?.rules[3]).toMatchObject({
      id: "a-person",
      response: { kind: "handoff", text: "Someone from our team will reply here shortly." },
    });
    const page = await (await get(s, acc.path)).text();
    expect(page).toContain("<dt>Hand off to a person, saying</dt>");
    const test = await (await post(s, `${acc.path}/test`, { text: "can I talk to a person?" })).text();
    expect(test).toContain("<strong>A person</strong> <code>a-person</code>");
    expect(test).toContain("This conversation would be handed to a person");
    expect(test).toContain("<blockquote>Someone from our team will reply here shortly.</blockquote>");
    // An unknown response kind is refused, keeping what was typed, and nothing is saved.
    const bad = await post(s, `${acc.path}/rules`, {
      ...ruleFields({ label: "Odd", responseKind: "escalate" }),
      version: await version(s, acc.path),
    });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain("Choose a canned reply, an AI reply or a hand-off to a person.");
    expect((await stored(acc.id))?.rules).toHaveLength(4);
  });

  it("adds an intent rule with its own id, embedded once by the pipeline", async () => {
    const s = await signIn();
    const acc = await newAccount(s, THREE_RULES);
    const res = await post(s, `${acc.path}/rules`, {
      ...ruleFields({
        label: "Table bookings",
        id: "booking",
        matcherKind: "prompt",
        keywords: "",
        description: "I want to book a table for dinner",
        threshold: "0.6",
        responseKind: "prompt",
        responseText: "Explain how to book a table.",
        approval: "always",
      }),
      version: await version(s, acc.path),
    });
    expect(res.status).toBe(303);
    const saved = await getReplyConfig(env.DB, acc.id);
    expect(saved?.config.rules[3]).toEqual({
      id: "booking",
      label: "Table bookings",
      matcher: { kind: "prompt", description: "I want to book a table for dinner", threshold: 0.6 },
      response: { kind: "prompt", text: "Explain how to book a table." },
      approval: "always",
    });
    expect(saved?.embeddings.rules.booking?.description).toBe("I want to book a table for dinner");
    expect(saved?.embeddings.rules.booking?.vector.length).toBeGreaterThan(0);
  });

  it("shows the new-rule and edit forms, and saves an edited rule in place", async () => {
    const s = await signIn();
    const acc = await newAccount(s, THREE_RULES);
    const blank = await (await get(s, `${acc.path}/new-rule`)).text();
    expect(blank).toContain('id="rule-form"');
    expect(blank).toContain('name="threshold" type="number" value="0.72"');
    expect(blank).toContain(">Add rule</button>");
    const form = await (await get(s, `${acc.path}/rules/menu`)).text();
    expect(form).toContain('name="label" type="text" value="Menu"');
    expect(form).toContain(">menu</textarea>");
    expect(form).toContain(">Save rule</button>");
    const res = await post(s, `${acc.path}/rules/menu`, {
      ...ruleFields({
        label: "Menu and prices",
        id: "menu",
        keywords: "menu\nprice",
        responseText: "See chai.example.",
      }),
      version: await version(s, acc.path),
    });
    expect(res.status).toBe(303);
    const config = await stored(acc.id);
    expect(config?.rules.map((r) => r.id)).toEqual(["hours", "menu", "wifi"]);
    expect(config?.rules[1]).toMatchObject({
      label: "Menu and prices",
      matcher: { keywords: ["menu", "price"] },
      response: { text: "See chai.example." },
    });
  });

  it("moves rules up and down, storing the new order", async () => {
    const s = await signIn();
    const acc = await newAccount(s, THREE_RULES);
    let res = await post(s, `${acc.path}/rules/wifi/move`, {
      direction: "up",
      version: await version(s, acc.path),
    });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`${acc.path}?saved=1#rule-wifi`);
    expect((await stored(acc.id))?.rules.map((r) => r.id)).toEqual(["hours", "wifi", "menu"]);
    res = await post(s, `${acc.path}/rules/hours/move`, {
      direction: "down",
      version: await version(s, acc.path),
    });
    expect(res.status).toBe(303);
    expect((await stored(acc.id))?.rules.map((r) => r.id)).toEqual(["wifi", "hours", "menu"]);
    // The top rule moving up stays where it is.
    res = await post(s, `${acc.path}/rules/wifi/move`, {
      direction: "up",
      version: await version(s, acc.path),
    });
    expect(res.status).toBe(303);
    expect((await stored(acc.id))?.rules.map((r) => r.id)).toEqual(["wifi", "hours", "menu"]);
    const page = await (await get(s, acc.path)).text();
    expect(page.indexOf('id="rule-wifi"')).toBeLessThan(page.indexOf('id="rule-hours"'));
    const first = page.slice(page.indexOf('id="rule-wifi"'), page.indexOf('id="rule-hours"'));
    expect(first).not.toContain("Move up");
    expect(first).toContain("Move down");
  });

  it("deletes a rule after its confirm step", async () => {
    const s = await signIn();
    const acc = await newAccount(s, THREE_RULES);
    const page = await (await get(s, acc.path)).text();
    expect(page).toContain("Delete the rule “Menu”? This cannot be undone.");
    const res = await post(s, `${acc.path}/rules/menu/delete`, { version: await version(s, acc.path) });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`${acc.path}?deleted=1#rule-list`);
    expect((await stored(acc.id))?.rules.map((r) => r.id)).toEqual(["hours", "wifi"]);
    expect(await (await get(s, `${acc.path}?deleted=1`)).text()).toContain("Rule deleted.");
  });

  it("switches automatic replies off and on and saves the wait", async () => {
    const s = await signIn();
    const acc = await newAccount(s, THREE_RULES);
    let res = await post(s, `${acc.path}/settings`, {
      waitSeconds: "12",
      version: await version(s, acc.path),
    });
    expect(res.status).toBe(303);
    expect(await stored(acc.id)).toMatchObject({ enabled: false, wait_seconds: 12, rules: [{}, {}, {}] });
    const row = await env.DB.prepare("SELECT wait_seconds FROM reply_configs WHERE account_id = ?")
      .bind(acc.id)
      .first<{ wait_seconds: number }>();
    expect(row?.wait_seconds).toBe(12);
    expect(await (await get(s, acc.path)).text()).toContain("Paused");
    res = await post(s, `${acc.path}/settings`, {
      enabled: "on",
      waitSeconds: "0",
      version: await version(s, acc.path),
    });
    expect(res.status).toBe(303);
    expect(await stored(acc.id)).toMatchObject({ enabled: true, wait_seconds: 0 });
  });

  it("saves the default reply, canned or AI with its approval", async () => {
    const s = await signIn();
    const acc = await newAccount(s, THREE_RULES);
    const res = await post(s, `${acc.path}/default`, {
      responseKind: "prompt",
      responseText: "Answer briefly and kindly.",
      approval: "always",
      version: await version(s, acc.path),
    });
    expect(res.status).toBe(303);
    expect((await stored(acc.id))?.default_rule).toEqual({
      id: "default",
      label: "Default",
      response: { kind: "prompt", text: "Answer briefly and kindly." },
      approval: "always",
    });
  });

  it("refuses a change made from a stale page with a clear message and saves nothing", async () => {
    const s = await signIn();
    const acc = await newAccount(s, THREE_RULES);
    const old = await version(s, acc.path);
    expect((await post(s, `${acc.path}/rules/wifi/move`, { direction: "up", version: old })).status).toBe(
      303,
    );
    const afterMove = await getReplyConfig(env.DB, acc.id);
    for (const [path, fields] of [
      [`${acc.path}/rules/menu/delete`, {}],
      [`${acc.path}/rules/menu/move`, { direction: "up" }],
      [`${acc.path}/settings`, { waitSeconds: "1" }],
      [`${acc.path}/rules/menu`, ruleFields({ id: "menu", label: "Stale edit" })],
    ] as const) {
      const res = await post(s, path, { ...fields, version: old });
      expect(res.status, path).toBe(409);
      expect(await res.text(), path).toContain("These rules changed since you opened this page");
    }
    expect(await getReplyConfig(env.DB, acc.id)).toEqual(afterMove);
  });

  it("of two changes sent at once from the same page, exactly one is saved: the version is checked in the save itself (issue 19 item 8)", async () => {
    const s = await signIn();
    const acc = await newAccount(s, THREE_RULES);
    const at = await version(s, acc.path);
    const [a, b] = await Promise.all([
      post(s, `${acc.path}/settings`, { waitSeconds: "1", version: at }),
      post(s, `${acc.path}/settings`, { waitSeconds: "2", version: at }),
    ]);
    expect([a.status, b.status].toSorted()).toEqual([303, 409]);
    expect(await (a.status === 409 ? a : b).text()).toContain(
      "These rules changed since you opened this page",
    );
    expect(await getReplyConfig(env.DB, acc.id)).toMatchObject({
      version: Number(at) + 1,
      config: { wait_seconds: a.status === 303 ? 1 : 2 },
    });
  });
});

describe("reply rules: invalid input", () => {
  async function rejects(fields: Record<string, string>, message: string, path = "rules") {
    const s = await signIn();
    const acc = await newAccount(s, THREE_RULES);
    const before = await getReplyConfig(env.DB, acc.id);
    const res = await post(s, `${acc.path}/${path}`, { ...fields, version: await version(s, acc.path) });
    expect(res.status).toBe(422);
    const body = await res.text();
    expect(body).toContain(message);
    expect(body).toContain('aria-invalid="true"');
    expect(body).toContain("Please fix the fields marked below. Nothing was saved.");
    expect(await getReplyConfig(env.DB, acc.id)).toEqual(before);
    return body;
  }

  it("needs at least one keyword for a keyword rule, keeping what was typed", async () => {
    const body = await rejects(
      ruleFields({ label: "Typed label", keywords: " ,\n , " }),
      "Give at least one keyword.",
    );
    expect(body).toContain('value="Typed label"');
    expect(body).toContain("We open at 9 every day.</textarea>");
  });

  it("needs an intent description and a threshold from 0.5 to 0.95", async () => {
    const body = await rejects(
      ruleFields({ matcherKind: "prompt", keywords: "", description: "", threshold: "0.3" }),
      "Enter a similarity from 0.5 to 0.95.",
    );
    expect(body).toContain("Describe what the customer wants.");
    expect(body).toContain('name="threshold" type="number" value="0.3"');
    await rejects(
      ruleFields({ matcherKind: "prompt", keywords: "", description: "book a table", threshold: "0.99" }),
      "Enter a similarity from 0.5 to 0.95.",
    );
  });

  it("needs a reply text", async () => {
    await rejects(ruleFields({ responseText: "   " }), "Write the reply.");
  });

  it("refuses an id another rule has, or one in the wrong shape", async () => {
    await rejects(ruleFields({ id: "menu" }), "Another rule already has this id.");
    await rejects(ruleFields({ id: "Not An Id!" }), "Use lowercase letters, digits, - and _ only");
  });

  it("refuses an edit taking another rule's id", async () => {
    await rejects(ruleFields({ id: "wifi" }), "Another rule already has this id.", "rules/menu");
  });

  it("refuses a wait outside 0 to 30 seconds and an empty default reply", async () => {
    await rejects({ enabled: "on", waitSeconds: "31" }, "The wait is 0 to 30 seconds.", "settings");
    await rejects({ enabled: "on", waitSeconds: "soon" }, "Enter a number.", "settings");
    await rejects(
      { responseKind: "canned", responseText: "", approval: "auto" },
      "Write the reply.",
      "default",
    );
  });
});

describe("reply rules: the test panel", () => {
  async function tested(s: TestSession, path: string, text: string, headers: Record<string, string> = {}) {
    const res = await post(s, `${path}/test`, { text }, { headers });
    return { status: res.status, body: await res.text() };
  }

  it("shows the canned reply of a keyword match and sends and spends nothing", async () => {
    const s = await signIn();
    const acc = await newAccount(s, THREE_RULES);
    const attempts = await graphAttempts(env.SANDBOX_URL);
    const balance = await creditBalance(env.DB, s.tenantId);
    const { status, body } = await tested(s, acc.path, "What is the WIFI password?");
    expect(status).toBe(200);
    expect(body).toContain('id="test-result"');
    expect(body).toContain("<strong>Wifi</strong> <code>wifi</code>");
    expect(body).toContain("A keyword of this rule appears in the message.");
    expect(body).toContain("<blockquote>Password: tea.</blockquote>");
    expect(body).toContain("What is the WIFI password?</textarea>");
    const fallback = await tested(s, acc.path, "hello");
    expect(fallback.body).toContain("No rule matched, so the default reply answers.");
    expect(fallback.body).toContain("Thanks, we&#39;ll reply soon.");
    expect(await graphAttempts(env.SANDBOX_URL)).toBe(attempts);
    expect(await creditBalance(env.DB, s.tenantId)).toBe(balance);
  });

  it("answers only the result region when app.js asks for a fragment", async () => {
    const s = await signIn();
    const acc = await newAccount(s, THREE_RULES);
    const { status, body } = await tested(s, acc.path, "menu please", { "x-partial": "1" });
    expect(status).toBe(200);
    expect(body.startsWith('<div id="test-result"')).toBe(true);
    expect(body).not.toContain("<html");
    expect(body).toContain("Menu: chai.");
    const empty = await tested(s, acc.path, "  ", { "x-partial": "1" });
    expect(empty.status).toBe(422);
    expect(empty.body).toContain("Type a message to test.");
  });

  /** A signed-in tenant's account with the three keyword rules and a "Bookings" intent rule. */
  async function withBookingIntent(threshold: string) {
    const s = await signIn();
    const acc = await newAccount(s, THREE_RULES);
    await post(s, `${acc.path}/rules`, {
      ...ruleFields({
        label: "Bookings",
        id: "booking",
        matcherKind: "prompt",
        keywords: "",
        description: "I want to book a table for dinner tonight",
        threshold,
        responseText: "Book at chai.example/book.",
      }),
      version: await version(s, acc.path),
    });
    return { s, acc };
  }

  it("shows an intent match with its similarity score", async () => {
    const { s, acc } = await withBookingIntent("0.5");
    const { body } = await tested(s, acc.path, "Can I book a table for dinner tonight?");
    expect(body).toContain("<strong>Bookings</strong> <code>booking</code>");
    expect(body).toMatch(/similarity 0\.\d+; this rule needs 0\.5\)/);
    expect(body).toContain('data-via="embedding"');
    expect(body).toContain("Book at chai.example/book.");
  });

  it("explains a miss: the closest intent, its similarity and the threshold it needs (issue 19 item 10)", async () => {
    const { s, acc } = await withBookingIntent("0.95");
    const { body } = await tested(s, acc.path, "a table for dinner");
    expect(body).toContain('data-via="default"');
    expect(body).toMatch(
      /No rule matched, so the default reply answers\. Closest intent: Bookings \(similarity 0\.\d+; it needs 0\.95\)\./,
    );
    // Keyword rules only: no intent was scored, so there is no closest one to name.
    const plain = await newAccount(s, THREE_RULES);
    const miss = await tested(s, plain.path, "hello");
    expect(miss.body).toContain("No rule matched, so the default reply answers.");
    expect(miss.body).not.toContain("Closest intent");
  });

  it("shows the exact AI envelope and the persona status for an AI rule, without a preview until the persona is approved", async () => {
    const s = await signIn();
    const acc = await newAccount(s, {
      ...THREE_RULES,
      rules: [
        {
          id: "ask",
          label: "Questions",
          matcher: { kind: "static_text", keywords: ["question"] },
          response: { kind: "prompt", text: "Answer the question from the menu only." },
        },
      ],
    });
    const balance = await creditBalance(env.DB, s.tenantId);
    const { body } = await tested(s, acc.path, "I have a question");
    expect(body).toContain("<pre");
    expect(body).toContain("For this message: Answer the question from the menu only.");
    expect(body).toContain("AI replies are paused until you set up a persona");
    expect(body).not.toContain("Preview the AI reply");
    expect(await creditBalance(env.DB, s.tenantId)).toBe(balance);
    // Asked directly anyway, the preview is refused with nothing spent.
    const res = await post(s, `${acc.path}/preview`, {
      text: "I have a question",
      previewId: crypto.randomUUID(),
    });
    expect(await res.text()).toContain("AI replies are paused until your persona passes its safety check.");
    expect(await creditBalance(env.DB, s.tenantId)).toBe(balance);
  });

  it("says so when the account has nothing saved yet", async () => {
    const s = await signIn();
    const acc = await newAccount(s);
    const { body } = await tested(s, acc.path, "hello");
    expect(body).toContain("This account has nothing saved yet.");
  });
});

describe("reply rules: the AI preview", () => {
  async function readyTenant(credits: number) {
    const s = await signIn({ trial: false });
    const persona = { kind: "raw", prompt: "Friendly and brief, for a small tea shop." } as const;
    const hash = await personaHash(persona);
    await savePersona(env.DB, s.tenantId, persona, hash);
    await recordPersonaVerdict(env.DB, s.tenantId, hash, "approved", null);
    if (credits > 0) {
      await grantCredits(env.DB, {
        tenantId: s.tenantId,
        amount: credits,
        source: "grant",
        reference: `test-${crypto.randomUUID()}`,
      });
    }
    const acc = await newAccount(s, {
      ...THREE_RULES,
      rules: [
        ...THREE_RULES.rules,
        {
          id: "ask",
          label: "Questions",
          matcher: { kind: "static_text", keywords: ["question"] },
          response: { kind: "prompt", text: "Answer from the menu only." },
        },
      ],
    });
    return { s, acc };
  }

  function previewIdOf(body: string): string {
    const m = /name="previewId" value="([^"]+)"/.exec(body);
    if (!m) throw new Error("no preview button");
    return m[1]!;
  }

  it("spends exactly one credit per preview, never twice for the same preview id", async () => {
    const { s, acc } = await readyTenant(5);
    const attempts = await graphAttempts(env.SANDBOX_URL);
    const test = await (await post(s, `${acc.path}/test`, { text: "A question about chai" })).text();
    expect(test).toContain("Preview the AI reply (uses 1 credit)");
    expect(test).toContain("You have 5 credits.");
    expect(await creditBalance(env.DB, s.tenantId)).toBe(5);
    const previewId = previewIdOf(test);
    const first = await post(s, `${acc.path}/preview`, { text: "A question about chai", previewId });
    expect(first.status).toBe(200);
    const body = await first.text();
    expect(body).toContain("A customer sending this message would get:");
    expect(body).toContain("[offline AI]");
    expect(body).toContain("Credits left: 4");
    expect(await creditBalance(env.DB, s.tenantId)).toBe(4);
    // A double submit of the same button: no second credit.
    const again = await post(s, `${acc.path}/preview`, { text: "A question about chai", previewId });
    expect(await again.text()).toContain("Credits left: 4");
    expect(await creditBalance(env.DB, s.tenantId)).toBe(4);
    // A new test renders a new button, which is a new preview.
    const next = previewIdOf(
      await (await post(s, `${acc.path}/test`, { text: "A question about chai" })).text(),
    );
    expect(next).not.toBe(previewId);
    const partial = await post(
      s,
      `${acc.path}/preview`,
      { text: "A question about chai", previewId: next },
      { headers: { "x-partial": "1" } },
    );
    const fragment = await partial.text();
    expect(fragment.startsWith('<div id="test-result"')).toBe(true);
    expect(fragment).toContain("Credits left: 3");
    expect(await creditBalance(env.DB, s.tenantId)).toBe(3);
    expect(await graphAttempts(env.SANDBOX_URL)).toBe(attempts);
  });

  it("refuses a preview with no credits or for a canned match, spending nothing", async () => {
    const { s, acc } = await readyTenant(0);
    const res = await post(s, `${acc.path}/preview`, { text: "a question", previewId: crypto.randomUUID() });
    expect(await res.text()).toContain("You have no credits left for an AI preview.");
    const canned = await post(s, `${acc.path}/preview`, { text: "menu?", previewId: crypto.randomUUID() });
    expect(await canned.text()).toContain(
      "This message gets a reply with your own text (canned, or a hand-off), which needs no AI preview.",
    );
    expect(await creditBalance(env.DB, s.tenantId)).toBe(0);
  });
});
