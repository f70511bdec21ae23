// The email pages through HTTP: subdomains (provisioned at the sandbox's Cloudflare API), forward
// addresses confirmed through the link in the sandbox outbox, and the routing editor with its
// test panel.
import { env } from "cloudflare:workers";
import { translator } from "@concierge/i18n";
import { getTenantSettings } from "@concierge/storage";
import { cloudflareState, injectCloudflareFault, sentEmails } from "@concierge/testing/sandbox-client";
import { describe, expect, it } from "vitest";
import { type TestSession, app, get, post, signIn } from "./helpers.ts";

let n = 0;
function uniqueName(): string {
  n += 1;
  return `shop${n}x${crypto.randomUUID().slice(0, 8)}`;
}

type Row = {
  accountId: string;
  status: string;
  cfRuleId: string | null;
  routingJson: string;
  version: number;
};

async function subdomainRow(name: string): Promise<Row | null> {
  return env.DB.prepare(
    `SELECT account_id AS accountId, status, cf_rule_id AS cfRuleId, routing_json AS routingJson,
            routing_version AS version FROM email_subdomains WHERE name = ?`,
  )
    .bind(name)
    .first<Row>();
}

async function createSubdomain(s: TestSession, name = uniqueName()): Promise<Row & { name: string }> {
  const res = await post(s, "/admin/email", { name });
  expect(res.status).toBe(303);
  return { ...(await subdomainRow(name))!, name };
}

/** Opens the mailed link and presses its Confirm button (a POST of the link's token). */
function confirmLink(path: string): Promise<Response> {
  const token = new URL(path, "https://dash.test").searchParams.get("token") ?? "";
  return app("/email/verify", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token }).toString(),
  });
}

/** Adds an address and follows the link the pipeline mailed, as its owner would. */
async function confirmedAddress(s: TestSession): Promise<{ id: string; address: string }> {
  const address = `team-${crypto.randomUUID().slice(0, 8)}@example.com`;
  expect((await post(s, "/admin/email/addresses", { address })).status).toBe(303);
  const res = await confirmLink(await linkPath(address));
  expect(res.status).toBe(200);
  const row = await env.DB.prepare("SELECT id FROM email_forward_addresses WHERE address = ?")
    .bind(address)
    .first<{ id: string }>();
  return { id: row!.id, address };
}

async function linkPath(address: string): Promise<string> {
  const mails = await sentEmails(env.SANDBOX_URL, address);
  expect(mails).toHaveLength(1);
  const raw = mails[0]!.raw.replace(/=\r?\n/g, "");
  const m = /https:\/\/dash\.test(\/email\/verify\?token=[A-Za-z0-9_-]+)/.exec(raw);
  if (!m) throw new Error(`no verification link in:\n${raw}`);
  return m[1]!;
}

