// The operator panel (/manage) through the Worker's real entry point, with Access tokens signed by
// the test key the sandbox publishes: every page renders, the search finds a tenant by each key,
// every action goes through the pipeline's OperatorEntrypoint and leaves exactly one audit row
// that the audit page shows, bad input changes nothing, and only a valid token and the panel's
// own CSRF token get anything done. The tenant's dashboard says when it is suspended, and why.
import { env } from "cloudflare:workers";
import { createChannelAccount, createTenant, grantCredits, insertEmailSubdomain } from "@concierge/storage";
import { TEST_SECRETS } from "@concierge/testing/secrets";
import { DEMO } from "@concierge/testing/seed";
import { beforeAll, describe, expect, it } from "vitest";
import { dashboardConfig } from "../src/manage/config-report.ts";
import { csrfFrom, get, post, signIn, type TestSession } from "./helpers.ts";
import { asOperator, postAsOperator, signInOperator, type TestOperator } from "./operator-helpers.ts";

type Operator = TestOperator;

/** An operator let in by Access; the panel's page carries the same form token the test derives. */
async function operator(email = "ops@concierge.example"): Promise<Operator> {
  const op = await signInOperator({ email });
  const res = await asOperator(op, "/manage");
  expect(res.status).toBe(200);
  expect(csrfFrom(await res.text())).toBe(op.csrf);
  return op;
}

const mget = (op: Operator, path: string) => asOperator(op, path);

/** A /manage form POST from the panel's page; `csrf` replaces the token (null leaves it out). */
function mpost(
  op: Operator,
  path: string,
  fields: Record<string, string | number> = {},
  opts: { csrf?: string | null; origin?: string | null } = {},
): Promise<Response> {
  return postAsOperator(
    op,
    path,
    Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, String(v)])),
    opts,
  );
}

type AuditDbRow = {
  id: number;
  action: string;
  tenant_id: string | null;
  target: string | null;
  summary: string;
};

async function auditRows(): Promise<AuditDbRow[]> {
  return (
    await env.DB.prepare(
      "SELECT id, action, tenant_id, target, summary FROM audit_log ORDER BY id",
    ).all<AuditDbRow>()
  ).results;
}

/**
 * Runs an action and returns the one audit row it added (failing unless exactly one was added),
 * after checking the audit page shows it, filtered by its action.
 */
async function oneAuditRow(op: Operator, act: () => Promise<Response>, action: string): Promise<AuditDbRow> {
  const before = await auditRows();
  const res = await act();
  expect(res.status, await res.clone().text()).toBe(303);
  const added = (await auditRows()).slice(before.length);
  expect(added.map((r) => r.action)).toEqual([action]);
  const row = added[0]!;
  const page = await (await mget(op, `/manage/audit?action=${encodeURIComponent(action)}`)).text();
  expect(page).toContain(`data-audit="${row.id}"`);
  expect(page).toContain(op.email);
  return row;
}

async function tenantRow(id: string) {
  return env.DB.prepare(
    "SELECT name, status, suspended_reason, email_subdomain_quota FROM tenants WHERE id = ?",
  )
    .bind(id)
    .first<{
      name: string;
      status: string;
      suspended_reason: string | null;
      email_subdomain_quota: number;
    }>();
}

const balance = async (tenantId: string) =>
  (await env.DB.prepare(
    "SELECT COALESCE(SUM(remaining), 0) AS n FROM credit_lots WHERE tenant_id = ? AND (expires_at IS NULL OR expires_at > ?)",
  )
    .bind(tenantId, Date.now())
    .first<{ n: number }>())!.n;

const requestIdFrom = (html: string) => /name="requestId" value="([^"]+)"/.exec(html)![1]!;

let ops: Operator;

beforeAll(async () => {
  ops = await operator();
});

