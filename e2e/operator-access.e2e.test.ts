import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "../scripts/stack.ts";

// The operator panel on the local stack, over plain HTTP as a browser would go: /manage refuses,
// its page links to the sandbox's Cloudflare Access, whose sign-in lands on the dashboard's
// /cdn-cgi/access/authorized (through Miniflare, as locally nothing else answers that path), which
// keeps the token in Access's cookie; with it, /manage opens. Nothing here is a test-only bypass.
let stack: Stack;
let persistDir: string;

beforeAll(async () => {
  persistDir = mkdtempSync(path.join(os.tmpdir(), "concierge-e2e-access-"));
  stack = await startStack({ persistDir, demoWaitSeconds: 0 });
});

afterAll(async () => {
  await stack?.dispose();
  rmSync(persistDir, { recursive: true, force: true });
});

const get = (url: string, init: RequestInit = {}) => fetch(url, { redirect: "manual", ...init });
const unescapeAmp = (s: string) => s.replaceAll("&amp;", "&");

describe("signing in to /manage through the sandbox's Access", () => {
  it("goes from the 403 page to the sign-in and back to the page asked for, with Access's cookie", async () => {
    const dashboard = stack.urls.dashboard;
    const refused = await get(`${dashboard}/manage/audit`);
    expect(refused.status).toBe(403);
    const link = /href="([^"]*\/access\/cdn-cgi\/access\/login\?[^"]*)"/.exec(await refused.text())?.[1];
    expect(link).toBeDefined();
    const signInUrl = new URL(unescapeAmp(link!));
    expect(signInUrl.origin).toBe(stack.urls.sandbox);
    expect(signInUrl.searchParams.get("redirect_url")).toBe(`${dashboard}/manage/audit`);

    const page = await get(signInUrl.href);
    expect(page.status).toBe(200);
    const signedIn = await get(`${stack.urls.sandbox}/access/cdn-cgi/access/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ email: "ops@example.com", redirect_url: `${dashboard}/manage/audit` }),
    });
    expect(signedIn.status).toBe(303);
    const landing = signedIn.headers.get("location")!;
    expect(landing.startsWith(`${dashboard}/cdn-cgi/access/authorized?`)).toBe(true);

    const authorized = await get(landing);
    expect(authorized.status).toBe(302);
    expect(authorized.headers.get("location")).toBe("/manage/audit");
    const setCookie = authorized.headers.get("set-cookie") ?? "";
    expect(setCookie).toMatch(/^CF_Authorization=[\w-]+\.[\w-]+\.[\w-]+; Path=\/; HttpOnly; SameSite=Lax/);
    expect(setCookie).not.toMatch(/Secure/); // plain http on this machine
    const cookie = setCookie.split(";")[0]!;

    const open = await get(`${dashboard}/manage/audit`, { headers: { cookie } });
    expect(open.status).toBe(200);
    expect(await open.text()).toContain("ops@example.com");
    expect(open.headers.get("cache-control")).toContain("no-store");
    // The cookie is no way in for anyone else's request: without it, refused again.
    expect((await get(`${dashboard}/manage/audit`)).status).toBe(403);

    // The platform health page: all five Workers of the local stack answer (the three ingress
    // Workers over the dashboard's HEALTH_* bindings) and none misses a required setting.
    const health = await get(`${dashboard}/manage/health`, { headers: { cookie } });
    expect(health.status).toBe(200);
    const rows = [
      ...(await health.text()).matchAll(/<tr data-worker="([^"]+)" data-worker-state="([^"]+)">/g),
    ];
    expect(rows.map((m) => [m[1], m[2]])).toEqual([
      ["pipeline", "ok"],
      ["dashboard", "ok"],
      ["meta-webhooks", "ok"],
      ["email-inbound", "ok"],
      ["discord-interactions", "ok"],
    ]);
  });

  it("hands a token only to the dashboard: a sign-in for any other site is refused", async () => {
    for (const elsewhere of ["https://evil.example/manage", `${stack.urls["meta-webhooks"]}/manage`]) {
      const signIn = await get(`${stack.urls.sandbox}/access/cdn-cgi/access/login`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ email: "ops@example.com", redirect_url: elsewhere }),
      });
      expect(signIn.status, elsewhere).toBe(400);
      expect(signIn.headers.get("location")).toBeNull();
    }
  });
});
