import { env, exports } from "cloudflare:workers";
import { parseEmail } from "@concierge/channels";
import { sentEmails } from "@concierge/testing/sandbox-client";
import {
  EMAIL_CANARIES,
  EMAIL_TOKEN_PLACEHOLDER,
  type EmailFixtureName,
  emailFixtures,
  oversizeEmail,
  replaceAll,
  withHeaders,
} from "@concierge/testing/email-fixtures";
import { DEMO } from "@concierge/testing/seed";
import { afterAll, describe, expect, it, vi } from "vitest";
import { REJECT } from "../src/inbound.ts";
import {
  deliver,
  activeSubscription,
  discordInbox,
  header,
  inboundRow,
  mail,
  mailTo,
  postedTo,
  seedSubdomain,
  settle,
  settledRow,
  subscriptionEvent,
  unique,
} from "./helpers.ts";

/** A fixture addressed to a test's own subdomain, with a Message-ID no other test uses. */
function fixture(name: EmailFixtureName, domain: string, extra: Record<string, string | null> = {}) {
  const messageId = `<${unique("fx")}@customer.example>`;
  const raw = withHeaders(replaceAll(emailFixtures[name], { "acme.cncg.email": domain }), {
    "Message-ID": messageId,
    ...extra,
  });
  return { raw, messageId };
}

const relayAll = { rules: [], defaultAction: { kind: "relay" as const } };
const autoReplyAll = { rules: [], defaultAction: { kind: "auto_reply" as const } };

describe("email() before parsing", () => {
  it("refuses a message over the size limit without reading a byte of it", async () => {
    const sd = await seedSubdomain({ routing: autoReplyAll });
    const raw = oversizeEmail();
    let read = false;
    const message = {
      from: "big@customer.example",
      to: `hello@${sd.domain}`,
      headers: new Headers({ "message-id": "<oversize-1@customer.example>" }),
      // No eager pull: any read at all would be the handler's.
      raw: new ReadableStream(
        {
          pull() {
            read = true;
          },
        },
        { highWaterMark: 0 },
      ),
      rawSize: raw.length,
      setReject(reason: string) {
        rejected = reason;
      },
    } as unknown as ForwardableEmailMessage;
    let rejected: string | null = null;
    const worker = (await import("../src/index.ts")).default;
    await worker.email(message, env);
    expect(read).toBe(false);
    expect(rejected).toBe(REJECT.oversize);
    expect(rejected).toContain("10 MB");
    expect((await inboundRow(sd.accountId, "<oversize-1@customer.example>"))?.action).toBe(
      "rejected_oversize",
    );
  });

  it("refuses mail for a subdomain nobody owns with a clear reason", async () => {
    const m = mail({ from: "a@customer.example", to: "hello@nobody-here.cncg.test" });
    const r = await deliver(m.raw, { from: "a@customer.example", to: "hello@nobody-here.cncg.test" });
    expect(r).toEqual({ rejected: REJECT.unknown, error: null });
    expect(REJECT.unknown).toMatch(/no such mailbox/i);
  });

  it("refuses mail for a subdomain that is still being provisioned", async () => {
    const sd = await seedSubdomain({ routing: autoReplyAll, status: "provisioning" });
    const to = `hello@${sd.domain}`;
    const r = await deliver(mail({ from: "a@customer.example", to }).raw, { from: "a@customer.example", to });
    expect(r).toEqual({ rejected: REJECT.notAccepting, error: null });
  });
});