describe("email subdomains page", () => {
  it("sends signed-out visitors to sign in", async () => {
    const res = await get(null, "/admin/email");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toContain("/sign-in");
  });

  it("refuses a create without the CSRF token, and creates nothing", async () => {
    const s = await signIn();
    const name = uniqueName();
    expect((await post(s, "/admin/email", { name }, { csrf: false })).status).toBe(403);
    expect(await subdomainRow(name)).toBeNull();
  });

  it("creates a subdomain, provisions it at Cloudflare and shows it receiving mail", async () => {
    const s = await signIn();
    const created = await createSubdomain(s);
    expect(created.status).toBe("active");
    const cf = await cloudflareState(env.SANDBOX_URL);
    expect(cf.rules.find((r) => r.id === created.cfRuleId)?.matchers).toEqual([
      { type: "literal", field: "to", value: `*@${created.name}.cncg.email` },
    ]);
    const page = await (await get(s, "/admin/email")).text();
    expect(page).toContain(`*@${created.name}.cncg.email`);
    expect(page).toContain("Receiving mail");
    expect(page).toContain("1 of 3 subdomains used.");
    // A subdomain is a channel account: its reply rules (used by auto-reply) are edited like every other account's.
    expect(await (await get(s, "/admin/rules")).text()).toContain(`${created.name}.cncg.email`);
    expect((await get(s, `/admin/rules/email/${created.accountId}`)).status).toBe(200);
  });

  it("answers 422 with the reason next to the field for a bad, reserved or taken name", async () => {
    const s = await signIn();
    const cases: [string, string][] = [
      ["a--b", "Use 3 to 40 lowercase letters"],
      ["postmaster", "That name is reserved."],
      [(await createSubdomain(await signIn())).name, "That name is already taken."],
    ];
    for (const [name, text] of cases) {
      const res = await post(s, "/admin/email", { name });
      expect(res.status).toBe(422);
      const body = await res.text();
      expect(body).toContain(text);
      expect(body).toContain(`value="${name}"`);
    }
    const count = await env.DB.prepare("SELECT COUNT(*) AS n FROM email_subdomains WHERE tenant_id = ?")
      .bind(s.tenantId)
      .first<{ n: number }>();
    expect(count!.n).toBe(0);
  });

  it("shows a Cloudflare failure with its reason in the tenant's language and a Retry that makes it active", async () => {
    const s = await signIn();
    await injectCloudflareFault(env.SANDBOX_URL, {
      op: "dns",
      status: 400,
      code: 1004,
      message: "DNS Validation Error",
    });
    const name = uniqueName();
    const res = await post(s, "/admin/email", { name });
    expect(res.headers.get("location")).toContain("done=created-failed");
    const page = await (await get(s, "/admin/email")).text();
    expect(page).toContain("Setup failed");
    // Worded from the step and Cloudflare's number in Fluent, never Cloudflare's English words.
    const t = translator((await getTenantSettings(env.DB, s.tenantId))!.locale);
    expect(page).toContain(t("email-setup-failed", { step: "dns", code: "1004" }));
    expect(page).not.toContain("DNS Validation Error");
    const row = (await subdomainRow(name))!;
    expect(row.status).toBe("failed");
    expect((await post(s, `/admin/email/${row.accountId}/retry`)).status).toBe(303);
    expect((await subdomainRow(name))!.status).toBe("active");
  });

  it("deletes a subdomain: the Cloudflare rule, then the rows", async () => {
    const s = await signIn();
    const created = await createSubdomain(s);
    expect((await post(s, `/admin/email/${created.accountId}/delete`)).status).toBe(303);
    expect(await subdomainRow(created.name)).toBeNull();
    expect((await cloudflareState(env.SANDBOX_URL)).rules.some((r) => r.id === created.cfRuleId)).toBe(false);
    expect(
      await env.DB.prepare("SELECT 1 FROM channel_accounts WHERE id = ?").bind(created.accountId).first(),
    ).toBeNull();
  });
});

describe("forward addresses", () => {
  it("mails a confirmation link that works once, from the public verify page", async () => {
    const s = await signIn();
    const address = `owner-${crypto.randomUUID().slice(0, 8)}@example.com`;
    const added = await post(s, "/admin/email/addresses", { address });
    expect(added.headers.get("location")).toContain("done=added");
    expect(await (await get(s, "/admin/email/addresses")).text()).toContain("Waiting for confirmation");

    const path = await linkPath(address);
    // Opened in whatever browser the mail was read in: no session needed. Opening the link (as a
    // mail scanner does) only asks; the button confirms.
    const opened = await app(path);
    expect(opened.status).toBe(200);
    expect(await opened.text()).toContain("Confirm the address");
    expect(await (await get(s, "/admin/email/addresses")).text()).toContain("Waiting for confirmation");
    const confirm = () => confirmLink(path);
    const first = await confirm();
    expect(first.status).toBe(200);
    expect(await first.text()).toContain(`${address} can now receive mail forwarded`);
    const again = await confirm();
    expect(again.status).toBe(404);
    expect(await again.text()).toContain("not valid or was already used");
    expect(await (await get(s, "/admin/email/addresses")).text()).toContain("Confirmed");
  });

  it("says so when the link expired", async () => {
    const s = await signIn();
    const address = `late-${crypto.randomUUID().slice(0, 8)}@example.com`;
    await post(s, "/admin/email/addresses", { address });
    await env.DB.prepare("UPDATE email_forward_addresses SET token_expires_at = 1 WHERE address = ?")
      .bind(address)
      .run();
    const res = await confirmLink(await linkPath(address));
    expect(res.status).toBe(410);
    expect(await res.text()).toContain("older than 7 days");
  });

  it("answers 422 for a malformed address and saves nothing", async () => {
    const s = await signIn();
    const res = await post(s, "/admin/email/addresses", { address: "nobody at example" });
    expect(res.status).toBe(422);
    expect(await res.text()).toContain("Give a plain email address");
    const rows = await env.DB.prepare("SELECT COUNT(*) AS n FROM email_forward_addresses WHERE tenant_id = ?")
      .bind(s.tenantId)
      .first<{ n: number }>();
    expect(rows!.n).toBe(0);
  });
});