describe("the operator panel's pages", () => {
  it("renders every page with the panel's navigation and the operator's email, never a tenant's", async () => {
    for (const path of [
      "/manage",
      `/manage/tenants/${DEMO.tenantId}`,
      "/manage/pricing",
      "/manage/archetypes",
      "/manage/archetypes/cafe-host",
      "/manage/demo",
      "/manage/health",
      "/manage/audit",
    ]) {
      const res = await mget(ops, path);
      expect(`${path} → ${res.status}`).toBe(`${path} → 200`);
      expect(res.headers.get("cache-control")).toBe("no-store");
      const html = await res.text();
      expect(html).toContain("Signed in as ops@concierge.example");
      for (const nav of ["Tenants", "Pricing", "Archetypes", "Demo", "Health", "Audit log"]) {
        expect(html).toContain(`>${nav}</a>`);
      }
      expect(html).not.toContain("/admin/settings");
    }
  });

  it("shows the tenant page's channels, users, balance, ledger, orders and usage", async () => {
    const s = await signIn({ name: "Overview Tea", trial: false });
    await createChannelAccount(env.DB, {
      tenantId: s.tenantId,
      channel: "whatsapp",
      externalId: `9177${Date.now()}`.slice(0, 15),
      displayName: "+91 77 overview",
    });
    await grantCredits(env.DB, { tenantId: s.tenantId, amount: 1234, source: "grant", reference: "ov" });
    const html = await (await mget(ops, `/manage/tenants/${s.tenantId}`)).text();
    expect(html).toContain("<h1>Overview Tea</h1>");
    expect(html).toMatch(/id="balance">1,234</);
    expect(html).toContain("+91 77 overview");
    expect(html).toContain(s.email);
    expect(html).toContain("<code>ov</code>");
  });

  it("pages through a long ledger, newest first", async () => {
    const s = await signIn({ name: "Long Ledger", trial: false });
    for (let i = 0; i < 23; i++) {
      await grantCredits(env.DB, {
        tenantId: s.tenantId,
        amount: i + 1,
        source: "grant",
        reference: `g${i}`,
      });
    }
    const refs = (h: string) => [...h.matchAll(/<td class="mg-wrap"><code>(g\d+)<\/code>/g)].map((m) => m[1]);
    const first = await (await mget(ops, `/manage/tenants/${s.tenantId}`)).text();
    expect(refs(first)).toHaveLength(20);
    expect(refs(first)[0]).toBe("g22");
    const older = /href="([^"]+\?before=\d+)#ledger-h" rel="next"/.exec(first);
    expect(older).not.toBeNull();
    const second = await (await mget(ops, older![1]!)).text();
    expect(refs(second)).toEqual(["g2", "g1", "g0"]);
    expect(second).not.toContain('rel="next"');
  });

  it("answers 404 for a tenant or archetype that does not exist", async () => {
    expect((await mget(ops, "/manage/tenants/t_nobody")).status).toBe(404);
    expect((await mget(ops, "/manage/tenants/not-an-id")).status).toBe(404);
    expect((await mget(ops, "/manage/archetypes/no-such-archetype")).status).toBe(404);
  });

  it("shows the dashboard's own configuration by name and the pipeline's health", async () => {
    const html = await (await mget(ops, "/manage/health")).text();
    for (const name of [
      "DB",
      "KV",
      "PIPELINE",
      "BILLING",
      "OPERATOR",
      "ACCESS_AUD",
      "GOOGLE_CLIENT_SECRET",
    ]) {
      expect(html).toContain(`data-config="${name}"`);
    }
    // Values are never shown, only whether they are set.
    expect(html).not.toContain(String(env.GOOGLE_CLIENT_SECRET));
    expect(html).toContain('id="safety-pending"');
    expect(html).toContain('id="crons"');
    expect(html).toContain('id="traffic"');
  });

  it("reports a missing required setting apart from a missing optional one, by name", () => {
    const report = dashboardConfig({ ...env, GOOGLE_CLIENT_SECRET: "", DISCORD_CLIENT_ID: " " } as Env);
    const missing = report
      .filter((i) => !i.set)
      .map((i) => `${i.name}:${i.required ? "required" : "optional"}`);
    expect(missing).toEqual(["GOOGLE_CLIENT_SECRET:required", "DISCORD_CLIENT_ID:optional"]);
    const without = { ...env } as Record<string, unknown>;
    delete without.OPERATOR;
    expect(dashboardConfig(without as unknown as Env).find((i) => i.name === "OPERATOR")).toEqual({
      name: "OPERATOR",
      required: true,
      set: false,
    });
  });
});