describe("routing actions, through email()", () => {
  it("drops: no bounce, no mail out, a metadata row that says dropped", async () => {
    const sd = await seedSubdomain({
      routing: {
        rules: [{ id: "spam", priority: 1, when: { subject: "*win*" }, action: { kind: "drop" } }],
        defaultAction: { kind: "auto_reply" },
      },
    });
    const from = `${unique("c")}@customer.example`;
    const m = mail({ from, to: `hello@${sd.domain}`, subject: "You WIN a prize" });
    expect(await deliver(m.raw, { from, to: `hello@${sd.domain}` })).toEqual({ rejected: null, error: null });
    expect(await inboundRow(sd.accountId, m.messageId)).toEqual({
      action: "dropped",
      rule_id: "spam",
      has_attachment: 0,
    });
    await settle();
    expect(await sentEmails(env.SANDBOX_URL, from)).toHaveLength(0);
  });

  it("rejects with the rule's own reason as the SMTP answer", async () => {
    const sd = await seedSubdomain({
      routing: {
        rules: [
          {
            id: "no-sales",
            priority: 1,
            when: { from: "*@sales.example" },
            action: { kind: "reject", reason: "We do not take sales pitches." },
          },
        ],
        defaultAction: { kind: "auto_reply" },
      },
    });
    const from = "bob@sales.example";
    const m = mail({ from, to: `hello@${sd.domain}` });
    expect(await deliver(m.raw, { from, to: `hello@${sd.domain}` })).toEqual({
      rejected: "We do not take sales pitches.",
      error: null,
    });
    expect((await inboundRow(sd.accountId, m.messageId))?.action).toBe("rejected");
  });

  it("applies the last matching rule by priority when rules overlap, whatever their list order", async () => {
    const sd = await seedSubdomain({
      routing: {
        rules: [
          // Listed first but highest priority: checked last, so it wins over the broad rule.
          { id: "vip", priority: 20, when: { from: "vip@*" }, action: { kind: "auto_reply" } },
          {
            id: "all-customer",
            priority: 10,
            when: { from: "*@customer.example" },
            action: { kind: "drop" },
          },
          { id: "early", priority: 5, when: { from: "*" }, action: { kind: "reject", reason: "Not here." } },
        ],
        defaultAction: { kind: "reject", reason: "Nobody matched." },
      },
    });
    const to = `hello@${sd.domain}`;
    const vip = mail({ from: "vip@customer.example", to });
    const plain = mail({ from: "someone@customer.example", to });
    const other = mail({ from: "x@elsewhere.example", to });
    await deliver(vip.raw, { from: "vip@customer.example", to });
    await deliver(plain.raw, { from: "someone@customer.example", to });
    const third = await deliver(other.raw, { from: "x@elsewhere.example", to });
    expect((await settledRow(sd.accountId, vip.messageId)).action).toBe("canned_reply");
    expect(await inboundRow(sd.accountId, plain.messageId)).toMatchObject({
      action: "dropped",
      rule_id: "all-customer",
    });
    expect(third.rejected).toBe("Not here.");
    expect(await inboundRow(sd.accountId, other.messageId)).toMatchObject({
      action: "rejected",
      rule_id: "early",
    });
  });

  it("takes the default action when no rule matches", async () => {
    const sd = await seedSubdomain({
      routing: {
        rules: [{ id: "inv", priority: 1, when: { subject: "invoice*" }, action: { kind: "drop" } }],
        defaultAction: { kind: "reject", reason: "Write to orders@ instead." },
      },
    });
    const to = `hello@${sd.domain}`;
    const m = mail({ from: "a@customer.example", to, subject: "Question" });
    expect((await deliver(m.raw, { from: "a@customer.example", to })).rejected).toBe(
      "Write to orders@ instead.",
    );
    expect(await inboundRow(sd.accountId, m.messageId)).toMatchObject({ action: "rejected", rule_id: null });
  });

  it("auto-replies with the canned rule, threaded, from the address the customer wrote to", async () => {
    const sd = await seedSubdomain({ routing: autoReplyAll });
    const from = `${unique("c")}@customer.example`;
    const to = `Orders@${sd.domain}`;
    const m = mail({
      from,
      to,
      subject: "Are you open on Sunday?",
      body: "What are your hours?",
      headers: { References: "<older@customer.example>" },
    });
    expect(await deliver(m.raw, { from, to })).toEqual({ rejected: null, error: null });
    const [reply] = await mailTo(from);
    expect(reply!.from).toBe(`orders@${sd.domain}`);
    expect(header(reply!.raw, "Subject")).toBe("Re: Are you open on Sunday?");
    expect(header(reply!.raw, "In-Reply-To")).toBe(m.messageId);
    expect(header(reply!.raw, "References")).toBe(`<older@customer.example> ${m.messageId}`);
    expect(header(reply!.raw, "Auto-Submitted")).toBe("auto-replied");
    expect(header(reply!.raw, "X-Concierge-Loop")).not.toBeNull();
    expect((await parseEmail(reply!.raw)).text).toBe("We are open 7am to 7pm.");
    expect(await settledRow(sd.accountId, m.messageId)).toMatchObject({
      action: "canned_reply",
      rule_id: "hours",
    });
  });

  it("relays to the tenant's Discord inbox, with no reply to the customer", async () => {
    const channel = await discordInbox();
    const sd = await seedSubdomain({ routing: relayAll });
    const from = `${unique("c")}@customer.example`;
    const to = `hello@${sd.domain}`;
    const m = mail({ from, to, subject: "Broken order" });
    expect(await deliver(m.raw, { from, to })).toEqual({ rejected: null, error: null });
    expect((await settledRow(sd.accountId, m.messageId)).action).toBe("relayed");
    const posted = await postedTo(channel);
    expect(posted).toHaveLength(1);
    expect(JSON.stringify(posted[0]!.embeds)).toContain("Broken order");
    await settle();
    expect(await sentEmails(env.SANDBOX_URL, from)).toHaveLength(0);
  });
});

