// Wizard steps 4 (replies) and 5 (launch) through HTTP: the starter rules proposed for a kind of
// business, saved into every connected account's reply config with the persona, tried with the
// test form, refused whole on bad input; and the launch's switches, summary and one-time mark.
import { env } from "cloudflare:workers";
import type { BusinessKind } from "@concierge/core";
import { type Persona, personaHash } from "@concierge/prompt";
import type { ReplyConfig } from "@concierge/rules";
import {
  createChannelAccount,
  getPersona,
  getReplyConfig,
  recordPersonaVerdict,
  savePersona,
  saveReplyConfig,
} from "@concierge/storage";
import { describe, expect, it } from "vitest";
import { app, expireTrial, get, post, signIn, type TestSession } from "./helpers.ts";

const REPLIES = "/dashboard/wizard/replies";
const LAUNCH = "/dashboard/wizard/launch";

/** A new tenant that has completed steps 1–3 as a business of `kind`. */
async function atStep(step: number, kind: BusinessKind = "cafe", name = "Chai Point"): Promise<TestSession> {
  const s = await signIn({ name });
  await env.DB.prepare(
    "UPDATE tenants SET name = ?, business_kind = ?, wizard_step = ?, launched_at = NULL WHERE id = ?",
  )
    .bind(name, kind, step, s.tenantId)
    .run();
  return s;
}

let n = 0;
async function connect(s: TestSession, channel: "whatsapp" | "instagram" = "whatsapp", config?: unknown) {
  n += 1;
  const account = await createChannelAccount(env.DB, {
    tenantId: s.tenantId,
    channel,
    externalId: `${channel === "whatsapp" ? "1666" : "1777"}${String(Date.now() % 1e7).padStart(7, "0")}${n}`,
    displayName: channel === "whatsapp" ? `+1 666 ${n}` : `shop${n}`,
  });
  if (config) await saveReplyConfig(env.DB, s.tenantId, account.id, config);
  return account;
}

const stored = async (accountId: string) => (await getReplyConfig(env.DB, accountId))?.config ?? null;

async function tenantRow(s: TestSession) {
  return env.DB.prepare("SELECT wizard_step AS step, launched_at AS launchedAt FROM tenants WHERE id = ?")
    .bind(s.tenantId)
    .first<{ step: number; launchedAt: number | null }>();
}

function unescapeHtml(s: string): string {
  return s
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&");
}

/**
 * The fields of the step's main form as the browser would send them untouched: text inputs,
 * textareas, checked checkboxes and radios (CSRF added by `post`).
 */
function formFields(page: string, action: string): Record<string, string> {
  const start = page.indexOf(`action="${action}"`);
  if (start < 0) throw new Error(`no form posting to ${action}`);
  const form = page.slice(start, page.indexOf("</form>", start));
  const fields: Record<string, string> = {};
  for (const m of form.matchAll(/<input ([^>]*)>/g)) {
    const attrs = m[1]!;
    const name = /name="([^"]+)"/.exec(attrs)?.[1];
    if (!name || name === "_csrf") continue;
    const type = /type="([^"]+)"/.exec(attrs)?.[1] ?? "text";
    const value = unescapeHtml(/value="([^"]*)"/.exec(attrs)?.[1] ?? "on");
    if ((type === "checkbox" || type === "radio") && !/\bchecked\b/.test(attrs)) continue;
    fields[name] = value;
  }
  for (const m of form.matchAll(/<textarea [^>]*name="([^"]+)"[^>]*>([\s\S]*?)<\/textarea>/g)) {
    fields[m[1]!] = unescapeHtml(m[2]!);
  }
  return fields;
}

async function proposed(s: TestSession): Promise<Record<string, string>> {
  const res = await get(s, REPLIES);
  expect(res.status).toBe(200);
  return formFields(await res.text(), REPLIES);
}

const CLINIC_PROMPT =
  "You are the front desk of an appointment-based business. Be calm, courteous and precise. Help customers find a suitable slot, explain how to book or reschedule, and never give medical, legal or financial advice.";

const HOURS = "9 am to 9 pm, every day";
const ADDRESS = "12 MG Road, Pune";

