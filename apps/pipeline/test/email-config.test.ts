// Email configuration through the pipeline's RPC: subdomains provisioned at the (fake) Cloudflare
// API, forward addresses confirmed by a mailed link, routing rules saved and tested.
import { env } from "cloudflare:workers";
import { cloudflareState, injectCloudflareFault, sentEmails } from "@concierge/testing/sandbox-client";
import { describe, expect, it } from "vitest";
import { tenantApi } from "./helpers.ts";

const ZONE = "0000000000000000000000000000c0de";

async function newTenant(): Promise<string> {
  const r = await tenantApi.createTenant({ name: "Mail test" });
  if (!r.ok) throw new Error(r.error.message);
  return r.tenantId;
}

let n = 0;
function uniqueName(prefix = "shop"): string {
  n += 1;
  return `${prefix}${n}x${crypto.randomUUID().slice(0, 6)}`;
}

function expectOk<T extends { ok: boolean }>(r: T): asserts r is Extract<T, { ok: true }> {
  if (!r.ok) throw new Error(`expected ok, got ${JSON.stringify(r)}`);
}

async function verifyLink(address: string): Promise<string> {
  const mails = await sentEmails(env.SANDBOX_URL, address);
  expect(mails.length).toBeGreaterThan(0);
  const raw = mails.at(-1)!.raw.replace(/=\r?\n/g, "");
  const m = /https:\/\/dash\.test\/email\/verify\?token=([A-Za-z0-9_-]+)/.exec(raw);
  if (!m) throw new Error(`no verification link in:\n${raw}`);
  return decodeURIComponent(m[1]!);
}

describe("subdomain names", () => {
  const cases: [string, string, string | null][] = [
    ["lowercase letters", "acme", null],
    ["letters, digits and an inner hyphen", "chai-42", null],
    ["upper case is folded", "ACMEUPPER", null],
    ["too short", "ab", "invalid_name"],
    ["too long", "a".repeat(41), "invalid_name"],
    ["leading hyphen", "-acme", "invalid_name"],
    ["trailing hyphen", "acme-", "invalid_name"],
    ["double hyphen", "ac--me", "invalid_name"],
    ["punycode", "xn--80ak6aa92e", "invalid_name"],
    ["a dot", "ac.me", "invalid_name"],
    ["an underscore", "ac_me", "invalid_name"],
    ["non-ASCII", "café", "invalid_name"],
    ["reserved: postmaster", "postmaster", "reserved_name"],
    ["reserved: www", "www", "reserved_name"],
    ["reserved: no-reply", "no-reply", "reserved_name"],
    ["reserved: concierge", "concierge", "reserved_name"],
    ["reserved: admin", "ADMIN", "reserved_name"],
  ];
  for (const [title, name, code] of cases) {
    it(`${code ? "refuses" : "accepts"} ${title} (${JSON.stringify(name)})`, async () => {
      const tenantId = await newTenant();
      // Accepted names get a unique suffix so that repeated runs never collide globally.
      const input = code ? name : `${name}${uniqueName("z")}`.slice(0, 40);
      const r = await tenantApi.createEmailSubdomain(tenantId, input);
      if (code) {
        expect(r).toMatchObject({ ok: false, error: { code } });
        expect(await tenantApi.listEmailSubdomains(tenantId)).toEqual([]);
      } else {
        expectOk(r);
        expect(r.subdomain.name).toBe(input.toLowerCase());
        expect(r.subdomain.domain).toBe(`${input.toLowerCase()}.cncg.email`);
      }
    });
  }
});

