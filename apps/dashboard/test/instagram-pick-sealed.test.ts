// Between Facebook Login's callback and the person's choice, the page tokens (and the long-lived
// user token) wait in KV for ten minutes: sealed, under a key that only the choice page holds.
import { env } from "cloudflare:workers";
import { listConnectedAccounts } from "@concierge/storage";
import { describe, expect, it } from "vitest";
import { type TestSession, cookieValue, get, post, signIn } from "./helpers.ts";

const IG_COOKIE = "__Host-concierge_igconnect";
// The sandbox's Graph tokens (user and page) all look like Meta's: EAA…. In clear in the JSON
// record a token is a quoted string; the sealed part is base64, which has no quote, so a chance
// "EAA…" run inside the ciphertext does not match.
const GRAPH_TOKEN = /"EAA[A-Za-z0-9]{20,}/;

async function addPage() {
  const tail = `${String(Date.now()).slice(-8)}${Math.floor(Math.random() * 10000)}`;
  const page = {
    id: `21${tail}`,
    name: `Sealed Chai ${tail}`,
    instagram: { id: `1785${tail}`, username: `sealed.chai${tail}` },
    mode: "valid",
  };
  const res = await fetch(`${env.SANDBOX_URL}/__sandbox/pages`, {
    method: "POST",
    body: JSON.stringify(page),
  });
  expect(res.ok).toBe(true);
  return page;
}

/** Start → the sandbox's Facebook dialog → our callback; the choice form's `pick` value. */
async function toChoice(s: TestSession): Promise<string> {
  const start = await get(s, "/admin/instagram/start");
  const state = cookieValue(start, IG_COOKIE)!;
  const dialog = new URL(start.headers.get("location")!);
  dialog.searchParams.set("login_hint", "owner@example.com");
  const back = new URL((await fetch(dialog, { redirect: "manual" })).headers.get("location")!);
  const res = await get(s, `${back.pathname}${back.search}`, {
    cookie: `${s.cookie}; ${IG_COOKIE}=${state}`,
  });
  expect(res.status).toBe(200);
  const pick = /name="pick" value="([^"]+)"/.exec(await res.text())?.[1];
  expect(pick).toBeTruthy();
  return pick!;
}

async function pickValuesInKv(): Promise<string[]> {
  const { keys } = await env.KV.list({ prefix: "igpick:" });
  return Promise.all(keys.map(async (k) => (await env.KV.get(k.name)) ?? ""));
}

describe("Instagram connect: the pending choice in KV", () => {
  it("holds no Graph token in clear, and the choice still connects the page", async () => {
    const s = await signIn();
    const page = await addPage();
    const pick = await toChoice(s);
    const values = await pickValuesInKv();
    expect(values.length).toBeGreaterThan(0);
    for (const value of values) {
      expect(value).not.toMatch(GRAPH_TOKEN);
      // Nothing but the sealed blob carries a token, under any field name.
      const { sealed, ...rest } = JSON.parse(value) as { sealed: string };
      expect(sealed).toMatch(/^v1\.[A-Za-z0-9+/=.]+$/);
      expect(JSON.stringify(rest)).not.toMatch(/EAA[A-Za-z0-9]{20,}/);
    }

    const done = await post(s, "/admin/instagram/choose", { pick, page: page.id });
    expect(done.status).toBe(303);
    const accounts = (await listConnectedAccounts(env.DB, s.tenantId)).filter(
      (a) => a.channel === "instagram",
    );
    expect(accounts).toEqual([expect.objectContaining({ externalId: page.instagram.id })]);
  });

  it("does not open without the choice page's key, or with another one: nothing is connected", async () => {
    const s = await signIn();
    const page = await addPage();
    const pick = await toChoice(s);
    const [id] = pick.split(".");
    for (const forged of [id!, `${id}.${"A".repeat(43)}`, `${id}.`]) {
      const res = await post(s, "/admin/instagram/choose", { pick: forged, page: page.id });
      expect(res.status).toBe(400);
    }
    expect(
      (await listConnectedAccounts(env.DB, s.tenantId)).filter((a) => a.channel === "instagram"),
    ).toEqual([]);
    // The real key still works: the refusals above changed nothing.
    expect((await post(s, "/admin/instagram/choose", { pick, page: page.id })).status).toBe(303);
  });
});
