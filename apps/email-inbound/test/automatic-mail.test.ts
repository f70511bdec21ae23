// Issue 17, items 1, 4 and 15, through the real email() entry point: automatic mail (auto-replies
// and forwards) goes only to senders Cloudflare authenticated, at most the daily cap per tenant,
// never round a loop, and a forward is sent at most once.
import { env } from "cloudflare:workers";
import { sentEmails } from "@concierge/testing/sandbox-client";
import { describe, expect, it } from "vitest";
import {
  type Subdomain,
  deliver,
  discordInbox,
  mail,
  mailTo,
  postedTo,
  seedSubdomain,
  settle,
  settledRow,
  unique,
} from "./helpers.ts";

const autoReplyAll = { rules: [], defaultAction: { kind: "auto_reply" as const } };

/** A tenant of its own (the cap is per tenant) with a Discord inbox, so relayed mail shows there. */
async function newTenant(name: string): Promise<string> {
  const created = await env.PIPELINE_TENANT.createTenant({ name });
  if (!created.ok) throw new Error(created.error.message);
  await discordInbox(created.tenantId);
  return created.tenantId;
}

/** A subdomain whose default action forwards to `address` (verified). */
async function forwarding(tenantId: string, address: string): Promise<Subdomain> {
  const sd = await seedSubdomain({
    routing: { rules: [], defaultAction: { kind: "forward", addressId: "placeholder" } },
    forward: { to: address },
    tenantId,
  });
  await env.DB.prepare("UPDATE email_subdomains SET routing_json = ? WHERE account_id = ?")
    .bind(
      JSON.stringify({ rules: [], defaultAction: { kind: "forward", addressId: sd.forwardIds.to } }),
      sd.accountId,
    )
    .run();
  return sd;
}

const today = () => new Date().toISOString().slice(0, 10);

describe("auto-replies only to authenticated senders (item 1)", () => {
  it("five forged senders get no auto-reply, and the inbox relay still shows each mail", async () => {
    const tenantId = await newTenant("Forged senders");
    const sd = await seedSubdomain({ routing: autoReplyAll, tenantId });
    const channel = await discordInbox(tenantId);
    const to = `hello@${sd.domain}`;
    const victim = () => `${unique("victim")}@bank.example`;
    // Each one the way an attacker would try it.
    const forged: { from: string; raw: (from: string) => string; cloudflare: "fail" | "none" }[] = [
      // Cloudflare's SPF check failed for the forged envelope sender.
      { from: victim(), raw: (from) => mail({ from, to }).raw, cloudflare: "fail" },
      // No Cloudflare verdict at all.
      { from: victim(), raw: (from) => mail({ from, to }).raw, cloudflare: "none" },
      // A forged "mx.cloudflare.net" pass written by the sender, under Cloudflare's real fail.
      {
        from: victim(),
        raw: (from) =>
          mail({
            from,
            to,
            headers: {
              "ARC-Authentication-Results": `i=1; mx.cloudflare.net; spf=pass smtp.mailfrom=${from}; dmarc=pass header.from=bank.example`,
            },
          }).raw,
        cloudflare: "fail",
      },
      // A real pass, but for the attacker's own domain (not the envelope sender's).
      {
        from: victim(),
        raw: (from) =>
          `ARC-Authentication-Results: i=1; mx.cloudflare.net; dkim=pass header.d=attacker.example; spf=pass smtp.mailfrom=x@attacker.example\r\n${mail({ from, to }).raw}`,
        cloudflare: "none",
      },
      // A plain Authentication-Results claiming Cloudflare's pass (not the ARC results Cloudflare adds).
      {
        from: victim(),
        raw: (from) =>
          `Authentication-Results: mx.cloudflare.net; spf=pass smtp.mailfrom=${from}\r\n${mail({ from, to }).raw}`,
        cloudflare: "none",
      },
    ];
    const ids: string[] = [];
    for (const f of forged) {
      const raw = f.raw(f.from);
      const id = /Message-ID: (<[^>]+>)/.exec(raw)![1]!;
      ids.push(id);
      expect(await deliver(raw, { from: f.from, to }, { cloudflare: f.cloudflare })).toEqual({
        rejected: null,
        error: null,
      });
    }
    for (const id of ids) {
      expect(await settledRow(sd.accountId, id)).toMatchObject({ action: "relayed_sender_unauthenticated" });
    }
    expect(await postedTo(channel)).toHaveLength(5);
    await settle();
    for (const f of forged) expect(await sentEmails(env.SANDBOX_URL, f.from)).toHaveLength(0);
    // Nothing was taken from the tenant's daily automatic mail.
    const day = await env.DB.prepare("SELECT sent FROM email_automatic_days WHERE tenant_id = ? AND day = ?")
      .bind(tenantId, today())
      .first<{ sent: number }>();
    expect(day?.sent ?? 0).toBe(0);
  });

  it("an authenticated sender is still answered, once per mail counted once however often it is redelivered", async () => {
    const tenantId = await newTenant("Authenticated sender");
    const sd = await seedSubdomain({ routing: autoReplyAll, tenantId });
    const from = `${unique("c")}@customer.example`;
    const to = `hello@${sd.domain}`;
    const m = mail({ from, to });
    expect(await deliver(m.raw, { from, to })).toEqual({ rejected: null, error: null });
    await mailTo(from);
    expect(await settledRow(sd.accountId, m.messageId)).toMatchObject({ action: "canned_reply" });
    // Cloudflare redelivers the same mail (a temporary failure somewhere): not counted again.
    expect(await deliver(m.raw, { from, to })).toEqual({ rejected: null, error: null });
    await settle();
    const day = await env.DB.prepare("SELECT sent FROM email_automatic_days WHERE tenant_id = ? AND day = ?")
      .bind(tenantId, today())
      .first<{ sent: number }>();
    expect(day?.sent).toBe(1);
    expect(await sentEmails(env.SANDBOX_URL, from)).toHaveLength(1);
  });

  it("the 201st automatic mail of the day goes to the inbox relay with the reason", async () => {
    const tenantId = await newTenant("Daily cap");
    const sd = await seedSubdomain({ routing: autoReplyAll, tenantId });
    const channel = await discordInbox(tenantId);
    // 200 automatic mails already went out today (as 200 earlier mails would have left it).
    await env.DB.prepare("INSERT INTO email_automatic_days (tenant_id, day, sent) VALUES (?, ?, 200)")
      .bind(tenantId, today())
      .run();
    const from = `${unique("c")}@customer.example`;
    const to = `hello@${sd.domain}`;
    const m = mail({ from, to, subject: "Order 201" });
    expect(await deliver(m.raw, { from, to })).toEqual({ rejected: null, error: null });
    expect(await settledRow(sd.accountId, m.messageId)).toMatchObject({ action: "relayed_daily_limit" });
    expect(await postedTo(channel)).toHaveLength(1);
    await settle();
    expect(await sentEmails(env.SANDBOX_URL, from)).toHaveLength(0);
    const day = await env.DB.prepare(
      "SELECT sent, limited_at AS limitedAt FROM email_automatic_days WHERE tenant_id = ? AND day = ?",
    )
      .bind(tenantId, today())
      .first<{ sent: number; limitedAt: number | null }>();
    expect(day?.sent).toBe(200);
    expect(day?.limitedAt).toBeGreaterThan(0);
  });
});