describe("routing editor", () => {
  const VIP = {
    name: "VIP invoices",
    priority: "20",
    from: "*@vip.example",
    subject: "*invoice*",
    attachment: "any",
  };
  const INVOICES = {
    name: "Invoices",
    priority: "10",
    subject: "*invoice*",
    attachment: "any",
    action: "reject",
    reason: "Send invoices to billing@shop.example",
  };

  it("adds rules, lists them in priority order, and the test panel shows the last match winning", async () => {
    const s = await signIn();
    const sub = await createSubdomain(s);
    const addr = await confirmedAddress(s);
    const base = `/admin/email/${sub.accountId}/routing`;
    // The narrow rule first, the broad one after: the order shown follows priority, not entry.
    let res = await post(s, `${base}/rules`, { version: 1, ...VIP, action: "forward", addressId: addr.id });
    expect(res.status).toBe(303);
    res = await post(s, `${base}/rules`, { version: 2, ...INVOICES });
    expect(res.status).toBe(303);

    const page = await (await get(s, base)).text();
    expect(page).toContain("the last rule that matches wins");
    expect(page.indexOf("Invoices</strong>")).toBeLessThan(page.indexOf("VIP invoices</strong>"));
    expect(page).toContain(`Forward to ${addr.address}`);

    const stored = JSON.parse((await subdomainRow(sub.name))!.routingJson);
    expect(stored.rules.map((r: { name: string; priority: number }) => [r.name, r.priority])).toEqual([
      ["VIP invoices", 20],
      ["Invoices", 10],
    ]);

    const facts = { to: `sales@${sub.name}.cncg.email`, body: "" };
    const vip = await (
      await post(s, `${base}/test`, { ...facts, from: "boss@vip.example", subject: "March INVOICE" })
    ).text();
    expect(vip).toContain("Rule “VIP invoices” wins (priority 20).");
    expect(vip).toContain(`Action: Forward to ${addr.address}`);
    const other = await (
      await post(s, `${base}/test`, { ...facts, from: "a@shop.example", subject: "invoice 7" })
    ).text();
    expect(other).toContain("Rule “Invoices” wins (priority 10).");
    const none = await (
      await post(s, `${base}/test`, { ...facts, from: "a@shop.example", subject: "hi" })
    ).text();
    expect(none).toContain("No rule matches: the default action applies.");
    expect(none).toContain("Action: Send to a person (the Discord inbox, or the live inbox without Discord)");

    const raw = [
      "From: Boss <boss@vip.example>",
      `To: sales@${sub.name}.cncg.email`,
      "Subject: Your invoice",
      "Message-ID: <x1@vip.example>",
      "",
      "Attached.",
      "",
    ].join("\r\n");
    const pasted = await (await post(s, `${base}/test`, { raw })).text();
    expect(pasted).toContain("Rule “VIP invoices” wins (priority 20).");
  });

  it("answers 422 for a rule without conditions or forwarding to an unconfirmed address, saving nothing", async () => {
    const s = await signIn();
    const sub = await createSubdomain(s);
    await post(s, "/admin/email/addresses", {
      address: `pending-${crypto.randomUUID().slice(0, 8)}@example.com`,
    });
    const pending = await env.DB.prepare("SELECT id FROM email_forward_addresses WHERE tenant_id = ?")
      .bind(s.tenantId)
      .first<{ id: string }>();
    const base = `/admin/email/${sub.accountId}/routing`;
    const empty = await post(s, `${base}/rules`, {
      version: 1,
      name: "All",
      priority: "1",
      attachment: "any",
      action: "drop",
    });
    expect(empty.status).toBe(422);
    expect(await empty.text()).toContain("A rule needs at least one condition.");
    const unconfirmed = await post(s, `${base}/rules`, {
      version: 1,
      name: "Fw",
      priority: "1",
      subject: "*",
      attachment: "any",
      action: "forward",
      addressId: pending!.id,
    });
    expect(unconfirmed.status).toBe(422);
    expect(await unconfirmed.text()).toContain("Choose one of your confirmed forwarding addresses.");
    // The forward target list offers confirmed addresses only.
    expect(await (await get(s, base)).text()).toContain("No confirmed forwarding addresses yet");
    expect((await subdomainRow(sub.name))!.version).toBe(1);
  });

  it("moves, edits and deletes rules, sets the default action, and refuses a stale form with 409", async () => {
    const s = await signIn();
    const sub = await createSubdomain(s);
    const base = `/admin/email/${sub.accountId}/routing`;
    await post(s, `${base}/rules`, { version: 1, ...INVOICES });
    await post(s, `${base}/rules`, {
      version: 2,
      name: "Newsletters",
      priority: "30",
      from: "*@news.*",
      attachment: "any",
      action: "drop",
    });
    const ids = () =>
      subdomainRow(sub.name).then((r) =>
        (JSON.parse(r!.routingJson).rules as { id: string; name: string; priority: number }[])
          .sort((a, b) => a.priority - b.priority)
          .map((x) => x.name),
      );
    expect(await ids()).toEqual(["Invoices", "Newsletters"]);
    const newsId = JSON.parse((await subdomainRow(sub.name))!.routingJson).rules[1].id as string;

    expect((await post(s, `${base}/rules/${newsId}/move`, { version: 3, direction: "up" })).status).toBe(303);
    expect(await ids()).toEqual(["Newsletters", "Invoices"]);

    const stale = await post(s, `${base}/rules/${newsId}/move`, { version: 3, direction: "down" });
    expect(stale.status).toBe(409);
    expect(await stale.text()).toContain("Someone changed these rules");
    expect(await ids()).toEqual(["Newsletters", "Invoices"]);

    expect((await get(s, `${base}/rules/${newsId}`)).status).toBe(200);
    const edited = await post(s, `${base}/rules/${newsId}`, {
      version: 4,
      name: "Lists",
      priority: "5",
      from: "*@lists.*",
      attachment: "no",
      action: "drop",
    });
    expect(edited.status).toBe(303);
    expect(await ids()).toEqual(["Lists", "Invoices"]);

    const reject = await post(s, `${base}/default`, {
      version: 5,
      action: "reject",
      reason: "No such mailbox",
    });
    expect(reject.status).toBe(303);
    expect(JSON.parse((await subdomainRow(sub.name))!.routingJson).defaultAction).toEqual({
      kind: "reject",
      reason: "No such mailbox",
    });

    expect((await post(s, `${base}/rules/${newsId}/delete`, { version: 6 })).status).toBe(303);
    expect(await ids()).toEqual(["Invoices"]);
  });

  it("answers 404 for another tenant's subdomain, rule and address", async () => {
    const [owner, other] = [await signIn(), await signIn()];
    const sub = await createSubdomain(owner);
    await post(owner, `/admin/email/${sub.accountId}/routing/rules`, { version: 1, ...INVOICES });
    const ruleId = JSON.parse((await subdomainRow(sub.name))!.routingJson).rules[0].id as string;
    const addr = await confirmedAddress(owner);
    expect((await get(other, `/admin/email/${sub.accountId}/routing`)).status).toBe(404);
    expect((await get(other, `/admin/email/${sub.accountId}/routing/rules/${ruleId}`)).status).toBe(404);
    expect((await post(other, `/admin/email/${sub.accountId}/delete`)).status).toBe(404);
    expect((await post(other, `/admin/email/addresses/${addr.id}/delete`)).status).toBe(404);
    expect((await subdomainRow(sub.name))!.status).toBe("active");
  });
});
