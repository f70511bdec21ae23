import { env } from "cloudflare:workers";
import {
  createApproval,
  createChannelAccount,
  grantCredits,
  insertOrder,
  recordCapturedPayment,
  saveReplyConfig,
  upsertSubscription,
} from "@concierge/storage";
import { graphAttempts } from "@concierge/testing/sandbox-client";
import { beforeAll, describe, expect, it } from "vitest";
import { MANAGE_AREA } from "../src/access.ts";
import { router } from "../src/routes.ts";
import { type TestSession, get, post, signIn } from "./helpers.ts";

declare global {
  interface ImportMeta {
    glob<T>(pattern: string, options: { query: "?raw"; import: "default"; eager: true }): Record<string, T>;
  }
}

// Every source file of the dashboard, as text (Vite inlines them when the test is bundled).
const SOURCES = import.meta.glob<string>("../src/**/*.ts", { query: "?raw", import: "default", eager: true });

// Tenant isolation: every route that takes an id, walked by one tenant with another tenant's
// ids. The route table comes from the router itself, so a new route with an id that is not
// listed here fails this test until it is.

type Victim = {
  accountId: string;
  ruleId: string;
  approvalId: string;
  addressId: string;
  orderId: string;
  paymentId: string;
  subscriptionId: string;
  /** A customer message row of the owner's: the live inbox's handle on its conversation. */
  ref: string;
};

/** Form fields that would be valid for any of the routes, so only ownership can refuse them. */
const FIELDS = {
  label: "Hijack",
  id: "hijack",
  matcherKind: "static_text",
  keywords: "hello",
  description: "anything at all",
  threshold: "0.72",
  responseKind: "canned",
  responseText: "Taken over",
  approval: "auto",
  enabled: "on",
  waitSeconds: "1",
  direction: "up",
  text: "hello there",
  previewId: "preview-0123456789",
  action: "approve",
};

const PARAMS: Record<string, (v: Victim) => string> = {
  channel: () => "whatsapp",
  accountId: (v) => v.accountId,
  ruleId: (v) => v.ruleId,
  id: (v) => v.approvalId,
  addressId: (v) => v.addressId,
  orderId: (v) => v.orderId,
  paymentId: (v) => v.paymentId,
  subscriptionId: (v) => v.subscriptionId,
  ref: (v) => v.ref,
};

/**
 * The tenant routes that take an id. The operator panel's (/manage) are not among them: operators
 * see every tenant by design, and a tenant's session gets 403 on all of them (test/manage.test.ts).
 */
function idRoutes(): { method: string; path: string }[] {
  return router.routes
    .map(([method, , , path]) => ({ method, path: path ?? "" }))
    .filter((r) => r.path.includes("/:") && !MANAGE_AREA.test(r.path));
}

function fill(path: string, v: Victim): string {
  return path.replace(/:(\w+)/g, (_, name: string) => {
    const make = PARAMS[name];
    if (!make) throw new Error(`the isolation test has no value for :${name} (route ${path})`);
    return encodeURIComponent(make(v));
  });
}

async function snapshot(tenantId: string): Promise<string> {
  const tables = [
    "tenants",
    "channel_accounts",
    "reply_configs",
    "approvals",
    "personas",
    "credit_ledger",
    "messages",
    "email_subdomains",
    "email_forward_addresses",
    "orders",
    "payments",
    "subscriptions",
    "tenant_billing_details",
    "conversation_states",
  ];
  const out: Record<string, unknown> = {};
  for (const table of tables) {
    const column = table === "tenants" ? "id" : "tenant_id";
    out[table] = (
      await env.DB.prepare(`SELECT * FROM ${table} WHERE ${column} = ?`).bind(tenantId).all()
    ).results;
  }
  return JSON.stringify(out);
}

let attacker: TestSession;
let owner: TestSession;
let victim: Victim;