describe("a subdomain beyond the free quota (issue 13)", () => {
  /** A tenant of its own (subscriptions are tenant-wide), with a subdomain beyond the free quota. */
  async function paidSubdomain(routing: object, forward?: Record<string, string>) {
    const created = await env.PIPELINE_TENANT.createTenant({ name: "Paid subdomain" });
    if (!created.ok) throw new Error(created.error.message);
    const tenantId = created.tenantId;
    const sd = await seedSubdomain({ routing, tenantId, ...(forward ? { forward } : {}) });
    await env.DB.prepare("UPDATE email_subdomains SET paid = 1 WHERE account_id = ?")
      .bind(sd.accountId)
      .run();
    return { ...sd, tenantId, subscription: await activeSubscription(tenantId) };
  }
  const now = () => Math.floor(Date.now() / 1000);
  const event = (id: string, name: "halted" | "charged" | "cancelled", at: number) =>
    env.PIPELINE_BILLING.razorpayEvent(
      `evt${unique("E").replace(/[^A-Za-z0-9]/g, "")}`,
      subscriptionEvent(id, name, at),
    );

  it("halted: a mail it would auto-reply to is relayed to the inbox instead, no reply; charged: auto-replied again", async () => {
    const sd = await paidSubdomain(autoReplyAll);
    const channel = await discordInbox(sd.tenantId);
    const from = `${unique("c")}@customer.example`;
    const to = `hello@${sd.domain}`;
    const t = now();
    expect(await event(sd.subscription, "halted", t)).toEqual({ ok: true, outcome: "subscription_updated" });

    const first = mail({ from, to, subject: "Table for four?" });
    expect(await deliver(first.raw, { from, to })).toEqual({ rejected: null, error: null });
    // Accepted and in front of a person; the row says why no automatic reply went out.
    expect(await settledRow(sd.accountId, first.messageId)).toMatchObject({
      action: "relayed_subscription_inactive",
    });
    const posted = await postedTo(channel);
    expect(posted).toHaveLength(1);
    expect(JSON.stringify(posted[0]!.embeds)).toContain("Table for four?");
    await settle();
    expect(await sentEmails(env.SANDBOX_URL, from)).toHaveLength(0);

    // Paid again: the same sender's next mail is answered automatically.
    expect(await event(sd.subscription, "charged", t + 1)).toEqual({
      ok: true,
      outcome: "subscription_updated",
    });
    const second = mail({ from, to, subject: "Are you open today?", body: "What are your hours?" });
    expect(await deliver(second.raw, { from, to })).toEqual({ rejected: null, error: null });
    const [reply] = await mailTo(from);
    expect((await parseEmail(reply!.raw)).text).toBe("We are open 7am to 7pm.");
    expect(await settledRow(sd.accountId, second.messageId)).toMatchObject({ action: "canned_reply" });
    expect(await postedTo(channel)).toHaveLength(1);
  });

  it("cancelled: a mail its rules forward is relayed instead and nothing is forwarded", async () => {
    const staff = `${unique("staff")}@team.example`;
    const sd = await paidSubdomain(relayAll, { staff });
    const channel = await discordInbox(sd.tenantId);
    await env.DB.prepare("UPDATE email_subdomains SET routing_json = ? WHERE account_id = ?")
      .bind(
        JSON.stringify({ rules: [], defaultAction: { kind: "forward", addressId: sd.forwardIds.staff } }),
        sd.accountId,
      )
      .run();
    expect(await event(sd.subscription, "cancelled", now())).toEqual({
      ok: true,
      outcome: "subscription_updated",
    });
    const from = `${unique("c")}@customer.example`;
    const to = `orders@${sd.domain}`;
    const m = mail({ from, to, subject: "Invoice copy" });
    expect(await deliver(m.raw, { from, to })).toEqual({ rejected: null, error: null });
    expect(await settledRow(sd.accountId, m.messageId)).toMatchObject({
      action: "relayed_subscription_inactive",
    });
    expect(await postedTo(channel)).toHaveLength(1);
    await settle();
    expect(await sentEmails(env.SANDBOX_URL, staff)).toHaveLength(0);
  });

  it("a free subdomain of the same tenant is not affected", async () => {
    const paid = await paidSubdomain(autoReplyAll);
    const sd = await seedSubdomain({ routing: autoReplyAll, tenantId: paid.tenantId });
    expect(await event(paid.subscription, "halted", now())).toEqual({
      ok: true,
      outcome: "subscription_updated",
    });
    const from = `${unique("c")}@customer.example`;
    const m = mail({ from, to: `hi@${sd.domain}`, body: "What are your hours?" });
    expect(await deliver(m.raw, { from, to: `hi@${sd.domain}` })).toEqual({ rejected: null, error: null });
    await mailTo(from);
    expect(await settledRow(sd.accountId, m.messageId)).toMatchObject({ action: "canned_reply" });
  });
});