describe("the tenant search", () => {
  let s: TestSession;
  const unique = crypto.randomUUID().slice(0, 8);
  const phone = `9198${Date.now()}`.slice(0, 12);
  const subdomain = `srch${unique}`;

  beforeAll(async () => {
    s = await signIn({ name: `Search Target ${unique}`, email: `finder-${unique}@example.com` });
    await createChannelAccount(env.DB, { tenantId: s.tenantId, channel: "whatsapp", externalId: phone });
    const inserted = await insertEmailSubdomain(env.DB, {
      accountId: `acc_${unique}`,
      tenantId: s.tenantId,
      name: subdomain,
      domain: `${subdomain}.mail.example`,
    });
    expect(inserted.ok).toBe(true);
  });

  it.each([
    ["name", () => `search target ${unique}`],
    ["user email", () => `FINDER-${unique}@example.com`],
    ["tenant id", () => s.tenantId],
    ["phone number", () => `+${phone}`],
    ["subdomain", () => subdomain],
  ])("finds the tenant by its %s", async (_key, q) => {
    const html = await (await mget(ops, `/manage?q=${encodeURIComponent(q())}`)).text();
    expect(html).toContain(`data-tenant="${s.tenantId}"`);
    expect(html.match(/data-tenant="/g)?.length).toBe(1);
  });

  it("filters by status and finds nothing for an unknown key", async () => {
    const active = await (
      await mget(ops, `/manage?q=${encodeURIComponent(s.tenantId)}&status=active`)
    ).text();
    expect(active).toContain(`data-tenant="${s.tenantId}"`);
    const suspended = await (
      await mget(ops, `/manage?q=${encodeURIComponent(s.tenantId)}&status=suspended`)
    ).text();
    expect(suspended).not.toContain(`data-tenant="${s.tenantId}"`);
    const none = await (await mget(ops, "/manage?q=zz-nobody-by-this-name")).text();
    expect(none).toContain('id="no-tenants"');
  });

  it("pages through the matches with a cursor, newest first, each tenant once", async () => {
    const marker = `Paged ${unique}`;
    const made: string[] = [];
    for (let i = 0; i < 27; i++) {
      made.push((await createTenant(env.DB, TEST_SECRETS.encryptionKey, { name: `${marker} ${i}` })).id);
    }
    const ids = (h: string) => [...h.matchAll(/data-tenant="([^"]+)"/g)].map((m) => m[1]!);
    const first = await (await mget(ops, `/manage?q=${encodeURIComponent(marker)}`)).text();
    expect(ids(first)).toHaveLength(25);
    const next = /href="(\/manage\?[^"]*after=[^"]+)" rel="next"/.exec(first);
    expect(next).not.toBeNull();
    const second = await (await mget(ops, next![1]!.replaceAll("&amp;", "&"))).text();
    expect(ids(second)).toHaveLength(2);
    expect(second).not.toContain('rel="next"');
    expect([...ids(first), ...ids(second)].sort()).toEqual([...made].sort());
  });
});

describe("actions on a tenant", () => {
  it("suspends with a reason (the tenant's pages say so), then reactivates: one audit row each", async () => {
    const s = await signIn({ name: "Suspend Me" });
    const row = await oneAuditRow(
      ops,
      () => mpost(ops, `/manage/tenants/${s.tenantId}/suspend`, { reason: "Unpaid invoices since May" }),
      "tenant.suspend",
    );
    expect(row.tenant_id).toBe(s.tenantId);
    expect(await tenantRow(s.tenantId)).toMatchObject({
      status: "suspended",
      suspended_reason: "Unpaid invoices since May",
    });
    const page = await (await mget(ops, `/manage/tenants/${s.tenantId}?done=suspended`)).text();
    expect(page).toContain("The tenant is suspended.");
    expect(page).toContain("Unpaid invoices since May");

    for (const path of ["/admin", "/admin/rules", "/admin/billing", "/admin/settings"]) {
      const html = await (await get(s, path)).text();
      expect(html, path).toContain("This account is suspended");
      expect(html, path).toContain("Unpaid invoices since May");
      expect(html, path).toContain("still received");
    }

    await oneAuditRow(ops, () => mpost(ops, `/manage/tenants/${s.tenantId}/reactivate`), "tenant.reactivate");
    expect(await tenantRow(s.tenantId)).toMatchObject({ status: "active", suspended_reason: null });
    expect(await (await get(s, "/admin")).text()).not.toContain("This account is suspended");
  });

  it("grants credits with an expiry: in the balance and the ledger, once per form", async () => {
    const s = await signIn({ name: "Grant Me", trial: false });
    const form = await (await mget(ops, `/manage/tenants/${s.tenantId}`)).text();
    const requestId = requestIdFrom(form);
    const expires = new Date(Date.now() + 10 * 86_400_000).toISOString().slice(0, 10);
    const fields = { credits: 250, expires, reason: "Goodwill after the outage", requestId };
    const row = await oneAuditRow(
      ops,
      () => mpost(ops, `/manage/tenants/${s.tenantId}/grant`, fields),
      "tenant.grant_credits",
    );
    expect(row.tenant_id).toBe(s.tenantId);
    expect(await balance(s.tenantId)).toBe(250);
    const lot = await env.DB.prepare("SELECT granted, expires_at AS expiresAt FROM credit_lots WHERE id = ?")
      .bind(`lot:${s.tenantId}:grant:${requestId}`)
      .first<{ granted: number; expiresAt: number }>();
    expect(lot).toEqual({ granted: 250, expiresAt: Date.parse(`${expires}T00:00:00Z`) });
    const page = await (await mget(ops, `/manage/tenants/${s.tenantId}`)).text();
    expect(page).toMatch(/id="balance">250</);
    expect(page).toContain(`grant:${requestId}`);
    // The same form again (a double submit) grants nothing more.
    const again = await mpost(ops, `/manage/tenants/${s.tenantId}/grant`, fields);
    expect(again.status).toBe(303);
    expect(await balance(s.tenantId)).toBe(250);
    // A fresh rendering has a fresh request id.
    expect(requestIdFrom(page)).not.toBe(requestId);
  });

  it("sets the subdomain quota and rotates the data key: one audit row each", async () => {
    const s = await signIn({ name: "Quota Me" });
    await oneAuditRow(
      ops,
      () => mpost(ops, `/manage/tenants/${s.tenantId}/quota`, { quota: 7 }),
      "tenant.set_quota",
    );
    expect((await tenantRow(s.tenantId))!.email_subdomain_quota).toBe(7);
    await oneAuditRow(ops, () => mpost(ops, `/manage/tenants/${s.tenantId}/rotate-key`), "tenant.rotate_key");
    const versions = await env.DB.prepare("SELECT COUNT(*) AS n FROM tenant_keys WHERE tenant_id = ?")
      .bind(s.tenantId)
      .first<{ n: number }>();
    expect(versions!.n).toBe(2);
  });

  it("deletes a tenant only with its exact name typed, then says so on the search page", async () => {
    const s = await signIn({ name: "Delete Me Ltd." });
    const wrong = await mpost(ops, `/manage/tenants/${s.tenantId}/delete`, { confirmName: "delete me ltd." });
    expect(wrong.status).toBe(422);
    expect(await wrong.text()).toContain("That is not the tenant&#39;s name exactly.");
    expect(await tenantRow(s.tenantId)).not.toBeNull();

    const before = await auditRows();
    const res = await mpost(ops, `/manage/tenants/${s.tenantId}/delete`, { confirmName: "Delete Me Ltd." });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/manage?done=deleted");
    expect(await tenantRow(s.tenantId)).toBeNull();
    const added = (await auditRows()).slice(before.length);
    expect(added.map((r) => [r.action, r.tenant_id])).toEqual([["tenant.delete", s.tenantId]]);
    expect(added[0]!.summary).not.toContain("Delete Me Ltd.");
    const landing = await (await mget(ops, "/manage?done=deleted")).text();
    expect(landing).toContain("The tenant and all of its data were deleted.");
    const audit = await (await mget(ops, `/manage/audit?tenant=${s.tenantId}`)).text();
    expect(audit).toContain(`data-audit="${added[0]!.id}"`);
    // The tenant's own session went with it.
    expect((await get(s, "/admin")).status).toBe(303);
  });
});

describe("platform-wide actions", () => {
  it("saves a pack, adds one, prices the subdomain plan and the trial (major units in, minor units stored)", async () => {
    const packId = `inr-t${crypto.randomUUID().slice(0, 6)}`;
    const added = await oneAuditRow(
      ops,
      () =>
        mpost(ops, "/manage/pricing/packs", {
          mode: "new",
          currency: "INR",
          id: packId,
          credits: 300,
          amount: "1,299.50",
          sort: 9,
          active: "on",
        }),
      "pricing.save_pack",
    );
    expect(added.target).toBe(packId);
    const pack = () =>
      env.DB.prepare("SELECT credits, amount, active, sort FROM credit_packs WHERE id = ?")
        .bind(packId)
        .first();
    expect(await pack()).toEqual({ credits: 300, amount: 129_950, active: 1, sort: 9 });
    const page = await (await mget(ops, "/manage/pricing")).text();
    expect(page).toContain(`id="pack-${packId}"`);
    expect(page).toContain("₹1,299.50");
    expect(page).toContain("Changes apply to new orders only");

    // Editing: unticked "Offered" makes it inactive.
    await oneAuditRow(
      ops,
      () =>
        mpost(ops, "/manage/pricing/packs", {
          mode: "edit",
          currency: "INR",
          id: packId,
          credits: 300,
          amount: 1000,
          sort: 9,
        }),
      "pricing.save_pack",
    );
    expect(await pack()).toEqual({ credits: 300, amount: 100_000, active: 0, sort: 9 });

    const plan = await env.DB.prepare("SELECT amount FROM subdomain_plans WHERE currency = 'USD'").first<{
      amount: number;
    }>();
    await oneAuditRow(
      ops,
      () => mpost(ops, "/manage/pricing/subdomain-plan", { currency: "USD", amount: "3.5" }),
      "pricing.subdomain_plan",
    );
    expect(
      await env.DB.prepare("SELECT amount FROM subdomain_plans WHERE currency = 'USD'").first<{
        amount: number;
      }>(),
    ).toEqual({ amount: 350 });

    const trial = await env.DB.prepare("SELECT credits, days FROM trial_credits WHERE id = 1").first<{
      credits: number;
      days: number;
    }>();
    await oneAuditRow(
      ops,
      () => mpost(ops, "/manage/pricing/trial", { credits: 75, days: 14 }),
      "pricing.trial",
    );
    expect(await env.DB.prepare("SELECT credits, days FROM trial_credits WHERE id = 1").first()).toEqual({
      credits: 75,
      days: 14,
    });
    // Put the prices back for the other tests.
    await mpost(ops, "/manage/pricing/trial", { credits: trial!.credits, days: trial!.days });
    if (plan)
      await mpost(ops, "/manage/pricing/subdomain-plan", { currency: "USD", amount: plan.amount / 100 });
  });

  it("creates, edits and retires an archetype: pending until approved, then gone from tenants", async () => {
    const name = `Bookshop owner ${crypto.randomUUID().slice(0, 6)}`;
    const created = await oneAuditRow(
      ops,
      () =>
        mpost(ops, "/manage/archetypes", {
          name,
          description: "Quiet and well read, for bookshops.",
          prompt: "You are the owner of a small bookshop. Recommend books kindly and briefly.",
          sortOrder: 40,
        }),
      "archetype.save",
    );
    const id = created.target!;
    const stored = () =>
      env.DB.prepare("SELECT name, version, safety_status AS safety, status FROM archetypes WHERE id = ?")
        .bind(id)
        .first<{ name: string; version: number; safety: string; status: string }>();
    expect(await stored()).toMatchObject({ name, version: 1 });
    const list = await (await mget(ops, "/manage/archetypes?done=created")).text();
    expect(list).toContain(`data-archetype="${id}"`);

    await oneAuditRow(
      ops,
      () =>
        mpost(ops, `/manage/archetypes/${id}`, {
          name,
          description: "Quiet and well read, for bookshops and libraries.",
          prompt: "You are the owner of a small bookshop. Recommend books kindly.",
          sortOrder: 41,
        }),
      "archetype.save",
    );
    expect((await stored())!.version).toBe(2);

    await oneAuditRow(ops, () => mpost(ops, `/manage/archetypes/${id}/retire`), "archetype.retire");
    expect((await stored())!.status).toBe("retired");
    const tenant = await signIn();
    expect(await (await get(tenant, "/admin/persona")).text()).not.toContain(name);
  });

  it("saves the demo settings", async () => {
    await oneAuditRow(
      ops,
      () =>
        mpost(ops, "/manage/demo", {
          business: "salon",
          perVisitorPerHour: 12,
          totalPerDay: 3000,
          maxChars: 280,
          maxTurns: 4,
        }),
      "demo.save",
    );
    const html = await (await mget(ops, "/manage/demo?done=saved")).text();
    expect(html).toContain('<option value="salon" selected>');
    expect(html).toContain('value="3000"');
    await mpost(ops, "/manage/demo", {
      business: "cafe",
      perVisitorPerHour: 10,
      totalPerDay: 2000,
      maxChars: 300,
      maxTurns: 3,
    });
  });
});

describe("bad input", () => {
  it("shows the error next to the field and changes nothing", async () => {
    const s = await signIn({ name: "Bad Input", trial: false });
    const before = await auditRows();
    const cases: [string, Record<string, string | number>, string, string][] = [
      [`/manage/tenants/${s.tenantId}/suspend`, { reason: "   " }, "suspend-reason-err", "Give a reason"],
      [
        `/manage/tenants/${s.tenantId}/grant`,
        { credits: "lots", expires: "", reason: "x", requestId: "abcdefgh12" },
        "grant-credits-err",
        "Enter a number.",
      ],
      [
        `/manage/tenants/${s.tenantId}/grant`,
        { credits: 5, expires: "2020-01-01", reason: "x", requestId: "abcdefgh12" },
        "grant-expires-err",
        "Choose a day after today",
      ],
      [`/manage/tenants/${s.tenantId}/quota`, { quota: 1001 }, "quota-quota-err", "from 0 to 1,000"],
      [
        "/manage/pricing/packs",
        { mode: "new", currency: "INR", id: "Bad Id", credits: 1, amount: "4.999", sort: 0 },
        "new-INR-amount-err",
        "at most two decimals",
      ],
      ["/manage/pricing/trial", { credits: -1, days: 0 }, "trial-days-err", "number of days"],
      [
        "/manage/demo",
        { business: "zoo", perVisitorPerHour: 1, totalPerDay: 1, maxChars: 20, maxTurns: 99 },
        "f-maxTurns-err",
        "from 1 to 20",
      ],
      [
        "/manage/archetypes",
        { name: "", description: "d", prompt: "p", sortOrder: 1 },
        "new-archetype-name-err",
        "a name",
      ],
    ];
    for (const [path, fields, errorId, text] of cases) {
      const res = await mpost(ops, path, fields);
      expect(`${path} → ${res.status}`).toBe(`${path} → 422`);
      const html = await res.text();
      expect(html).toMatch(new RegExp(`id="${errorId}">[^<]*${text}`));
      expect(html).toContain('aria-invalid="true"');
    }
    expect(await auditRows()).toEqual(before);
    expect(await tenantRow(s.tenantId)).toMatchObject({ status: "active", email_subdomain_quota: 3 });
    expect(await balance(s.tenantId)).toBe(0);
  });
});

describe("who may act", () => {
  it("refuses a write without the panel's CSRF token, or from another origin, and changes nothing", async () => {
    const s = await signIn({ name: "Csrf Target" });
    const before = await auditRows();
    for (const opts of [{ csrf: null }, { csrf: "forged-token" }, { origin: "https://evil.example" }]) {
      const res = await mpost(ops, `/manage/tenants/${s.tenantId}/suspend`, { reason: "csrf" }, opts);
      expect(res.status).toBe(403);
    }
    // Another operator's token is not this operator's form token either.
    const other = await operator("other@concierge.example");
    expect(
      (await mpost(ops, "/manage/pricing/trial", { credits: 1, days: 1 }, { csrf: other.csrf })).status,
    ).toBe(403);
    expect(await auditRows()).toEqual(before);
    expect((await tenantRow(s.tenantId))!.status).toBe("active");
  });

  it("refuses a tenant's session cookie (with its CSRF token) on every /manage page and form", async () => {
    const s = await signIn({ name: "Not An Operator" });
    const before = await auditRows();
    for (const path of [
      "/manage",
      `/manage/tenants/${s.tenantId}`,
      "/manage/pricing",
      "/manage/audit",
      "/manage/health",
    ]) {
      expect((await get(s, path)).status).toBe(403);
    }
    for (const path of [
      `/manage/tenants/${s.tenantId}/suspend`,
      `/manage/tenants/${s.tenantId}/grant`,
      "/manage/demo",
    ]) {
      expect((await post(s, path, { reason: "x", credits: 5, requestId: "abcdefgh12" })).status).toBe(403);
    }
    expect(await auditRows()).toEqual(before);
  });

  it("records which operator did what, and filters the audit log by operator", async () => {
    const other = await operator(`second-${crypto.randomUUID().slice(0, 6)}@concierge.example`);
    const s = await signIn({ name: "Audited" });
    const row = await oneAuditRow(
      other,
      () => mpost(other, `/manage/tenants/${s.tenantId}/quota`, { quota: 4 }),
      "tenant.set_quota",
    );
    const mine = await (await mget(ops, `/manage/audit?operator=${encodeURIComponent(ops.email)}`)).text();
    expect(mine).not.toContain(`data-audit="${row.id}"`);
    const theirs = await (
      await mget(ops, `/manage/audit?operator=${encodeURIComponent(other.email)}`)
    ).text();
    expect(theirs).toContain(`data-audit="${row.id}"`);
    const day = new Date().toISOString().slice(0, 10);
    const today = await (await mget(ops, `/manage/audit?tenant=${s.tenantId}&from=${day}&to=${day}`)).text();
    expect(today).toContain(`data-audit="${row.id}"`);
    const past = await (await mget(ops, `/manage/audit?tenant=${s.tenantId}&to=2020-01-01`)).text();
    expect(past).not.toContain(`data-audit="${row.id}"`);
  });
});