describe("forward loops (item 4)", () => {
  it("two tenants' subdomains forwarding to each other: an A→B→A forward stops at B", async () => {
    const tenantA = await newTenant("Loop A");
    const tenantB = await newTenant("Loop B");
    // Each forwards everything to an address on the other's subdomain.
    const a = await forwarding(tenantA, "placeholder@b.example");
    const b = await forwarding(tenantB, "placeholder@a.example");
    await env.DB.batch([
      env.DB.prepare("UPDATE email_forward_addresses SET address = ? WHERE tenant_id = ?").bind(
        `inbox@${b.domain}`,
        tenantA,
      ),
      env.DB.prepare("UPDATE email_forward_addresses SET address = ? WHERE tenant_id = ?").bind(
        `inbox@${a.domain}`,
        tenantB,
      ),
    ]);
    const customer = `${unique("c")}@customer.example`;
    const first = mail({ from: customer, to: `sales@${a.domain}`, subject: "Quote please" });
    expect(await deliver(first.raw, { from: customer, to: `sales@${a.domain}` })).toEqual({
      rejected: null,
      error: null,
    });
    // A forwarded it to B's subdomain; Email Routing hands that mail to email() again.
    const [toB] = await mailTo(`inbox@${b.domain}`);
    expect(await deliver(toB!.raw, { from: toB!.from, to: `inbox@${b.domain}` })).toEqual({
      rejected: null,
      error: null,
    });
    const forwardedId = /^Message-ID:\s*(<[^>]+>)/im.exec(toB!.raw)![1]!;
    expect(await settledRow(b.accountId, forwardedId)).toMatchObject({ action: "relayed_loop" });
    await settle();
    // B forwarded nothing back to A.
    expect(await sentEmails(env.SANDBOX_URL, `inbox@${a.domain}`)).toHaveLength(0);
  });

  it("honours Auto-Submitted and a hop limit: no forward, the mail is relayed", async () => {
    const tenantId = await newTenant("Hops");
    const staff = `${unique("staff")}@team.example`;
    const sd = await forwarding(tenantId, staff);
    const from = `${unique("c")}@customer.example`;
    const to = `hello@${sd.domain}`;
    const vacation = mail({ from, to, headers: { "Auto-Submitted": "auto-replied" } });
    const hops = Array.from(
      { length: 30 },
      (_, i) => `Received: from relay${i}.example by relay${i + 1}.example`,
    );
    const looping = mail({ from, to });
    expect(await deliver(vacation.raw, { from, to })).toEqual({ rejected: null, error: null });
    expect(await deliver(`${hops.join("\r\n")}\r\n${looping.raw}`, { from, to })).toEqual({
      rejected: null,
      error: null,
    });
    expect(await settledRow(sd.accountId, vacation.messageId)).toMatchObject({
      action: "relayed_auto_submitted",
    });
    expect(await settledRow(sd.accountId, looping.messageId)).toMatchObject({ action: "relayed_loop" });
    await settle();
    expect(await sentEmails(env.SANDBOX_URL, staff)).toHaveLength(0);
  });
});