describe("subdomains", () => {
  it("provisions Email Routing for the subdomain and a rule to the email-inbound Worker, then is active", async () => {
    const tenantId = await newTenant();
    const name = uniqueName();
    const r = await tenantApi.createEmailSubdomain(tenantId, name);
    expectOk(r);
    expect(r.subdomain).toMatchObject({ status: "active", statusError: null, domain: `${name}.cncg.email` });
    const cf = await cloudflareState(env.SANDBOX_URL);
    expect(cf.dns).toContain(`${ZONE}/${name}.cncg.email`);
    const rule = cf.rules.find((x) => x.id === r.subdomain.cfRuleId);
    expect(rule).toMatchObject({
      zoneId: ZONE,
      matchers: [{ type: "literal", field: "to", value: `*@${name}.cncg.email` }],
      actions: [{ type: "worker", value: ["email-inbound"] }],
    });
    // It is a channel account too, so reply rules, metadata and deletion work as for any channel.
    const account = await env.DB.prepare(
      "SELECT channel, external_id AS externalId, tenant_id AS tenantId FROM channel_accounts WHERE id = ?",
    )
      .bind(r.subdomain.accountId)
      .first();
    expect(account).toEqual({ channel: "email", externalId: `${name}.cncg.email`, tenantId });
  });

  it("refuses a name another tenant has with name_taken, and creates nothing", async () => {
    const [a, b] = [await newTenant(), await newTenant()];
    const name = uniqueName();
    expectOk(await tenantApi.createEmailSubdomain(a, name));
    const before = (await cloudflareState(env.SANDBOX_URL)).calls.length;
    const r = await tenantApi.createEmailSubdomain(b, name.toUpperCase());
    expect(r).toMatchObject({ ok: false, error: { code: "name_taken" } });
    expect(await tenantApi.listEmailSubdomains(b)).toEqual([]);
    expect((await cloudflareState(env.SANDBOX_URL)).calls.length).toBe(before);
  });

  it("stops at the tenant's quota (3 by default) and allows more once the operator raises it", async () => {
    const tenantId = await newTenant();
    for (let i = 0; i < 3; i++) expectOk(await tenantApi.createEmailSubdomain(tenantId, uniqueName()));
    const over = await tenantApi.createEmailSubdomain(tenantId, uniqueName());
    expect(over).toMatchObject({ ok: false, error: { code: "quota_reached" } });
    expect(await tenantApi.listEmailSubdomains(tenantId)).toHaveLength(3);
    await env.DB.prepare("UPDATE tenants SET email_subdomain_quota = 4 WHERE id = ?").bind(tenantId).run();
    expectOk(await tenantApi.createEmailSubdomain(tenantId, uniqueName()));
    expect(await tenantApi.listEmailSubdomains(tenantId)).toHaveLength(4);
  });

  it("shows a Cloudflare refusal as failed with the reason, and Retry makes it active", async () => {
    const tenantId = await newTenant();
    await injectCloudflareFault(env.SANDBOX_URL, {
      op: "rule_create",
      status: 400,
      code: 2008,
      message: "Too many rules in this zone",
    });
    const r = await tenantApi.createEmailSubdomain(tenantId, uniqueName());
    expectOk(r);
    expect(r.subdomain.status).toBe("failed");
    expect(r.subdomain.statusError).toBe("rule (2008): Too many rules in this zone");
    const [listed] = await tenantApi.listEmailSubdomains(tenantId);
    expect(listed).toMatchObject({ status: "failed", cfRuleId: null });

    const retried = await tenantApi.retryEmailSubdomain(tenantId, r.subdomain.accountId);
    expectOk(retried);
    expect(retried.subdomain).toMatchObject({ status: "active", statusError: null });
    expect(retried.subdomain.cfRuleId).toBeTruthy();
  });

  it("fails with the reason when Email Routing cannot be enabled on the subdomain", async () => {
    const tenantId = await newTenant();
    await injectCloudflareFault(env.SANDBOX_URL, {
      op: "dns",
      status: 403,
      code: 10000,
      message: "Authentication error",
    });
    const r = await tenantApi.createEmailSubdomain(tenantId, uniqueName());
    expectOk(r);
    expect(r.subdomain).toMatchObject({ status: "failed", statusError: "dns (10000): Authentication error" });
  });

  it("deletes the Cloudflare rule first, then the subdomain and its channel account", async () => {
    const tenantId = await newTenant();
    const created = await tenantApi.createEmailSubdomain(tenantId, uniqueName());
    expectOk(created);
    const { accountId, cfRuleId } = created.subdomain;
    expectOk(await tenantApi.deleteEmailSubdomain(tenantId, accountId));
    const cf = await cloudflareState(env.SANDBOX_URL);
    expect(cf.calls.filter((c) => c.op === "rule_delete").map((c) => c.body)).toContainEqual({
      id: cfRuleId,
    });
    expect(cf.rules.find((x) => x.id === cfRuleId)).toBeUndefined();
    expect(await tenantApi.listEmailSubdomains(tenantId)).toEqual([]);
    expect(
      await env.DB.prepare("SELECT 1 FROM channel_accounts WHERE id = ?").bind(accountId).first(),
    ).toBeNull();
  });

  it("removes the Cloudflare rule when the account is removed from the channels page too", async () => {
    const tenantId = await newTenant();
    const created = await tenantApi.createEmailSubdomain(tenantId, uniqueName());
    expectOk(created);
    const { accountId, cfRuleId } = created.subdomain;
    expectOk(await tenantApi.disconnectAccount(tenantId, accountId));
    const cf = await cloudflareState(env.SANDBOX_URL);
    expect(cf.rules.find((x) => x.id === cfRuleId)).toBeUndefined();
    expect(await tenantApi.listEmailSubdomains(tenantId)).toEqual([]);
  });

  it("removes the tenant's Cloudflare rules when the tenant is deleted", async () => {
    const tenantId = await newTenant();
    const created = await tenantApi.createEmailSubdomain(tenantId, uniqueName());
    expectOk(created);
    const { cfRuleId } = created.subdomain;
    expectOk(await tenantApi.deleteTenant(tenantId));
    const cf = await cloudflareState(env.SANDBOX_URL);
    expect(cf.calls.filter((c) => c.op === "rule_delete").map((c) => c.body)).toContainEqual({
      id: cfRuleId,
    });
    expect(cf.rules.find((x) => x.id === cfRuleId)).toBeUndefined();
  });

  it("keeps everything when Cloudflare refuses the deletion, so the tenant can try again", async () => {
    const tenantId = await newTenant();
    const created = await tenantApi.createEmailSubdomain(tenantId, uniqueName());
    expectOk(created);
    await injectCloudflareFault(env.SANDBOX_URL, {
      op: "rule_delete",
      status: 500,
      code: 10001,
      message: "Internal error",
    });
    const r = await tenantApi.deleteEmailSubdomain(tenantId, created.subdomain.accountId);
    expect(r).toMatchObject({ ok: false, error: { code: "cloudflare_failed" } });
    expect(await tenantApi.listEmailSubdomains(tenantId)).toHaveLength(1);
    expectOk(await tenantApi.deleteEmailSubdomain(tenantId, created.subdomain.accountId));
  });

  it("treats another tenant's subdomain as not found for retry, delete and routing", async () => {
    const [owner, other] = [await newTenant(), await newTenant()];
    const created = await tenantApi.createEmailSubdomain(owner, uniqueName());
    expectOk(created);
    const id = created.subdomain.accountId;
    for (const r of [
      await tenantApi.retryEmailSubdomain(other, id),
      await tenantApi.deleteEmailSubdomain(other, id),
      await tenantApi.getEmailRouting(other, id),
      await tenantApi.saveEmailRouting(other, id, { rules: [], defaultAction: { kind: "drop" } }, 1),
      await tenantApi.testEmailRouting(other, id, {
        from: "a@b.co",
        to: "x@y.co",
        subject: "",
        body: "",
        hasAttachment: false,
      }),
    ]) {
      expect(r).toMatchObject({ ok: false, error: { code: "not_found" } });
    }
    expect(await tenantApi.listEmailSubdomains(owner)).toHaveLength(1);
  });
});