describe("a person's reply and failures", () => {
  it("threads a person's later reply under the customer's newest mail, not marked automatic", async () => {
    const sd = await seedSubdomain({ routing: autoReplyAll });
    const from = `${unique("c")}@customer.example`;
    const to = `help@${sd.domain}`;
    const m = mail({ from, to, subject: "Refund" });
    await deliver(m.raw, { from, to });
    await mailTo(from);
    const r = await env.PIPELINE_TENANT.sendHumanReply(
      DEMO.tenantId,
      sd.accountId,
      from,
      "Refund sent today.",
      "asha",
    );
    expect(r.ok).toBe(true);
    const [, human] = await mailTo(from, 2);
    expect(human!.from).toBe(to);
    expect(header(human!.raw, "In-Reply-To")).toBe(m.messageId);
    expect(header(human!.raw, "Subject")).toBe("Re: Refund");
    expect(header(human!.raw, "Auto-Submitted")).toBeNull();
    expect((await parseEmail(human!.raw)).text).toBe("Refund sent today.");
    const row = await env.DB.prepare(
      "SELECT action FROM messages WHERE account_id = ? AND direction = 'outbound' AND provider_message_id = ?",
    )
      .bind(sd.accountId, r.ok ? r.providerMessageId : "")
      .first<{ action: string }>();
    expect(row?.action).toBe("human_reply");
  });

  it("throws (a temporary SMTP failure, so the sender retries) when the pipeline cannot take the mail", async () => {
    const worker = (await import("../src/index.ts")).default;
    const m = mail({ from: "a@customer.example", to: "hello@acme.cncg.test" });
    let rejected: string | null = null;
    const message = {
      from: "a@customer.example",
      to: "hello@acme.cncg.test",
      headers: new Headers(),
      raw: new Response(m.raw).body!,
      rawSize: m.raw.length,
      setReject: (reason: string) => {
        rejected = reason;
      },
    } as unknown as ForwardableEmailMessage;
    const down = {
      PIPELINE: { emailRoute: async () => ({ ok: false, error: { code: "internal", message: "down" } }) },
    } as unknown as Env;
    await expect(worker.email(message, down)).rejects.toThrow();
    expect(rejected).toBeNull();
  });
});

