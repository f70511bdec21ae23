import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "./server.ts";

const APP_ID = "100000000000001";
const SECRET = "sandbox-meta-app-secret";
let sb: Sandbox;

beforeAll(async () => {
  sb = await startSandbox({
    appSecret: SECRET,
    facebookAppId: APP_ID,
    graphToken: "platform",
    phoneNumbers: [{ id: "106540352242922", display: "+91 98765 43210", business: "Chai" }],
  });
});
afterAll(() => sb.close());

const graph = (path: string, init?: RequestInit) => fetch(`${sb.graphBaseUrl}${path}`, init);

async function pageTokens(pageId: string, expiresInSeconds: number | null = null) {
  const r = await fetch(`${sb.url}/__sandbox/pages/tokens`, {
    method: "POST",
    body: JSON.stringify({ pageId, expiresInSeconds }),
  });
  return (await r.json()) as { userToken: string; pageToken: string };
}

const debug = async (token: string) =>
  (await (await graph(`/debug_token?input_token=${token}&access_token=${APP_ID}|${SECRET}`)).json()) as {
    data: Record<string, unknown>;
  };

describe("fake Graph: pages and Instagram accounts", () => {
  it("lists pages with their Instagram account; the one without has no instagram_business_account", async () => {
    const { userToken } = await pageTokens("109876543210987");
    const r = await graph(
      "/me/accounts?fields=id,name,access_token,instagram_business_account{id,username}",
      {
        headers: { authorization: `Bearer ${userToken}` },
      },
    );
    const body = (await r.json()) as { data: Record<string, unknown>[]; paging: unknown };
    expect(body.data).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          id: "109876543210987",
          access_token: expect.stringMatching(/^EAAP/),
          instagram_business_account: { id: "17841400000000001", username: "sandbox.cafe" },
        }),
      ]),
    );
    const bare = body.data.find((p) => p.id === "109876543210988");
    expect(bare).toBeDefined();
    expect(bare).not.toHaveProperty("instagram_business_account");
    expect(body.paging).toHaveProperty("cursors");
  });

  it("refuses /me/accounts and the long-lived exchange without a valid token, in Graph's error format", async () => {
    const r = await graph("/me/accounts", { headers: { authorization: "Bearer nope" } });
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ error: { code: 190, type: "OAuthException" } });
    const x = await graph(
      `/oauth/access_token?grant_type=fb_exchange_token&client_id=${APP_ID}&client_secret=${SECRET}&fb_exchange_token=nope`,
    );
    expect(x.status).toBe(400);
  });

  it("answers /debug_token as valid, expiring or invalid on demand, and only to the app token", async () => {
    await fetch(`${sb.url}/__sandbox/pages`, {
      method: "POST",
      body: JSON.stringify({ id: "4000000000001" }),
    });
    const { pageToken } = await pageTokens("4000000000001");
    expect((await debug(pageToken)).data).toMatchObject({ is_valid: true, type: "PAGE", expires_at: 0 });
    await fetch(`${sb.url}/__sandbox/pages`, {
      method: "POST",
      body: JSON.stringify({ id: "4000000000001", mode: "expiring" }),
    });
    const expiring = (await debug(pageToken)).data;
    expect(expiring.expires_at as number).toBeGreaterThan(Date.now() / 1000);
    await fetch(`${sb.url}/__sandbox/pages`, {
      method: "POST",
      body: JSON.stringify({ id: "4000000000001", mode: "invalid" }),
    });
    expect((await debug(pageToken)).data).toMatchObject({
      is_valid: false,
      error: { code: 190, subcode: 463 },
    });
    const wrongApp = await graph(`/debug_token?input_token=${pageToken}&access_token=${APP_ID}|wrong`);
    expect(wrongApp.status).toBe(400);
  });

  it("records a page's webhook subscription made with that page's token", async () => {
    const { pageToken } = await pageTokens("109876543210987");
    const r = await graph("/109876543210987/subscribed_apps?subscribed_fields=messages,message_echoes", {
      method: "POST",
      headers: { authorization: `Bearer ${pageToken}` },
    });
    expect(await r.json()).toEqual({ success: true });
    const other = await graph("/109876543210988/subscribed_apps?subscribed_fields=messages", {
      method: "POST",
      headers: { authorization: `Bearer ${pageToken}` },
    });
    expect(other.status).toBe(400);
    const seen = (await (
      await fetch(`${sb.url}/__sandbox/pages/subscriptions?page=109876543210987`)
    ).json()) as {
      subscriptions: { fields: string[] }[];
    };
    expect(seen.subscriptions.map((s) => s.fields)).toEqual([["messages", "message_echoes"]]);
  });

  it("plays an injected Graph error once, then recovers", async () => {
    const { userToken } = await pageTokens("109876543210987");
    await fetch(`${sb.url}/__sandbox/pages/faults`, {
      method: "POST",
      body: JSON.stringify({ status: 500, code: 2, message: "An unexpected error has occurred." }),
    });
    const auth = { headers: { authorization: `Bearer ${userToken}` } };
    const failed = await graph("/me/accounts", auth);
    expect(failed.status).toBe(500);
    expect(await failed.json()).toMatchObject({ error: { code: 2 } });
    expect((await graph("/me/accounts", auth)).status).toBe(200);
  });

  it("still answers WhatsApp phone number lookups on GET /{id}: page ids do not collide", async () => {
    const r = await graph("/106540352242922?fields=display_phone_number", {
      headers: { authorization: "Bearer platform" },
    });
    expect(await r.json()).toMatchObject({ display_phone_number: "+91 98765 43210" });
  });
});