describe("forward addresses", () => {
  it("mails a verification link; the link confirms the address once", async () => {
    const tenantId = await newTenant();
    const address = `Owner-${crypto.randomUUID().slice(0, 8)}@Example.com`;
    const added = await tenantApi.addForwardAddress(tenantId, address);
    expectOk(added);
    expect(added.address).toMatchObject({ address: address.toLowerCase(), verifiedAt: null });
    const token = await verifyLink(address.toLowerCase());
    // Only the hash is stored.
    const row = await env.DB.prepare("SELECT token_hash AS h FROM email_forward_addresses WHERE id = ?")
      .bind(added.address.id)
      .first<{ h: string }>();
    expect(row!.h).toMatch(/^[0-9a-f]{64}$/);
    expect(row!.h).not.toBe(token);

    expect(await tenantApi.verifyForwardAddress(token)).toEqual({
      ok: true,
      status: "verified",
      address: address.toLowerCase(),
    });
    expect(await tenantApi.verifyForwardAddress(token)).toEqual({ ok: true, status: "invalid" });
    const [listed] = await tenantApi.listForwardAddresses(tenantId);
    expect(listed!.verifiedAt).toBeTypeOf("number");
  });

  it("refuses an expired link and a resent link replaces the old one", async () => {
    const tenantId = await newTenant();
    const address = `late-${crypto.randomUUID().slice(0, 8)}@example.com`;
    const added = await tenantApi.addForwardAddress(tenantId, address);
    expectOk(added);
    const first = await verifyLink(address);
    await env.DB.prepare("UPDATE email_forward_addresses SET token_expires_at = ? WHERE id = ?")
      .bind(Date.now() - 1, added.address.id)
      .run();
    expect(await tenantApi.verifyForwardAddress(first)).toEqual({ ok: true, status: "expired" });

    expectOk(await tenantApi.resendForwardVerification(tenantId, added.address.id));
    const second = await verifyLink(address);
    expect(second).not.toBe(first);
    expect(await tenantApi.verifyForwardAddress(first)).toEqual({ ok: true, status: "invalid" });
    expect(await tenantApi.verifyForwardAddress(second)).toMatchObject({ status: "verified" });
  });

  it("refuses a malformed address, a duplicate, and more than 10", async () => {
    const tenantId = await newTenant();
    expect(await tenantApi.addForwardAddress(tenantId, "not an address")).toMatchObject({
      ok: false,
      error: { code: "invalid_email" },
    });
    expect(await tenantApi.addForwardAddress(tenantId, "a@b.co\r\nBcc: x@y.co")).toMatchObject({
      ok: false,
      error: { code: "invalid_email" },
    });
    const tag = crypto.randomUUID().slice(0, 6);
    expectOk(await tenantApi.addForwardAddress(tenantId, `p0-${tag}@example.com`));
    expect(await tenantApi.addForwardAddress(tenantId, `P0-${tag}@Example.com`)).toMatchObject({
      ok: false,
      error: { code: "address_exists" },
    });
    for (let i = 1; i < 10; i++)
      expectOk(await tenantApi.addForwardAddress(tenantId, `p${i}-${tag}@example.com`));
    expect(await tenantApi.addForwardAddress(tenantId, `p10-${tag}@example.com`)).toMatchObject({
      ok: false,
      error: { code: "limit_reached" },
    });
  });

  it("mails at most 20 confirmation links a day per tenant, adds and resends together; past that nothing is added or sent", async () => {
    const tenantId = await newTenant();
    const tag = crypto.randomUUID().slice(0, 6);
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const added = await tenantApi.addForwardAddress(tenantId, `v${i}-${tag}@example.com`);
      expectOk(added);
      ids.push(added.address.id);
    }
    // Refusals for a duplicate or the 11th address take no link of the day.
    expect(await tenantApi.addForwardAddress(tenantId, `v0-${tag}@example.com`)).toMatchObject({
      error: { code: "address_exists" },
    });
    for (const id of ids) expectOk(await tenantApi.resendForwardVerification(tenantId, id));
    // The 21st link of the day: refused, nothing sent.
    expect(await tenantApi.resendForwardVerification(tenantId, ids[0]!)).toMatchObject({
      ok: false,
      error: { code: "daily_limit" },
    });
    expect(await sentEmails(env.SANDBOX_URL, `v0-${tag}@example.com`)).toHaveLength(2);
    expectOk(await tenantApi.deleteForwardAddress(tenantId, ids[9]!));
    expect(await tenantApi.addForwardAddress(tenantId, `w-${tag}@example.com`)).toMatchObject({
      ok: false,
      error: { code: "daily_limit" },
    });
    expect(await sentEmails(env.SANDBOX_URL, `w-${tag}@example.com`)).toHaveLength(0);
    expect((await tenantApi.listForwardAddresses(tenantId)).map((a) => a.address)).not.toContain(
      `w-${tag}@example.com`,
    );
    // Another tenant's day is its own.
    expectOk(await tenantApi.addForwardAddress(await newTenant(), `x-${tag}@example.com`));
  });

  it("refuses to delete an address a routing rule forwards to, and deletes it once unused", async () => {
    const tenantId = await newTenant();
    const sub = await tenantApi.createEmailSubdomain(tenantId, uniqueName());
    expectOk(sub);
    const address = `fw-${crypto.randomUUID().slice(0, 8)}@example.com`;
    const added = await tenantApi.addForwardAddress(tenantId, address);
    expectOk(added);
    await tenantApi.verifyForwardAddress(await verifyLink(address));
    const routing = {
      rules: [
        {
          id: "r1",
          name: "Invoices",
          priority: 1,
          when: { subject: "*invoice*" },
          action: { kind: "forward", addressId: added.address.id },
        },
      ],
      defaultAction: { kind: "relay" },
    };
    expectOk(await tenantApi.saveEmailRouting(tenantId, sub.subdomain.accountId, routing, 1));
    const refused = await tenantApi.deleteForwardAddress(tenantId, added.address.id);
    expect(refused).toMatchObject({ ok: false, error: { code: "address_in_use" } });
    expect(await tenantApi.listForwardAddresses(tenantId)).toHaveLength(1);

    expectOk(
      await tenantApi.saveEmailRouting(
        tenantId,
        sub.subdomain.accountId,
        { rules: [], defaultAction: { kind: "relay" } },
        2,
      ),
    );
    expectOk(await tenantApi.deleteForwardAddress(tenantId, added.address.id));
    expect(await tenantApi.listForwardAddresses(tenantId)).toEqual([]);
  });
});