describe("forwards at most once (item 15)", () => {
  it("a record write that fails after the send, then Cloudflare's retry: the forward went out exactly once", async () => {
    const tenantId = await newTenant("Forward once");
    const staff = `${unique("staff")}@team.example`;
    const sd = await forwarding(tenantId, staff);
    const from = `${unique("c")}@customer.example`;
    const to = `hello@${sd.domain}`;
    const m = mail({ from, to, subject: "Invoice" });
    // The metadata write after the send fails (a D1 hiccup), once.
    const trigger = `fail_${unique("t").replace(/[^a-z0-9]/gi, "")}`;
    await env.DB.prepare(
      `CREATE TRIGGER ${trigger} BEFORE INSERT ON messages
        WHEN NEW.provider_message_id = '${m.messageId}' BEGIN SELECT RAISE(ABORT, 'injected failure'); END`,
    ).run();
    const failed = await deliver(m.raw, { from, to });
    // email() threw: Cloudflare answers with a temporary failure and the sender retries.
    expect(failed.error).not.toBeNull();
    await env.DB.prepare(`DROP TRIGGER ${trigger}`).run();
    expect(await mailTo(staff)).toHaveLength(1);
    // The retry finds the forward claimed: it is not sent again; a person sees the mail instead.
    expect(await deliver(m.raw, { from, to })).toEqual({ rejected: null, error: null });
    expect(await settledRow(sd.accountId, m.messageId)).toMatchObject({ action: "relayed_forward_unknown" });
    // And another retry changes nothing.
    expect(await deliver(m.raw, { from, to })).toEqual({ rejected: null, error: null });
    await settle();
    expect(await sentEmails(env.SANDBOX_URL, staff)).toHaveLength(1);
  });

  it("a write that fails before the send (the reply alias), then the retry: the forward goes out, once", async () => {
    const tenantId = await newTenant("Forward later");
    const staff = `${unique("staff")}@team.example`;
    const sd = await forwarding(tenantId, staff);
    const from = `${unique("c")}@customer.example`;
    const to = `hello@${sd.domain}`;
    const m = mail({ from, to, subject: "Quote" });
    // The alias write fails once, before anything was sent: nothing may be claimed yet.
    const trigger = `fail_${unique("t").replace(/[^a-z0-9]/gi, "")}`;
    await env.DB.prepare(
      `CREATE TRIGGER ${trigger} BEFORE INSERT ON email_aliases
        WHEN NEW.original_message_id = '${m.messageId}' BEGIN SELECT RAISE(ABORT, 'injected failure'); END`,
    ).run();
    const failed = await deliver(m.raw, { from, to });
    expect(failed.error).not.toBeNull();
    await env.DB.prepare(`DROP TRIGGER ${trigger}`).run();
    expect(await sentEmails(env.SANDBOX_URL, staff)).toHaveLength(0);
    // Cloudflare's retry forwards it (not a relay for an outcome that was never in doubt).
    expect(await deliver(m.raw, { from, to })).toEqual({ rejected: null, error: null });
    expect(await mailTo(staff)).toHaveLength(1);
    expect(await settledRow(sd.accountId, m.messageId)).toMatchObject({ action: "forwarded" });
  });

  it("a retry of a forward that was sent and recorded sends nothing", async () => {
    const tenantId = await newTenant("Forward retry");
    const staff = `${unique("staff")}@team.example`;
    const sd = await forwarding(tenantId, staff);
    const from = `${unique("c")}@customer.example`;
    const to = `hello@${sd.domain}`;
    const m = mail({ from, to });
    expect(await deliver(m.raw, { from, to })).toEqual({ rejected: null, error: null });
    expect(await mailTo(staff)).toHaveLength(1);
    expect(await deliver(m.raw, { from, to })).toEqual({ rejected: null, error: null });
    await settle();
    expect(await sentEmails(env.SANDBOX_URL, staff)).toHaveLength(1);
    expect(await settledRow(sd.accountId, m.messageId)).toMatchObject({ action: "forwarded" });
  });
});