describe("forwarding and reverse aliases", () => {
  async function forwarded() {
    const staff = `${unique("staff")}@team.example`;
    const sd = await seedSubdomain({
      routing: { rules: [], defaultAction: { kind: "forward", addressId: "placeholder" } },
      forward: { staff },
    });
    await env.DB.prepare("UPDATE email_subdomains SET routing_json = ? WHERE account_id = ?")
      .bind(
        JSON.stringify({ rules: [], defaultAction: { kind: "forward", addressId: sd.forwardIds.staff } }),
        sd.accountId,
      )
      .run();
    const customer = `${unique("c")}@customer.example`;
    const to = `orders@${sd.domain}`;
    const f = fixture("multipartAlternativeAttachments", sd.domain, {
      From: `Li Wei <${customer}>`,
      References: "<thread-1@customer.example>",
    });
    expect(await deliver(f.raw, { from: customer, to })).toEqual({ rejected: null, error: null });
    const [out] = await mailTo(staff);
    return { sd, staff, customer, to, original: f, out: out! };
  }

  it("forwards to a verified address with a reply+ alias as Reply-To and the attachments", async () => {
    const { sd, customer, original, out } = await forwarded();
    const replyTo = header(out.raw, "Reply-To")!;
    expect(replyTo).toMatch(new RegExp(`^<?reply\\+[0-9a-f]{32}@${sd.domain.replace(/\./g, "\\.")}>?$`));
    expect(header(out.raw, "From")).toContain(`via ${sd.domain}`);
    expect(header(out.raw, "X-Original-From")).toBe(customer);
    expect(out.raw).toMatch(/filename="?invoice/i);
    expect(await inboundRow(sd.accountId, original.messageId)).toMatchObject({
      action: "forwarded",
      has_attachment: 1,
    });
    // Only the token's hash is kept.
    const token = /reply\+([0-9a-f]{32})@/.exec(replyTo)![1]!;
    const aliases = await env.DB.prepare("SELECT * FROM email_aliases WHERE account_id = ?")
      .bind(sd.accountId)
      .all();
    expect(aliases.results).toHaveLength(1);
    expect(JSON.stringify(aliases.results)).not.toContain(token);
  });

  it("sends the forwarded-to person's reply to the original sender from the subdomain, threaded", async () => {
    const { sd, staff, customer, to, original, out } = await forwarded();
    const alias = /reply\+[0-9a-f]{32}@[^>\s]+/.exec(header(out.raw, "Reply-To")!)![0];
    const token = /reply\+([0-9a-f]{32})@/.exec(alias)![1]!;
    const answer = replaceAll(emailFixtures.replyToAlias, {
      "acme.cncg.email": sd.domain,
      [EMAIL_TOKEN_PLACEHOLDER]: token,
      "priya@customer.example": staff,
    });
    const reply = withHeaders(answer, {
      "Message-ID": `<${unique("ans")}@team.example>`,
      Subject: "Re: Invoice 1042 attached",
    });
    expect(await deliver(reply, { from: staff, to: alias })).toEqual({ rejected: null, error: null });
    const [back] = await mailTo(customer);
    expect(back!.from).toBe(to);
    expect(header(back!.raw, "From")).toContain(to);
    expect(header(back!.raw, "In-Reply-To")).toBe(original.messageId);
    expect(header(back!.raw, "References")).toBe(`<thread-1@customer.example> ${original.messageId}`);
    expect(header(back!.raw, "Subject")).toBe("Re: Invoice 1042 attached");
    expect(header(back!.raw, "Auto-Submitted")).toBeNull();
    expect(back!.raw).not.toContain(token);
  });

  it("refuses a reply to an expired alias", async () => {
    const { sd, staff, out } = await forwarded();
    const alias = /reply\+[0-9a-f]{32}@[^>\s]+/.exec(header(out.raw, "Reply-To")!)![0];
    await env.DB.prepare("UPDATE email_aliases SET expires_at = ? WHERE account_id = ?")
      .bind(Date.now() - 1, sd.accountId)
      .run();
    const m = mail({ from: staff, to: alias, subject: "Re: late" });
    expect(await deliver(m.raw, { from: staff, to: alias })).toEqual({
      rejected: REJECT.expiredAlias,
      error: null,
    });
  });

  it("refuses the forwarded-to person's reply while the tenant is suspended, with the reason", async () => {
    const { sd, staff, customer, out } = await forwarded();
    const alias = /reply\+[0-9a-f]{32}@[^>\s]+/.exec(header(out.raw, "Reply-To")!)![0];
    // The operator's suspension, as the pipeline's OperatorEntrypoint writes it (this Worker's
    // tests have no operator binding); the pipeline reads it on every reply (CONFIG_CACHE_MS 0).
    await env.DB.prepare("UPDATE tenants SET status = 'suspended' WHERE id = ?").bind(DEMO.tenantId).run();
    try {
      const m = mail({ from: staff, to: alias, subject: "Re: while suspended" });
      expect(await deliver(m.raw, { from: staff, to: alias })).toEqual({
        rejected: REJECT.suspended,
        error: null,
      });
      expect((await inboundRow(sd.accountId, m.messageId))?.action).toBe("alias_rejected");
    } finally {
      await env.DB.prepare("UPDATE tenants SET status = 'active' WHERE id = ?").bind(DEMO.tenantId).run();
    }
    await settle();
    expect(await sentEmails(env.SANDBOX_URL, customer)).toHaveLength(0);
  });

  it("refuses a reply to an alias from anyone but the person it was forwarded to", async () => {
    const { sd, out, customer } = await forwarded();
    const alias = /reply\+[0-9a-f]{32}@[^>\s]+/.exec(header(out.raw, "Reply-To")!)![0];
    const m = mail({ from: "mallory@evil.example", to: alias });
    expect(await deliver(m.raw, { from: "mallory@evil.example", to: alias })).toEqual({
      rejected: REJECT.wrongSender,
      error: null,
    });
    expect((await inboundRow(sd.accountId, m.messageId))?.action).toBe("alias_rejected");
    await settle();
    expect(await sentEmails(env.SANDBOX_URL, customer)).toHaveLength(0);
  });

  it("refuses an alias that never existed", async () => {
    const sd = await seedSubdomain({ routing: autoReplyAll });
    const alias = `reply+${"0".repeat(32)}@${sd.domain}`;
    const m = mail({ from: "a@customer.example", to: alias });
    expect((await deliver(m.raw, { from: "a@customer.example", to: alias })).rejected).toBe(
      REJECT.unknownAlias,
    );
  });

  it("relays instead when the forward address is no longer verified", async () => {
    const staff = `${unique("staff")}@team.example`;
    const sd = await seedSubdomain({ routing: autoReplyAll, forward: { staff }, unverified: ["staff"] });
    await env.DB.prepare("UPDATE email_subdomains SET routing_json = ? WHERE account_id = ?")
      .bind(
        JSON.stringify({ rules: [], defaultAction: { kind: "forward", addressId: sd.forwardIds.staff } }),
        sd.accountId,
      )
      .run();
    const from = `${unique("c")}@customer.example`;
    const m = mail({ from, to: `hello@${sd.domain}` });
    expect(await deliver(m.raw, { from, to: `hello@${sd.domain}` })).toEqual({ rejected: null, error: null });
    expect((await settledRow(sd.accountId, m.messageId)).action).toMatch(/^relay/);
    expect(await sentEmails(env.SANDBOX_URL, staff)).toHaveLength(0);
  });
});

describe("loop and abuse safety", () => {
  // Machine-written mail (Auto-Submitted) and our own mail coming back (the loop header) go to a
  // person instead (issue 17, item 4); the rest is recorded as automatic mail and left alone.
  const automatic: [string, EmailFixtureName, Record<string, string | null>, string | null, string][] = [
    ["a vacation auto-reply", "vacationAutoReply", {}, null, "relayed_auto_submitted"],
    ["a bounce (DSN)", "bounceDsn", {}, "", "relayed_auto_submitted"],
    ["a mailing-list post", "mailingList", {}, null, "automatic_mail"],
    ["mail with a null return path", "plainText", {}, "", "automatic_mail"],
    ["mail carrying our own loop header", "plainText", { "X-Concierge-Loop": "1" }, null, "relayed_loop"],
  ];
  for (const [what, name, extra, envelope, action] of automatic) {
    it(`never auto-replies to ${what}`, async () => {
      const sd = await seedSubdomain({ routing: autoReplyAll });
      const sender = envelope ?? `${unique("c")}@customer.example`;
      const f = fixture(name, sd.domain, extra);
      expect(await deliver(f.raw, { from: sender, to: `hello@${sd.domain}` })).toEqual({
        rejected: null,
        error: null,
      });
      expect((await settledRow(sd.accountId, f.messageId)).action).toMatch(
        new RegExp(`^(${action}|relay_no_inbox)$`),
      );
      const all = await sentEmails(env.SANDBOX_URL);
      expect(all.filter((s) => s.from.endsWith(sd.domain))).toHaveLength(0);
    });
  }

  it("answers a sender once per 24 hours per subdomain; the second mail's metadata says why", async () => {
    const sd = await seedSubdomain({ routing: autoReplyAll });
    const from = `${unique("c")}@customer.example`;
    const to = `hello@${sd.domain}`;
    const first = mail({ from, to });
    await deliver(first.raw, { from, to });
    await mailTo(from);
    expect((await settledRow(sd.accountId, first.messageId)).action).toBe("canned_reply");
    const second = mail({ from, to, subject: "One more thing" });
    await deliver(second.raw, { from, to });
    expect((await settledRow(sd.accountId, second.messageId)).action).toBe("auto_reply_cooldown");
    await settle();
    expect(await sentEmails(env.SANDBOX_URL, from)).toHaveLength(1);
  });
});

describe("every fixture, end to end", () => {
  const names = Object.keys(emailFixtures).filter((n) => n !== "replyToAlias") as EmailFixtureName[];
  for (const name of names) {
    it(`accepts ${name} and records its metadata`, async () => {
      const sd = await seedSubdomain({ routing: autoReplyAll });
      const f = fixture(name, sd.domain);
      const from = `${unique("c")}@customer.example`;
      expect(await deliver(f.raw, { from, to: `hello@${sd.domain}` })).toEqual({
        rejected: null,
        error: null,
      });
      expect((await settledRow(sd.accountId, f.messageId)).action).toMatch(
        /canned_reply|automatic_mail|relayed_auto_submitted|relay_no_inbox/,
      );
    });
  }
});

describe("privacy", () => {
  afterAll(() => vi.restoreAllMocks());

  it("leaves no fixture's text in any D1 table or log line", async () => {
    // Runs after the suites above in this file: every fixture has been through email().
    await settle();
    const { results: tables } = await env.DB.prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name != 'd1_migrations'",
    ).all<{ name: string }>();
    expect(tables.map((t) => t.name)).toEqual(
      expect.arrayContaining(["messages", "email_aliases", "email_subdomains"]),
    );
    const dump: string[] = [];
    for (const { name } of tables) {
      dump.push(JSON.stringify((await env.DB.prepare(`SELECT * FROM "${name}"`).all()).results));
    }
    const all = dump.join("\n");
    const canaries = [
      ...Object.values(EMAIL_CANARIES),
      "canary-eml-oversize",
      "Broken order",
      "You WIN a prize",
    ];
    for (const c of canaries) expect(all, c).not.toContain(c);
    const probe = async (needle: string) =>
      (await (await fetch(`${env.LOG_PROBE_URL}/?contains=${encodeURIComponent(needle)}`)).json()) as {
        lines: number;
        hits: number;
      };
    // The probe does see the Workers' log lines (the pipeline logs every turn).
    expect((await probe('"service":"pipeline')).hits).toBeGreaterThan(0);
    for (const c of canaries) expect((await probe(c)).hits, c).toBe(0);
  });
});

it("reports its health", async () => {
  expect(await (await exports.default.fetch("https://email.test/healthz")).json()).toEqual({ ok: true });
});