describe("wizard step 4: replies", () => {
  it("proposes the starter rules of the tenant's kind of business, each editable", async () => {
    const cafe = await atStep(3, "cafe");
    await connect(cafe);
    const page = await (await get(cafe, REPLIES)).text();
    expect(page).toContain("Step 4 of 5");
    for (const label of ["Opening hours", "Location", "Menu", "Table booking", "Prices"]) {
      expect(page).toContain(`<legend>${label}</legend>`);
    }
    expect(page).not.toContain("<legend>Appointments</legend>");
    const fields = formFields(page, REPLIES);
    expect(fields).toMatchObject({
      use_hours: "on",
      keywords_hours: "hours, timing, open, close",
      reply_hours: "We're open {hours}. See you soon at {name}!",
      reply_location: "You'll find {name} at {address}.",
      aiDefault: "on",
      // The approved catalog archetype for a café, not the builder's voices.
      archetype: "cafe-host",
    });
    expect(fields.voice).toBeUndefined();
    for (const name of ["Café host", "Clinic front desk", "Shop assistant", "Concise support"]) {
      expect(page).toContain(name);
    }
    expect(page).toContain("Warm and quick, for cafés, bakeries and restaurants.");
    // The persona has not been saved yet.
    expect(page).toContain("No persona yet");

    const salon = await atStep(3, "salon");
    await connect(salon);
    const salonPage = await (await get(salon, REPLIES)).text();
    expect(salonPage).toContain("<legend>Appointments</legend>");
    expect(salonPage).toContain("<legend>Services</legend>");
    expect(salonPage).not.toContain("<legend>Menu</legend>");
    expect(formFields(salonPage, REPLIES).archetype).toBe("clinic-desk");
    const shop = await atStep(3, "shop");
    expect(formFields(await (await get(shop, REPLIES)).text(), REPLIES).archetype).toBe("shop-assistant");
    // No archetype for this kind: the first of the catalog.
    const other = await atStep(3, "services");
    expect(formFields(await (await get(other, REPLIES)).text(), REPLIES).archetype).toBe("cafe-host");
  });

  it("saves the persona (pending its check) and the starters into every connected account", async () => {
    const s = await atStep(3, "cafe");
    const whatsapp = await connect(s);
    // An account with rules of its own keeps them (even one labelled like a starter), its default
    // and its switch; the starters are added under their own ids.
    const own: ReplyConfig = {
      enabled: true,
      wait_seconds: 2,
      rules: [
        {
          id: "wifi",
          label: "Wifi",
          matcher: { kind: "static_text", keywords: ["wifi"] },
          response: { kind: "canned", text: "Password: tea." },
          approval: "auto",
        },
        {
          id: "hours",
          label: "Opening hours",
          matcher: { kind: "static_text", keywords: ["when"] },
          response: { kind: "canned", text: "Always." },
          approval: "auto",
        },
      ],
      default_rule: {
        id: "default",
        label: "Default",
        response: { kind: "canned", text: "Later!" },
        approval: "auto",
      },
    };
    const instagram = await connect(s, "instagram", own);

    const fields = await proposed(s);
    delete fields.use_prices; // unticked: not saved
    const res = await post(s, REPLIES, {
      ...fields,
      archetype: "clinic-desk",
      hours: HOURS,
      address: ADDRESS,
      goal: "Book a table",
      goalUrl: "https://chai.example/book",
      handoffConditions: "A group of more than 10\n\nA complaint about an order",
      keywords_menu: "menu, specials",
    });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(LAUNCH);
    expect((await tenantRow(s))?.step).toBe(4);

    const persona = await getPersona(env.DB, s.tenantId);
    const expected: Persona = {
      kind: "builder",
      voice: "friendly",
      // The catalog's prompt, copied by the pipeline.
      archetype: { id: "clinic-desk", prompt: CLINIC_PROMPT },
      businessName: "Chai Point",
      businessType: "café",
      city: ADDRESS,
      hours: HOURS,
      goal: "Book a table",
      goalUrl: "https://chai.example/book",
      catchPhrases: [],
      offTopics: [],
      never: [],
      handoffConditions: ["A group of more than 10", "A complaint about an order"],
    };
    expect(persona?.persona).toEqual(expected);
    expect(persona?.hash).toBe(await personaHash(expected));
    // Queued for the safety check; the test pipeline's classifier may already have answered.
    expect(["pending", "approved"]).toContain(persona?.status);

    const wa = await stored(whatsapp.id);
    // Switched off until the launch (step 5) switches it on.
    expect(wa?.enabled).toBe(false);
    expect(wa?.rules.map((r) => r.label)).toEqual(["Opening hours", "Location", "Menu", "Table booking"]);
    expect(wa?.rules[0]).toEqual({
      id: "starter-hours",
      label: "Opening hours",
      matcher: { kind: "static_text", keywords: ["hours", "timing", "open", "close"] },
      response: { kind: "canned", text: `We're open ${HOURS}. See you soon at Chai Point!` },
      approval: "auto",
    });
    expect(wa?.rules[1]?.response).toEqual({ kind: "canned", text: `You'll find Chai Point at ${ADDRESS}.` });
    expect(wa?.rules[2]?.matcher).toEqual({ kind: "static_text", keywords: ["menu", "specials"] });
    expect(wa?.default_rule.response.kind).toBe("prompt");

    const ig = await stored(instagram.id);
    expect(ig?.enabled).toBe(true);
    expect(ig?.wait_seconds).toBe(2);
    expect(ig?.default_rule).toEqual(own.default_rule);
    expect(ig?.rules.map((r) => [r.id, r.label])).toEqual([
      ["wifi", "Wifi"],
      ["hours", "Opening hours"],
      ["starter-hours", "Opening hours"],
      ["starter-location", "Location"],
      ["starter-menu", "Menu"],
      ["starter-table", "Table booking"],
    ]);
    expect(ig?.rules[1]?.response).toEqual({ kind: "canned", text: "Always." });

    // Back on step 4, the page shows the saved answers and the persona's status.
    const again = await (await get(s, REPLIES)).text();
    expect(formFields(again, REPLIES)).toMatchObject({
      archetype: "clinic-desk",
      hours: HOURS,
      address: ADDRESS,
    });
    expect(again).toContain('id="persona-status"');
  });

  it("gives a new config the canned default when the AI is not to answer the rest", async () => {
    const s = await atStep(3, "shop");
    const account = await connect(s);
    const fields = await proposed(s);
    delete fields.aiDefault;
    const res = await post(s, REPLIES, { ...fields, hours: HOURS, address: ADDRESS });
    expect(res.status).toBe(303);
    const config = await stored(account.id);
    expect(config?.default_rule.response).toEqual({
      kind: "canned",
      text: "Thanks for your message! We'll get back to you soon.",
    });
    expect(config?.rules.map((r) => r.label)).toEqual([
      "Opening hours",
      "Location",
      "Delivery",
      "Returns",
      "Prices",
    ]);
  });

  it("shows which starter answers a test message, sending and marking nothing", async () => {
    const s = await atStep(3, "cafe");
    const account = await connect(s);
    const fields = await proposed(s);
    expect((await post(s, REPLIES, { ...fields, hours: HOURS, address: ADDRESS })).status).toBe(303);
    const before = await stored(account.id);

    const typed = formFields(await (await get(s, REPLIES)).text(), REPLIES);
    const res = await post(s, `${REPLIES}/test`, { ...typed, text: "Hi, what are your hours?" });
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toContain("Answered by: Opening hours");
    expect(page).toContain(`<blockquote>We&#39;re open ${HOURS}. See you soon at Chai Point!</blockquote>`);
    expect(page).toContain("Nothing was sent.");
    // The form keeps what was typed.
    expect(page).toContain('value="Hi, what are your hours?"');

    const miss = await (await post(s, `${REPLIES}/test`, { ...typed, text: "do you sell bicycles" })).text();
    expect(miss).toContain("No ready-made reply matches: the default reply answers.");

    const empty = await post(s, `${REPLIES}/test`, { ...typed, text: "   " });
    expect(empty.status).toBe(422);
    expect(await empty.text()).toMatch(/id="f-text"[^>]*aria-invalid="true"/);

    expect(await stored(account.id)).toEqual(before);
    expect((await tenantRow(s))?.step).toBe(4);
    const sent = await env.DB.prepare("SELECT COUNT(*) AS n FROM messages WHERE tenant_id = ?")
      .bind(s.tenantId)
      .first<{ n: number }>();
    expect(sent?.n).toBe(0);
  });

  it("shows the saved starters on a second visit and saves edits over them", async () => {
    const s = await atStep(3, "cafe");
    const whatsapp = await connect(s);
    const first = await proposed(s);
    const res = await post(s, REPLIES, {
      ...first,
      hours: HOURS,
      address: ADDRESS,
      keywords_hours: "hours, timing",
      reply_hours: "Open {hours}.",
    });
    expect(res.status).toBe(303);

    // Back on step 4: the starters as saved (placeholders filled), not the proposals again.
    const again = await proposed(s);
    expect(again).toMatchObject({
      use_hours: "on",
      keywords_hours: "hours, timing",
      reply_hours: `Open ${HOURS}.`,
    });
    expect(again.reply_location).toBe(`You'll find Chai Point at ${ADDRESS}.`);

    // A tenant's own rule added meanwhile stays as it is, where it is.
    const mid = await stored(whatsapp.id);
    const own = {
      id: "wifi",
      label: "Wifi",
      matcher: { kind: "static_text" as const, keywords: ["wifi"] },
      response: { kind: "canned" as const, text: "Password: tea." },
      approval: "auto" as const,
    };
    await saveReplyConfig(env.DB, s.tenantId, whatsapp.id, { ...mid, rules: [own, ...(mid?.rules ?? [])] });

    // Saving again replaces the starter rules with what was typed, and an unticked one goes.
    const second: Record<string, string> = {
      ...again,
      keywords_hours: "when, timings",
      reply_hours: "Every day, 8 to 8.",
    };
    delete second.use_prices;
    expect((await post(s, REPLIES, second)).status).toBe(303);
    const after = await stored(whatsapp.id);
    expect(after?.rules.map((r) => r.id)).toEqual([
      "wifi",
      "starter-hours",
      "starter-location",
      "starter-menu",
      "starter-table",
    ]);
    expect(after?.rules[0]).toEqual(own);
    expect(after?.rules[1]).toMatchObject({
      matcher: { kind: "static_text", keywords: ["when", "timings"] },
      response: { kind: "canned", text: "Every day, 8 to 8." },
    });
    // The third visit shows the edit, and the starter taken out unticked.
    const third = await proposed(s);
    expect(third.reply_hours).toBe("Every day, 8 to 8.");
    expect(third.use_prices).toBeUndefined();
    expect(third.keywords_prices).toBeTruthy();
  });

  it("tests the starters as typed before anything is saved, keeping what was typed", async () => {
    const s = await atStep(3, "cafe");
    const account = await connect(s);
    const fields = await proposed(s);
    const page = await (await get(s, REPLIES)).text();
    // Test is a second button of the step's own form.
    expect(page).toMatch(/<button[^>]*formaction="\/dashboard\/wizard\/replies\/test#wizard-test"/);
    const res = await post(s, `${REPLIES}/test`, {
      ...fields,
      hours: HOURS,
      address: ADDRESS,
      goal: "Book a table",
      keywords_hours: "hours, timing, kab",
      reply_hours: "Come by {hours}!",
      text: "kab khulega?",
    });
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(body).toContain("Answered by: Opening hours");
    expect(body).toContain(`<blockquote>Come by ${HOURS}!</blockquote>`);
    // Everything typed is kept.
    const kept = formFields(body, REPLIES);
    expect(kept).toMatchObject({
      hours: HOURS,
      goal: "Book a table",
      keywords_hours: "hours, timing, kab",
      reply_hours: "Come by {hours}!",
      text: "kab khulega?",
    });
    // The default answers what no starter matches.
    const miss = await (await post(s, `${REPLIES}/test`, { ...kept, text: "bicycles?" })).text();
    expect(miss).toContain("No ready-made reply matches: the default reply answers.");
    // A broken starter is shown next to its field, and nothing is tested.
    const bad = await post(s, `${REPLIES}/test`, { ...kept, keywords_menu: " , " });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain('id="f-keywords_menu-err"');
    // Nothing saved.
    expect(await stored(account.id)).toBeNull();
    expect(await getPersona(env.DB, s.tenantId)).toBeNull();
    expect((await tenantRow(s))?.step).toBe(3);
  });

  it("refuses bad input with errors next to the fields and saves nothing", async () => {
    const s = await atStep(3, "cafe");
    const whatsapp = await connect(s);
    const own = {
      rules: [],
      default_rule: { response: { kind: "canned", text: "Later!" } },
    };
    const instagram = await connect(s, "instagram", own);
    const igBefore = await stored(instagram.id);
    const fields = await proposed(s);
    const cases: { change: Record<string, string>; field: string; message: string }[] = [
      { change: { keywords_menu: " , " }, field: "keywords_menu", message: "Give at least one keyword" },
      { change: { reply_table: "   " }, field: "reply_table", message: "Write the reply" },
      // The hours reply names {hours}, and no hours were given.
      { change: { hours: "" }, field: "reply_hours", message: "This reply mentions the opening hours" },
      { change: { address: "" }, field: "reply_location", message: "This reply mentions the address" },
      { change: { goalUrl: "javascript:alert(1)" }, field: "goalUrl", message: "Give a full web address" },
      {
        change: { handoffConditions: "a\nb\nc\nd\ne\nf" },
        field: "handoffConditions",
        message: "At most 5 situations",
      },
      {
        change: { archetype: "no-such-archetype" },
        field: "archetype",
        message: "Choose one of the voices listed",
      },
    ];
    for (const { change, field, message } of cases) {
      const res = await post(s, REPLIES, { ...fields, hours: HOURS, address: ADDRESS, ...change });
      expect(res.status, field).toBe(422);
      const page = await res.text();
      expect(page, field).toContain(`id="f-${field}-err"`);
      expect(page, field).toContain(message);
      // What was typed is shown again.
      if (change.goalUrl) expect(page).toContain('value="javascript:alert(1)"');
    }
    // An unticked starter is not checked at all.
    const unticked: Record<string, string> = {
      ...fields,
      hours: HOURS,
      address: ADDRESS,
      keywords_prices: "",
    };
    delete unticked.use_prices;
    expect(await getPersona(env.DB, s.tenantId)).toBeNull();
    expect(await stored(whatsapp.id)).toBeNull();
    expect(await stored(instagram.id)).toEqual(igBefore);
    expect((await tenantRow(s))?.step).toBe(3);
    expect((await post(s, REPLIES, unticked)).status).toBe(303);
  });

  it("saves only the persona when no channel is connected, and says rules need one", async () => {
    const s = await atStep(3, "clinic");
    const page = await (await get(s, REPLIES)).text();
    expect(page).toContain("Ready-made replies need a connected channel.");
    expect(page).not.toContain('name="use_hours"');
    expect(page).not.toContain(`action="${REPLIES}/test`);
    const res = await post(s, REPLIES, formFields(page, REPLIES));
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(LAUNCH);
    expect((await getPersona(env.DB, s.tenantId))?.persona).toMatchObject({
      kind: "builder",
      businessType: "clinic",
      archetype: { id: "clinic-desk", prompt: CLINIC_PROMPT },
    });
  });

  it("refuses a retired archetype or one whose new version is not approved, next to the field", async () => {
    const s = await atStep(3, "cafe");
    const stamp = Date.now();
    const retired = `cafe-old-${stamp}`;
    const pending = `cafe-new-${stamp}`;
    await env.DB.batch([
      env.DB.prepare(
        "INSERT INTO archetypes (id, name, description, prompt, status) VALUES (?, 'Old café', 'Gone', 'Be old.', 'retired')",
      ).bind(retired),
      env.DB.prepare(
        "INSERT INTO archetypes (id, name, description, prompt, safety_status) VALUES (?, 'New café', 'Waiting', 'Be new.', 'pending')",
      ).bind(pending),
    ]);
    const page = await (await get(s, REPLIES)).text();
    expect(page).not.toContain("Old café");
    expect(page).not.toContain("New café");
    const fields = formFields(page, REPLIES);
    for (const archetype of [retired, pending]) {
      const res = await post(s, REPLIES, { ...fields, archetype });
      expect(res.status).toBe(422);
      const body = await res.text();
      expect(body).toContain('id="f-archetype-err"');
      expect(body).toContain("Choose one of the voices listed");
    }
    expect(await getPersona(env.DB, s.tenantId)).toBeNull();
    expect((await tenantRow(s))?.step).toBe(3);
  });

  it("preselects the saved archetype when the step is visited again", async () => {
    const s = await atStep(3, "cafe");
    const fields = await proposed(s);
    expect(fields.archetype).toBe("cafe-host");
    expect((await post(s, REPLIES, { ...fields, archetype: "concise-support" })).status).toBe(303);
    expect((await proposed(s)).archetype).toBe("concise-support");
  });

  it("offers the builder's voices when the catalog has no approved archetype", async () => {
    const offered = await env.DB.prepare(
      "SELECT id FROM archetypes WHERE status = 'active' AND safety_status = 'approved'",
    ).all<{ id: string }>();
    const ids = offered.results.map((r) => r.id);
    const mark = (status: string) =>
      env.DB.batch(
        ids.map((id) =>
          env.DB.prepare("UPDATE archetypes SET safety_status = ? WHERE id = ?").bind(status, id),
        ),
      );
    await mark("pending");
    try {
      const s = await atStep(3, "clinic");
      const page = await (await get(s, REPLIES)).text();
      const fields = formFields(page, REPLIES);
      expect(fields.voice).toBe("friendly");
      expect(fields.archetype).toBeUndefined();
      expect(page).toContain('id="voice-professional"');
      const bad = await post(s, REPLIES, { ...fields, voice: "sarcastic" });
      expect(bad.status).toBe(422);
      expect(await bad.text()).toContain("Choose a voice.");
      expect((await post(s, REPLIES, { ...fields, voice: "professional" })).status).toBe(303);
      const saved = (await getPersona(env.DB, s.tenantId))?.persona;
      expect(saved).toMatchObject({ kind: "builder", voice: "professional" });
      expect(saved && "archetype" in saved).toBe(false);
    } finally {
      await mark("approved");
    }
  });
});