describe("routing rules", () => {
  async function subdomainWithVerifiedAddress() {
    const tenantId = await newTenant();
    const sub = await tenantApi.createEmailSubdomain(tenantId, uniqueName());
    expectOk(sub);
    const address = `team-${crypto.randomUUID().slice(0, 8)}@example.com`;
    const added = await tenantApi.addForwardAddress(tenantId, address);
    expectOk(added);
    await tenantApi.verifyForwardAddress(await verifyLink(address));
    return {
      tenantId,
      accountId: sub.subdomain.accountId,
      domain: sub.subdomain.domain,
      addressId: added.address.id,
    };
  }

  it("starts with relay as the default and saves with a version that refuses a stale edit", async () => {
    const { tenantId, accountId } = await subdomainWithVerifiedAddress();
    const got = await tenantApi.getEmailRouting(tenantId, accountId);
    expectOk(got);
    expect(got).toMatchObject({ routing: { rules: [], defaultAction: { kind: "relay" } }, version: 1 });
    const saved = await tenantApi.saveEmailRouting(
      tenantId,
      accountId,
      { rules: [], defaultAction: { kind: "drop" } },
      1,
    );
    expectOk(saved);
    expect(saved.version).toBe(2);
    const stale = await tenantApi.saveEmailRouting(
      tenantId,
      accountId,
      { rules: [], defaultAction: { kind: "relay" } },
      1,
    );
    expect(stale).toMatchObject({ ok: false, error: { code: "stale" } });
    const now = await tenantApi.getEmailRouting(tenantId, accountId);
    expectOk(now);
    expect(now).toMatchObject({ routing: { defaultAction: { kind: "drop" } }, version: 2 });
  });

  it("refuses invalid rules and forwarding to an address that is not confirmed", async () => {
    const { tenantId, accountId } = await subdomainWithVerifiedAddress();
    const pending = await tenantApi.addForwardAddress(
      tenantId,
      `pending-${crypto.randomUUID().slice(0, 8)}@example.com`,
    );
    expectOk(pending);
    const bad = await tenantApi.saveEmailRouting(
      tenantId,
      accountId,
      {
        rules: [{ id: "x", priority: 1, when: {}, action: { kind: "drop" } }],
        defaultAction: { kind: "relay" },
      },
      1,
    );
    expect(bad).toMatchObject({ ok: false, error: { code: "invalid_routing" } });
    const unverified = await tenantApi.saveEmailRouting(
      tenantId,
      accountId,
      { rules: [], defaultAction: { kind: "forward", addressId: pending.address.id } },
      1,
    );
    expect(unverified).toMatchObject({ ok: false, error: { code: "unverified_address" } });
    const got = await tenantApi.getEmailRouting(tenantId, accountId);
    expectOk(got);
    expect(got.version).toBe(1);
  });

  it("tests a message: the last matching rule by priority wins, else the default", async () => {
    const { tenantId, accountId, domain, addressId } = await subdomainWithVerifiedAddress();
    const routing = {
      rules: [
        // Listed out of order on purpose: priority, not list position, decides.
        {
          id: "vip",
          name: "VIP invoices",
          priority: 20,
          when: { from: "*@vip.example", subject: "*invoice*" },
          action: { kind: "forward", addressId },
        },
        {
          id: "invoices",
          name: "Invoices",
          priority: 10,
          when: { subject: "*invoice*" },
          action: { kind: "reject", reason: "Send invoices to billing" },
        },
      ],
      defaultAction: { kind: "relay" },
    };
    expectOk(await tenantApi.saveEmailRouting(tenantId, accountId, routing, 1));
    const facts = { to: `hello@${domain}`, body: "", hasAttachment: false };
    const vip = await tenantApi.testEmailRouting(tenantId, accountId, {
      ...facts,
      from: "boss@vip.example",
      subject: "Your INVOICE",
    });
    expectOk(vip);
    expect(vip.rule?.id).toBe("vip");
    expect(vip.action).toEqual({ kind: "forward", addressId });
    const plain = await tenantApi.testEmailRouting(tenantId, accountId, {
      ...facts,
      from: "a@shop.example",
      subject: "invoice 7",
    });
    expectOk(plain);
    expect(plain.rule?.id).toBe("invoices");
    const none = await tenantApi.testEmailRouting(tenantId, accountId, {
      ...facts,
      from: "a@shop.example",
      subject: "hello",
    });
    expectOk(none);
    expect(none.rule).toBeNull();
    expect(none.action).toEqual({ kind: "relay" });

    const raw = [
      "From: Boss <boss@vip.example>",
      `To: sales@${domain}`,
      "Subject: March invoice",
      "Message-ID: <t1@vip.example>",
      "Content-Type: text/plain; charset=utf-8",
      "",
      "Please pay.",
      "",
    ].join("\r\n");
    const pasted = await tenantApi.testEmailRouting(tenantId, accountId, { raw });
    expectOk(pasted);
    expect(pasted.rule?.id).toBe("vip");
    expect(pasted.facts).toMatchObject({
      from: "boss@vip.example",
      to: `sales@${domain}`,
      subject: "March invoice",
    });
  });

  it("refuses a pasted email over 1 MiB before parsing it", async () => {
    const { tenantId, accountId } = await subdomainWithVerifiedAddress();
    const raw = `Subject: big\r\n\r\n${"x".repeat(1024 * 1024)}`;
    expect(await tenantApi.testEmailRouting(tenantId, accountId, { raw })).toMatchObject({
      ok: false,
      error: { code: "too_large" },
    });
  });
});