beforeAll(async () => {
  [attacker, owner] = [await signIn(), await signIn()];
  const account = await createChannelAccount(env.DB, {
    tenantId: owner.tenantId,
    channel: "whatsapp",
    externalId: `9100${Date.now()}`,
  });
  await saveReplyConfig(env.DB, owner.tenantId, account.id, {
    rules: [
      {
        id: "hours",
        label: "Hours",
        matcher: { kind: "static_text", keywords: ["hours"] },
        response: { kind: "canned", text: "Open 9 to 5." },
      },
    ],
    default_rule: { response: { kind: "canned", text: "Thanks!" } },
  });
  await grantCredits(env.DB, { tenantId: owner.tenantId, amount: 10, source: "grant", reference: "iso" });
  const approvalId = `ap_${crypto.randomUUID().replaceAll("-", "")}`;
  await createApproval(env.DB, {
    id: approvalId,
    tenantId: owner.tenantId,
    accountId: account.id,
    threadKey: `${owner.tenantId}/${account.id}/919800000000`,
    conversationId: "c_iso",
    ruleId: "hours",
    creditRef: "turn:iso",
    reasons: ["approval_always"],
  });
  const addressId = `fwd_${crypto.randomUUID().replaceAll("-", "")}`;
  await env.DB.prepare(
    "INSERT INTO email_forward_addresses (id, tenant_id, address, created_at) VALUES (?, ?, ?, ?)",
  )
    .bind(addressId, owner.tenantId, `owner-${addressId}@example.com`, Date.now())
    .run();
  // A credit pack bought (its order and payment) and a subscription started, not yet paid.
  const suffix = crypto.randomUUID().replaceAll("-", "").slice(0, 12);
  const orderId = `ord_iso${suffix}`;
  await insertOrder(env.DB, {
    id: orderId,
    tenantId: owner.tenantId,
    packId: "inr-100",
    credits: 100,
    amount: 49900,
    currency: "INR",
    razorpayOrderId: `order_Iso${suffix}`,
  });
  const paymentId = `pay_Iso${suffix}`;
  await recordCapturedPayment(env.DB, {
    tenantId: owner.tenantId,
    orderId,
    paymentId,
    amount: 49900,
    currency: "INR",
    method: "upi",
    credits: 100,
  });
  await insertOrder(env.DB, {
    id: `${orderId}b`,
    tenantId: owner.tenantId,
    packId: "inr-100",
    credits: 100,
    amount: 49900,
    currency: "INR",
    razorpayOrderId: `order_Iso${suffix}b`,
  });
  const subscriptionId = `sub_Iso${suffix}`;
  await upsertSubscription(env.DB, {
    id: subscriptionId,
    tenantId: owner.tenantId,
    status: "created",
    quantity: 1,
    amount: 49900,
    currency: "INR",
    currentEnd: null,
    at: Date.now(),
  });
  const inbound = await env.DB.prepare(
    `INSERT INTO messages (tenant_id, account_id, channel, direction, provider_message_id, sender_id, recipient_id, created_at)
     VALUES (?, ?, 'whatsapp', 'inbound', ?, '919800000000', ?, ?)`,
  )
    .bind(owner.tenantId, account.id, `wamid.iso${suffix}`, account.externalId, Date.now())
    .run();
  victim = {
    ref: String(inbound.meta.last_row_id),
    accountId: account.id,
    ruleId: "hours",
    approvalId,
    addressId,
    // The unpaid order: its checkout page is the owner's to open.
    orderId: `${orderId}b`,
    paymentId,
    subscriptionId,
  };
});

describe("tenant isolation", () => {
  it("knows a value for every id in every route", () => {
    const routes = idRoutes();
    expect(routes.length).toBeGreaterThanOrEqual(10);
    for (const r of routes) expect(() => fill(r.path, victim)).not.toThrow();
  });

  it("answers 404 to every route given another tenant's ids, and changes nothing", async () => {
    const before = await snapshot(owner.tenantId);
    const sendsBefore = await graphAttempts(env.SANDBOX_URL);
    const answers: string[] = [];
    for (const r of idRoutes()) {
      const path = fill(r.path, victim);
      const res = r.method === "GET" ? await get(attacker, path) : await post(attacker, path, FIELDS);
      answers.push(`${r.method} ${r.path} → ${res.status}`);
      if (res.status === 404) expect(await res.text()).not.toContain("Open 9 to 5.");
    }
    expect(answers).toEqual(idRoutes().map((r) => `${r.method} ${r.path} → 404`));
    expect(await snapshot(owner.tenantId)).toBe(before);
    expect(await graphAttempts(env.SANDBOX_URL)).toBe(sendsBefore);
  });

  it("lets the owner reach the same routes (the ids are real)", async () => {
    const editor = await get(owner, fill("/admin/rules/:channel/:accountId", victim));
    expect(editor.status).toBe(200);
    expect(await editor.text()).toContain("Open 9 to 5.");
    expect((await get(owner, fill("/admin/rules/:channel/:accountId/rules/:ruleId", victim))).status).toBe(
      200,
    );
    expect(await (await get(owner, "/admin/approvals")).text()).toContain(victim.approvalId);
    expect((await get(owner, fill("/admin/billing/checkout/:orderId", victim))).status).toBe(200);
    expect((await get(owner, fill("/admin/billing/payments/:paymentId", victim))).status).toBe(200);
    expect(
      (await get(owner, fill("/admin/email/subscription/checkout/:subscriptionId", victim))).status,
    ).toBe(200);
  });

  it("answers 404 for ids that do not exist at all", async () => {
    const missing = {
      accountId: "acc_missing",
      ruleId: "missing",
      approvalId: "ap_missing",
      addressId: "fwd_missing",
      orderId: "ord_missing",
      paymentId: "pay_Missing0000001",
      subscriptionId: "sub_Missing0000001",
      ref: "999999999999",
    };
    for (const r of idRoutes()) {
      const path = fill(r.path, missing);
      const res = r.method === "GET" ? await get(owner, path) : await post(owner, path, FIELDS);
      expect(`${r.method} ${r.path} → ${res.status}`).toBe(`${r.method} ${r.path} → 404`);
    }
  });
});

describe("the operator binding stays in the operator panel", () => {
  /**
   * The OPERATOR binding writes to any tenant (suspend, grant, delete): only the /manage panel,
   * behind Cloudflare Access and its own guard stage, may name it. Its type declaration names it
   * without using it.
   */
  const ALLOWED = /^\.\.\/src\/(?:manage\/[^/]+\.ts|pipeline-binding\.d\.ts)$/;

  it("is named only by src/manage/* (and the binding's type declaration)", () => {
    const files = Object.keys(SOURCES);
    expect(files.length).toBeGreaterThan(20);
    const naming = files.filter((f) => /\bOPERATOR\b/.test(SOURCES[f]!)).sort();
    expect(naming.filter((f) => !ALLOWED.test(f))).toEqual([]);
    // The scan sees the panel's own uses, so an empty answer above is not a scan that saw nothing.
    expect(naming).toContain("../src/manage/tenants.ts");
    expect(naming).toContain("../src/manage/pricing.ts");
  });
});