/** A tenant on step 5 with a WhatsApp and an Instagram account set up through step 4. */
async function readyToLaunch() {
  const s = await atStep(3, "cafe");
  const whatsapp = await connect(s);
  const instagram = await connect(s, "instagram");
  const fields = await proposed(s);
  expect((await post(s, REPLIES, { ...fields, hours: HOURS, address: ADDRESS })).status).toBe(303);
  return { s, whatsapp, instagram };
}

describe("wizard step 5: launch", () => {
  it("shows the balance, a switch per account and what the next message gets", async () => {
    const { s, whatsapp, instagram } = await readyToLaunch();
    const res = await get(s, LAUNCH);
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toContain("Step 5 of 5");
    expect(page).toContain("50 credits");
    expect(page).toContain('href="/admin/billing"');
    for (const a of [whatsapp, instagram]) {
      expect(page).toContain(`name="on" value="${a.id}" checked`);
    }
    expect(page).toContain("Answered at once, for free, by these ready-made replies:");
    expect(page).toContain("<li>Opening hours</li>");
    expect(page).toContain("<li>Prices</li>");
    // The persona's check may not have answered yet: then the page says AI replies wait.
    expect(page).toMatch(
      /Any other message (gets an AI reply, for one credit\.|would get an AI reply, but for now it gets none:)/,
    );
  });

  it("says honestly when AI replies are paused: persona pending, approved, no credits", async () => {
    const s = await atStep(4, "cafe");
    const account = await connect(s, "whatsapp", {
      enabled: false,
      rules: [
        {
          id: "starter-hours",
          label: "Opening hours",
          matcher: { kind: "static_text", keywords: ["hours"] },
          response: { kind: "canned", text: "9 to 9." },
        },
      ],
      default_rule: { response: { kind: "prompt", text: "Answer briefly." } },
    });
    // Stored without queueing the check, so it stays pending for as long as the test needs.
    const persona: Persona = {
      kind: "builder",
      voice: "friendly",
      businessName: "Chai Point",
      businessType: "café",
      catchPhrases: [],
      offTopics: [],
      never: [],
      handoffConditions: [],
    };
    const hash = await personaHash(persona);
    await savePersona(env.DB, s.tenantId, persona, hash);
    const pending = await (await get(s, LAUNCH)).text();
    expect(pending).toContain(`id="summary-${account.id}"`);
    expect(pending).toContain("AI replies are paused until the safety check approves");

    await recordPersonaVerdict(env.DB, s.tenantId, hash, "approved", null);
    const approved = await (await get(s, LAUNCH)).text();
    expect(approved).toContain("Any other message gets an AI reply, for one credit.");
    expect(approved).not.toContain("AI replies are paused");

    await expireTrial(s.tenantId);
    const broke = await (await get(s, LAUNCH)).text();
    expect(broke).toContain("0 credits");
    expect(broke).toContain("AI replies are stopped: there are no credits left.");

    // A canned default costs nothing, so nothing about it is paused.
    await saveReplyConfig(env.DB, s.tenantId, account.id, {
      rules: [],
      default_rule: { response: { kind: "canned", text: "We'll be in touch." } },
    });
    const canned = await (await get(s, LAUNCH)).text();
    expect(canned).toContain("Any other message gets this reply, for free:");
    expect(canned).toContain("<blockquote>We&#39;ll be in touch.</blockquote>");
    expect(canned).not.toMatch(/AI replies are (paused|stopped|off)/);

    // Suspended: nothing at all is sent, and no line says otherwise (the overview's words).
    await saveReplyConfig(env.DB, s.tenantId, account.id, {
      rules: [],
      default_rule: { response: { kind: "prompt", text: "Answer briefly." } },
    });
    await env.DB.prepare("UPDATE tenants SET status = 'suspended', suspended_reason = 'unpaid' WHERE id = ?")
      .bind(s.tenantId)
      .run();
    const suspended = await (await get(s, LAUNCH)).text();
    expect(suspended).toContain("The account is suspended: no replies of any kind are sent, AI or canned.");
    expect(suspended).not.toContain("Any other message gets");
  });

  it("says AI replies would answer the rest but get none for now while the persona is not approved", async () => {
    const s = await atStep(4, "cafe");
    await connect(s, "whatsapp", {
      rules: [],
      default_rule: { response: { kind: "prompt", text: "Answer briefly." } },
    });
    const page = await (await get(s, LAUNCH)).text();
    expect(page).toContain("Any other message would get an AI reply, but for now it gets none:");
    expect(page).toContain("AI replies are off: there is no persona yet.");
    expect(page).not.toContain("Any other message gets an AI reply");
  });

  it("switches each account as its checkbox says, marks the launch once, and changes nothing after", async () => {
    const { s, whatsapp, instagram } = await readyToLaunch();
    const waBefore = await stored(whatsapp.id);
    expect(waBefore?.enabled).toBe(false);
    const launched = await launchWith(s, [whatsapp.id, instagram.id], [whatsapp.id]);
    expect(launched.status).toBe(303);
    expect(launched.headers.get("location")).toBe("/admin?launched=1");
    // Only the switch changed.
    expect(await stored(whatsapp.id)).toEqual({ ...waBefore, enabled: true });
    expect((await stored(instagram.id))?.enabled).toBe(false);
    const row = await tenantRow(s);
    expect(row?.step).toBe(5);
    expect(row?.launchedAt).toBeGreaterThan(0);

    const again = await launchWith(s, [whatsapp.id, instagram.id], [instagram.id]);
    expect(again.status).toBe(303);
    expect((await stored(whatsapp.id))?.enabled).toBe(true);
    expect((await stored(instagram.id))?.enabled).toBe(false);
    expect(await tenantRow(s)).toEqual(row);
  });
});

/** The launch form with repeated fields, as the browser sends several checkboxes of one name. */
function launchWith(s: TestSession, shown: string[], on: string[]) {
  const body = new URLSearchParams({ _csrf: s.csrf });
  for (const id of shown) body.append("shown", id);
  for (const id of on) body.append("on", id);
  return app(LAUNCH, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: s.cookie },
    body,
  });
}
