import { env } from "cloudflare:workers";
import { generateDiscordKeyPair } from "@concierge/crypto";
import { translator } from "@concierge/i18n";
import {
  createRelay,
  createTenant,
  creditBalance,
  getTenantSettings,
  saveReplyConfig,
} from "@concierge/storage";
import { injectGraphFault, sentTo } from "@concierge/testing/sandbox-client";
import { TEST_SECRETS } from "@concierge/testing/secrets";
import { beforeAll, describe, expect, it, vi } from "vitest";
import {
  OUTSIDER,
  STAFF,
  approvePersona,
  controlRow,
  inboundText,
  inboxMessage,
  installBot,
  interaction,
  newWhatsAppAccount,
  post,
  relayRow,
  seedRelay,
  setBalance,
  tenantId,
  uniqueCustomer,
  webhookCalls,
} from "./helpers.ts";

const PING = 1;
const COMMAND = 2;
const COMPONENT = 3;
const AUTOCOMPLETE = 4;
const MODAL_SUBMIT = 5;

beforeAll(installBot);

const button = (relayId: string, action: string, withApprove = true, withControls = false) =>
  interaction(COMPONENT, {
    data: { custom_id: `relay:${action}:${relayId}`, component_type: 2 },
    message: inboxMessage(relayId, withApprove, withControls),
  });

const submit = (relayId: string, text: string, who = STAFF) =>
  interaction(
    MODAL_SUBMIT,
    {
      data: {
        custom_id: `relay:modal:${relayId}`,
        components: [{ type: 18, id: 1, component: { type: 4, id: 2, custom_id: "text", value: text } }],
      },
      message: inboxMessage(relayId, false),
    },
    who,
  );

const command = (name: string, options: unknown[] = [], who = STAFF) =>
  interaction(COMMAND, { data: { id: "1", name, type: 1, options } }, who);

/** The tenant's own translator: Discord's answers are in the tenant's locale, not the member's. */
async function tenantT() {
  const settings = await getTenantSettings(env.DB, tenantId);
  return translator(settings!.locale);
}

/** A WhatsApp customer who just wrote (the 24-hour window is open); no automatic reply. */
async function customerWhoWrote() {
  const account = await newWhatsAppAccount();
  const customer = uniqueCustomer();
  await env.PIPELINE_INGEST.ingest([inboundText(account.externalId, customer, "Is the shop open today?")]);
  return { accountId: account.id, customerId: customer };
}

/** A held AI draft (an `always`-approval rule) and its inbox item. */
async function heldDraft() {
  const account = await newWhatsAppAccount();
  await saveReplyConfig(env.DB, tenantId, account.id, {
    wait_seconds: 0,
    rules: [],
    default_rule: { response: { kind: "prompt", text: "Answer kindly." }, approval: "always" },
  });
  const customer = uniqueCustomer();
  await env.PIPELINE_INGEST.ingest([inboundText(account.externalId, customer, "Do you have oat milk?")]);
  await vi.waitUntil(
    async () => (await env.PIPELINE.listApprovals(tenantId)).some((a) => a.accountId === account.id),
    { timeout: 8000 },
  );
  const approval = (await env.PIPELINE.listApprovals(tenantId)).find((a) => a.accountId === account.id)!;
  const relayId = await seedRelay({ accountId: account.id, customerId: customer }, "approval", approval.id);
  return { relayId, approvalId: approval.id, customer };
}

describe("POST /interactions: Discord's signature", () => {
  it("answers PING with PONG when the signature verifies", async () => {
    const res = await post(interaction(PING));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ type: 1 });
  });

  it("refuses a forged signature, a stale or future timestamp, another key and missing headers with 401", async () => {
    const other = await generateDiscordKeyPair();
    // Read at each request, with a margin past the 300 s window: a timestamp taken once at the
    // start drifts into the window on a busy machine (the third request once came 2 s later).
    const off = (seconds: number) => String(Math.floor(Date.now() / 1000) + seconds);
    const responses = [
      await post(interaction(PING), { key: other.privateKeyHex }),
      await post(interaction(PING), { timestamp: off(-330) }),
      await post(interaction(PING), { timestamp: off(330) }),
    ];
    // Signed for one body, sent with another: a forgery.
    const { signedInteraction } = await import("@concierge/testing/discord");
    const signed = await signedInteraction(env.TEST_DISCORD_PRIVATE_KEY, interaction(PING));
    responses.push(
      await fetchInteractions(signed.headers, signed.body.replace('"version":1', '"version":2')),
      await fetchInteractions({ "content-type": "application/json" }, signed.body),
    );
    for (const res of responses) {
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ ok: false, error: { code: "invalid_signature" } });
    }
  });

  it("refuses a verified body that is not an interaction with 400", async () => {
    const res = await post({ type: 99 });
    expect(res.status).toBe(400);
  });
});

async function fetchInteractions(headers: Record<string, string>, body: string) {
  const { exports } = await import("cloudflare:workers");
  return exports.default.fetch("https://discord.test/interactions", { method: "POST", headers, body });
}

describe("who may act", () => {
  it("tells a server that is not connected so, ephemerally", async () => {
    const res = await post({ ...command("status"), guild_id: "900000000000009999" });
    expect(await res.json()).toEqual({
      type: 4,
      data: { content: expect.stringContaining("not connected"), flags: 64 },
    });
  });

  it("refuses members without the staff role or Manage Server, ephemerally, and nothing happens", async () => {
    const who = await customerWhoWrote();
    const relayId = await seedRelay(who);
    for (const body of [
      command("status", [], OUTSIDER),
      { ...button(relayId, "drop"), member: { ...button(relayId, "drop").member, ...memberOf(OUTSIDER) } },
      submit(relayId, "hello", OUTSIDER),
    ]) {
      const res = await post(body);
      expect(await res.json()).toEqual({
        type: 4,
        data: { content: expect.stringContaining("staff role or the Manage Server"), flags: 64 },
      });
    }
    expect(await relayRow(relayId)).toMatchObject({ status: "open", handledBy: null });
    expect(await sentTo(env.SANDBOX_URL, who.customerId)).toHaveLength(0);
  });

  it("lets Manage Server and Administrator act without the staff role", async () => {
    for (const permissions of ["32", "8", String(0x20n | 0x400n)]) {
      const res = await post(command("status", [], { ...OUTSIDER, permissions }));
      expect(await res.json()).toEqual({ type: 5, data: { flags: 64 } });
    }
  });
});

function memberOf(who: typeof OUTSIDER) {
  return {
    roles: who.roles,
    permissions: who.permissions,
    user: { id: who.id, username: "ravi", global_name: who.name },
  };
}

describe("slash commands", () => {
  it("/status defers, then edits in channels with a dead Instagram token, credits in the tenant's locale, AI and approvals", async () => {
    await approvePersona();
    await setBalance(150000);
    const ig = `17841${Date.now() % 1e10}`;
    await env.DB.prepare(
      "INSERT INTO channel_accounts (id, tenant_id, channel, external_id, display_name, created_at) VALUES (?, ?, 'instagram', ?, 'chai.and.co', ?)",
    )
      .bind(`acc_ig_${ig}`, tenantId, ig, Date.now())
      .run();
    await env.DB.prepare(
      `INSERT INTO channel_tokens (account_id, tenant_id, page_id, sealed_token, status, dead_reason, refreshed_at, updated_at)
       VALUES (?, ?, ?, 'sealed', 'dead', 'expired', ?, ?)`,
    )
      .bind(`acc_ig_${ig}`, tenantId, `page${ig}`, Date.now(), Date.now())
      .run();
    const body = command("status");
    const res = await post(body);
    expect(await res.json()).toEqual({ type: 5, data: { flags: 64 } });
    const [edit] = await webhookCalls(body.token);
    expect(edit!.kind).toBe("edit_original");
    const embed = edit!.body.embeds![0]!;
    expect(embed.title).toBe("Concierge status");
    expect(embed.description).toContain(
      "🔴 **Instagram** chai.and.co: Not working. The Instagram access token stopped working",
    );
    expect(embed.description).toContain("**WhatsApp**");
    const fields = Object.fromEntries(embed.fields!.map((f) => [f.name, f.value]));
    // The demo tenant speaks en-IN: lakh grouping.
    expect(fields["Credit balance"]).toBe("1,50,000 credits");
    expect(fields["AI replies"]).toBe("On");
    expect(fields["Persona safety"]).toBe("Approved");
    expect(fields["Pending approvals"]).toMatch(/^\d+$/);
  });

  it("/status tells the overview's story: a new channel is connected and waiting, no credits stops AI replies", async () => {
    await approvePersona();
    await setBalance(0);
    const id = `acc_new_${Date.now()}`;
    const domain = `fresh${Date.now() % 1e6}.cncg.email`;
    await env.DB.prepare(
      "INSERT INTO channel_accounts (id, tenant_id, channel, external_id, created_at) VALUES (?, ?, 'email', ?, ?)",
    )
      .bind(id, tenantId, domain, Date.now())
      .run();
    const body = command("status");
    await post(body);
    const [edit] = await webhookCalls(body.token);
    const embed = edit!.body.embeds![0]!;
    // Just connected, no message yet: not "Needs attention".
    expect(embed.description).toContain(`🟢 **email** ${domain}: Connected. Waiting for the first message.`);
    const fields = Object.fromEntries(embed.fields!.map((f) => [f.name, f.value]));
    expect(fields["AI replies"]).toBe("Stopped: no credits left. Canned replies still send.");
    // The balance says only the balance; the AI replies field says what it means.
    expect(fields["Credit balance"]).toBe("No credits left");
    await setBalance(150000);
  });

  it("/domains lists the email subdomains and their state", async () => {
    const id = `acc_mail_${Date.now()}`;
    const domain = `chai${Date.now() % 1e6}.cncg.email`;
    await env.DB.prepare(
      "INSERT INTO channel_accounts (id, tenant_id, channel, external_id, created_at) VALUES (?, ?, 'email', ?, ?)",
    )
      .bind(id, tenantId, domain, Date.now())
      .run();
    await env.DB.prepare(
      `INSERT INTO email_subdomains (account_id, tenant_id, name, domain, status, created_at, updated_at)
       VALUES (?, ?, ?, ?, 'active', ?, ?)`,
    )
      .bind(id, tenantId, domain.split(".")[0], domain, Date.now(), Date.now())
      .run();
    const body = command("domains");
    expect(await (await post(body)).json()).toEqual({ type: 5, data: { flags: 64 } });
    const [edit] = await webhookCalls(body.token);
    const embed = edit!.body.embeds![0]!;
    expect(embed.title).toBe("Email subdomains");
    expect(embed.description).toContain(`🟢 \`${domain}\`: Active: mail arrives`);
  });

  it("/domains says why a subdomain's setup failed in the tenant's language, never Cloudflare's English words", async () => {
    const t = await tenantT();
    const id = `acc_mail_${Date.now()}`;
    const domain = `chaifail${Date.now() % 1e6}.cncg.email`;
    await env.DB.prepare(
      "INSERT INTO channel_accounts (id, tenant_id, channel, external_id, created_at) VALUES (?, ?, 'email', ?, ?)",
    )
      .bind(id, tenantId, domain, Date.now())
      .run();
    // As the pipeline stores a refusal at the DNS step: the step, Cloudflare's number, its words.
    await env.DB.prepare(
      `INSERT INTO email_subdomains (account_id, tenant_id, name, domain, status, status_error, created_at, updated_at)
       VALUES (?, ?, ?, ?, 'failed', 'dns (1004): DNS Validation Error', ?, ?)`,
    )
      .bind(id, tenantId, domain.split(".")[0], domain, Date.now(), Date.now())
      .run();
    const body = command("domains");
    expect(await (await post(body)).json()).toEqual({ type: 5, data: { flags: 64 } });
    const [edit] = await webhookCalls(body.token);
    const description = edit!.body.embeds![0]!.description!;
    const reason = t("email-setup-failed", { step: "dns", code: "1004" });
    expect(description).toContain(`🔴 \`${domain}\`: ${t("discord-domain-failed", { reason })}`);
    expect(description).not.toContain("DNS Validation Error");
  });

  it("/rules offers the accounts by autocomplete and lists the chosen account's rules in order, the default last", async () => {
    const account = await newWhatsAppAccount();
    await saveReplyConfig(env.DB, tenantId, account.id, {
      rules: [
        {
          id: "hours",
          label: "Opening hours",
          matcher: { kind: "static_text", keywords: ["open", "hours"] },
          response: { kind: "canned", text: "9 to 9" },
        },
        {
          id: "menu",
          label: "Menu",
          matcher: { kind: "static_text", keywords: ["menu"] },
          response: { kind: "prompt", text: "Describe the menu." },
          approval: "always",
        },
        {
          id: "person",
          label: "A person",
          matcher: { kind: "static_text", keywords: ["human"] },
          response: { kind: "handoff", text: "Someone will reply shortly." },
        },
      ],
      default_rule: { response: { kind: "prompt", text: "Answer kindly." } },
    });
    const typed = account.externalId.slice(-6);
    const ac = await post(
      interaction(AUTOCOMPLETE, {
        data: {
          id: "1",
          name: "rules",
          type: 1,
          options: [{ name: "account", type: 3, value: typed, focused: true }],
        },
      }),
    );
    const choices = (await ac.json()) as {
      type: number;
      data: { choices: { name: string; value: string }[] };
    };
    expect(choices.type).toBe(8);
    expect(choices.data.choices).toEqual([{ name: `WhatsApp · ${account.externalId}`, value: account.id }]);

    const body = command("rules", [{ name: "account", type: 3, value: account.id }]);
    expect(await (await post(body)).json()).toEqual({ type: 5, data: { flags: 64 } });
    const [edit] = await webhookCalls(body.token);
    const embed = edit!.body.embeds![0]!;
    expect(embed.title).toBe(`Reply rules · WhatsApp ${account.externalId}`);
    expect(embed.description!.split("\n")).toEqual([
      "1. **Opening hours** · keywords: open, hours → canned reply",
      "2. **Menu** · keywords: menu → AI reply · held for approval",
      "3. **A person** · keywords: human → hand off to a person",
      "4. **Default** · when nothing else matches → AI reply",
    ]);

    const unknown = command("rules", [{ name: "account", type: 3, value: "nope" }]);
    await post(unknown);
    const [miss] = await webhookCalls(unknown.token);
    expect(miss!.body.content).toBe("No such channel account. Pick one from the list.");
  });

  it("offers nothing to autocomplete for a member who may not run the command", async () => {
    const res = await post(
      interaction(
        AUTOCOMPLETE,
        {
          data: {
            id: "1",
            name: "rules",
            type: 1,
            options: [{ name: "account", type: 3, value: "", focused: true }],
          },
        },
        OUTSIDER,
      ),
    );
    expect(await res.json()).toEqual({ type: 8, data: { choices: [] } });
  });
});

describe("inbox buttons and the reply modal", () => {
  it("Reply opens the modal with one paragraph input `text` of up to 4000 characters", async () => {
    const relayId = await seedRelay(await customerWhoWrote());
    const res = await post(button(relayId, "reply"));
    expect(await res.json()).toEqual({
      type: 9,
      data: {
        custom_id: `relay:modal:${relayId}`,
        title: "Reply to the customer",
        components: [
          {
            type: 18,
            label: "Your reply",
            component: {
              type: 4,
              custom_id: "text",
              style: 2,
              min_length: 1,
              max_length: 4000,
              required: true,
            },
          },
        ],
      },
    });
  });

  it("the modal's text reaches the customer on WhatsApp once, and the message shows who replied, without buttons", async () => {
    const who = await customerWhoWrote();
    const relayId = await seedRelay(who);
    const body = submit(relayId, "Yes, open till 9 tonight.");
    const res = await post(body);
    expect(await res.json()).toEqual({ type: 6 });
    const [edit] = await webhookCalls(body.token);
    expect(edit!.kind).toBe("edit_original");
    expect(edit!.body.components).toEqual([]);
    const embed = edit!.body.embeds![0]!;
    expect(embed.title).toBe("WhatsApp · +91 98•••• 10");
    expect(embed.fields!.at(-1)).toEqual({
      name: "Handled",
      value: expect.stringMatching(/^Replied by Asha · <t:\d{10}:f>$/),
    });
    const sent = await sentTo(env.SANDBOX_URL, who.customerId);
    expect(sent.map((s) => s.text)).toEqual(["Yes, open till 9 tonight."]);
    expect(await relayRow(relayId)).toEqual({ status: "replied", handledBy: "Asha" });

    // The same submit again (a retry, a double click): already handled, nothing sent twice.
    const again = submit(relayId, "Yes, open till 9 tonight.");
    await post(again);
    const [follow] = await webhookCalls(again.token);
    expect(follow).toMatchObject({ kind: "follow_up", ephemeral: true });
    expect(follow!.body.content).toMatch(/^Already handled by Asha <t:\d{10}:f>\.$/);
    expect(await sentTo(env.SANDBOX_URL, who.customerId)).toHaveLength(1);
  });

  it("refuses a reply outside WhatsApp's 24-hour window with an ephemeral error, and the item stays open", async () => {
    // A customer with no message in the last 24 hours: the conversation has no open window.
    const account = await newWhatsAppAccount();
    const customer = uniqueCustomer();
    const relayId = await seedRelay({ accountId: account.id, customerId: customer });
    const body = submit(relayId, "Sorry for the late answer!");
    expect(await (await post(body)).json()).toEqual({ type: 6 });
    const [follow] = await webhookCalls(body.token);
    expect(follow).toMatchObject({ kind: "follow_up", ephemeral: true });
    expect(follow!.body.content).toContain(
      "more than 24 hours have passed since the customer's last message",
    );
    expect(await relayRow(relayId)).toEqual({ status: "open", handledBy: null });
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(0);
  });

  it("says in the member's language when the channel refuses a reply for good, and the item stays open", async () => {
    const who = await customerWhoWrote();
    const relayId = await seedRelay(who);
    // Meta will not deliver to this customer (131026): permanent, not worth retrying.
    await injectGraphFault(env.SANDBOX_URL, {
      status: 400,
      code: 131026,
      message: "(#131026) Message undeliverable",
      to: who.customerId,
    });
    const body = submit(relayId, "Hello again!");
    expect(await (await post(body)).json()).toEqual({ type: 6 });
    const [follow] = await webhookCalls(body.token);
    expect(follow).toMatchObject({ kind: "follow_up", ephemeral: true });
    expect(follow!.body.content).toBe(
      "Not sent: the channel refused this message, so it cannot be delivered to this customer. Sending it again will not help; reach them another way.",
    );
    expect(await relayRow(relayId)).toEqual({ status: "open", handledBy: null });
  });

  it("Approve sends the held draft once and the message shows who approved; a second click says already handled", async () => {
    await approvePersona();
    await setBalance(5);
    const { relayId, customer } = await heldDraft();
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(0);
    const first = button(relayId, "approve");
    expect(await (await post(first)).json()).toEqual({ type: 6 });
    const [edit] = await webhookCalls(first.token);
    expect(edit!.body.components).toEqual([]);
    expect(edit!.body.embeds![0]!.fields!.at(-1)!.value).toMatch(/^Approved by Asha · <t:\d{10}:f>$/);
    const sent = await sentTo(env.SANDBOX_URL, customer);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.text).toMatch(/^\[offline AI\]/);

    const second = {
      ...button(relayId, "approve"),
      member: {
        ...first.member,
        user: { id: "800000000000000009", username: "meera", global_name: "Meera" },
      },
    };
    const res = await post(second);
    expect(await res.json()).toEqual({
      type: 4,
      data: { content: expect.stringMatching(/^Already handled by Asha <t:\d{10}:f>\.$/), flags: 64 },
    });
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(1);
    expect(await relayRow(relayId)).toEqual({ status: "approved", handledBy: "Asha" });
  });

  it("Approve while the channel is down for a moment says to try again, and the draft and item wait", async () => {
    await approvePersona();
    await setBalance(5);
    const t = await tenantT();
    const { relayId, approvalId, customer } = await heldDraft();
    // Meta's "service temporarily unavailable": worth another try, unlike a refusal for good.
    await injectGraphFault(env.SANDBOX_URL, {
      status: 503,
      code: 2,
      message: "Service temporarily unavailable",
      to: customer,
    });
    const body = button(relayId, "approve");
    expect(await (await post(body)).json()).toEqual({ type: 6 });
    const [follow] = await webhookCalls(body.token);
    expect(follow).toMatchObject({ kind: "follow_up", ephemeral: true });
    expect(follow!.body.content).toBe(t("discord-send-retry"));
    expect(await relayRow(relayId)).toEqual({ status: "open", handledBy: null });
    const a = await env.DB.prepare("SELECT status FROM approvals WHERE id = ?").bind(approvalId).first();
    expect(a).toEqual({ status: "pending" });
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(0);
  });

  it("words a refusal it has no words of its own for in the tenant's language, never the pipeline's", async () => {
    const t = await tenantT();
    const who = await customerWhoWrote();
    const relayId = await seedRelay(who);
    // A member whose nickname is only spaces: the pipeline refuses the actor (invalid_actor),
    // a code this Worker does not word one by one.
    const body = button(relayId, "drop", false);
    const res = await post({ ...body, member: { ...body.member, nick: "   " } });
    expect(await res.json()).toEqual({ type: 6 });
    const [follow] = await webhookCalls(body.token);
    expect(follow).toMatchObject({ kind: "follow_up", ephemeral: true });
    expect(follow!.body.content).toBe(t("discord-action-failed"));
    expect(await relayRow(relayId)).toEqual({ status: "open", handledBy: null });
  });

  it("Drop on a held draft rejects it and restores its credit; the message shows who dropped it", async () => {
    await approvePersona();
    await setBalance(5);
    const { relayId, approvalId, customer } = await heldDraft();
    expect(await creditBalance(env.DB, tenantId)).toBe(4);
    const body = button(relayId, "drop");
    expect(await (await post(body)).json()).toEqual({ type: 6 });
    const [edit] = await webhookCalls(body.token);
    expect(edit!.body.embeds![0]!.fields!.at(-1)!.value).toMatch(/^Dropped by Asha · <t:\d{10}:f>$/);
    expect(await creditBalance(env.DB, tenantId)).toBe(5);
    const a = await env.DB.prepare("SELECT status FROM approvals WHERE id = ?").bind(approvalId).first();
    expect(a).toEqual({ status: "rejected" });
    expect(await sentTo(env.SANDBOX_URL, customer)).toHaveLength(0);
  });

  it("Drop on an item without a draft dismisses it", async () => {
    const who = await customerWhoWrote();
    const relayId = await seedRelay(who, "handoff");
    const body = button(relayId, "drop", false);
    expect(await (await post(body)).json()).toEqual({ type: 6 });
    const [edit] = await webhookCalls(body.token);
    expect(edit!.body.embeds![0]!.fields!.at(-1)!.value).toMatch(/^Dropped by Asha/);
    expect(await relayRow(relayId)).toEqual({ status: "dropped", handledBy: "Asha" });
    expect(await sentTo(env.SANDBOX_URL, who.customerId)).toHaveLength(0);
  });

  it("Approve on an item without a draft is refused ephemerally", async () => {
    const relayId = await seedRelay(await customerWhoWrote(), "handoff");
    const res = await post(button(relayId, "approve"));
    expect(await res.json()).toEqual({
      type: 4,
      data: { content: "There is no draft to approve on this item.", flags: 64 },
    });
    expect(await relayRow(relayId)).toMatchObject({ status: "open" });
  });
});

const STAFF_ACTOR = { id: STAFF.id!, name: STAFF.name! };

/** A WhatsApp customer who wrote and got the canned reply, and their message item. */
async function answeredCustomer() {
  const account = await newWhatsAppAccount();
  await saveReplyConfig(env.DB, tenantId, account.id, {
    wait_seconds: 0,
    rules: [],
    default_rule: { response: { kind: "canned", text: "Thanks, we will reply soon." } },
  });
  const customer = uniqueCustomer();
  const send = (text: string) =>
    env.PIPELINE_INGEST.ingest([inboundText(account.externalId, customer, text)]);
  await send("Is the shop open today?");
  await vi.waitUntil(async () => (await sentTo(env.SANDBOX_URL, customer)).length === 1, { timeout: 8000 });
  const relayId = await seedRelay({ accountId: account.id, customerId: customer }, "message");
  /** The actions recorded for the customer's messages, once there are `n`. */
  const actions = async (n: number) => {
    const read = async () =>
      (
        await env.DB.prepare(
          "SELECT action FROM messages WHERE sender_id = ? AND direction = 'inbound' AND action IS NOT NULL ORDER BY id",
        )
          .bind(customer)
          .all<{ action: string }>()
      ).results.map((r) => r.action);
    await vi.waitUntil(async () => (await read()).length >= n, { timeout: 8000 });
    return read();
  };
  return { accountId: account.id, customer, relayId, send, actions };
}

/** A control button pressed: Discord's answer, then the follow-up and the item's edit. */
async function pressControl(relayId: string, action: "take_over" | "hand_back" | "pause") {
  const body = button(relayId, action, false, true);
  const res = await post(body);
  expect(await res.json()).toEqual({ type: 6 });
  const calls = await webhookCalls(body.token, 2);
  return {
    told: calls.find((c) => c.kind === "follow_up")!,
    edit: calls.find((c) => c.kind === "edit_original")!,
  };
}

describe("Take over, Hand back and Pause on an inbox item (issue 19 item 2)", () => {
  it("Take over tells the member, notes it on the item with every button kept, and the bot stays silent until Hand back", async () => {
    const c = await answeredCustomer();
    const took = await pressControl(c.relayId, "take_over");
    expect(took.told).toMatchObject({ ephemeral: true });
    expect(took.told.body.content).toBe("You took over; the bot stays silent for this customer.");
    // No `components` in the edit: Discord keeps the buttons, so the item can be pressed again.
    expect(took.edit.body.components).toBeUndefined();
    const embed = took.edit.body.embeds![0]!;
    expect(embed.title).toBe("WhatsApp · +91 98•••• 10");
    expect(embed.fields!.at(-1)).toEqual({
      name: "Bot",
      value: expect.stringMatching(/^Silent: taken over by Asha · <t:\d{10}:f>$/),
    });
    expect(await relayRow(c.relayId)).toEqual({ status: "open", handledBy: null });

    await c.send("Hello? Anyone?");
    expect(await c.actions(2)).toEqual(["canned_reply", "handoff_silent"]);
    expect(await sentTo(env.SANDBOX_URL, c.customer)).toHaveLength(1);

    const back = await pressControl(c.relayId, "hand_back");
    expect(back.told).toMatchObject({ ephemeral: true });
    expect(back.told.body.content).toBe("Handed back: the bot answers again.");
    expect(back.edit.body.embeds![0]!.fields!.at(-1)!.value).toMatch(
      /^Answering: handed back by Asha · <t:\d{10}:f>$/,
    );
    await c.send("Still there?");
    await vi.waitUntil(async () => (await sentTo(env.SANDBOX_URL, c.customer)).length === 2, {
      timeout: 8000,
    });
    expect(await c.actions(3)).toEqual(["canned_reply", "handoff_silent", "canned_reply"]);
    expect(await relayRow(c.relayId)).toEqual({ status: "open", handledBy: null });
  });

  it("Pause 1 h tells the member and shows until when; the customer's next message gets no reply", async () => {
    const c = await answeredCustomer();
    const paused = await pressControl(c.relayId, "pause");
    expect(paused.told.body.content).toBe("The bot is paused for this customer for 1 hour.");
    const value = paused.edit.body.embeds![0]!.fields!.at(-1)!.value;
    const until = Number(/^Paused by Asha until <t:(\d{10}):f>$/.exec(value)?.[1]);
    expect(Math.abs(until * 1000 - (Date.now() + 60 * 60_000))).toBeLessThan(60_000);
    await c.send("Hello?");
    expect(await c.actions(2)).toEqual(["canned_reply", "paused"]);
    expect(await sentTo(env.SANDBOX_URL, c.customer)).toHaveLength(1);
  });

  it("a Reply closes the item but keeps the Take over row, which still works", async () => {
    const c = await answeredCustomer();
    const body = {
      ...submit(c.relayId, "Yes, open till 9."),
      message: inboxMessage(c.relayId, false, true),
    };
    expect(await (await post(body)).json()).toEqual({ type: 6 });
    const [edit] = await webhookCalls(body.token);
    expect(edit!.body.components).toEqual([controlRow(c.relayId)]);
    expect(await relayRow(c.relayId)).toEqual({ status: "replied", handledBy: "Asha" });
    // The installed 'silent' made the reply a takeover; handing back from the closed item works.
    const back = await pressControl(c.relayId, "hand_back");
    expect(back.told.body.content).toBe("Handed back: the bot answers again.");
    expect(await relayRow(c.relayId)).toEqual({ status: "replied", handledBy: "Asha" });
  });

  it("refuses a member who may not act, and another tenant's item, and the conversation is unchanged", async () => {
    const c = await answeredCustomer();
    const outsider = interaction(
      COMPONENT,
      {
        data: { custom_id: `relay:take_over:${c.relayId}`, component_type: 2 },
        message: inboxMessage(c.relayId, false, true),
      },
      OUTSIDER,
    );
    expect(await (await post(outsider)).json()).toEqual({
      type: 4,
      data: {
        content: "Only members with the staff role or the Manage Server permission can do this.",
        flags: 64,
      },
    });
    // Another tenant's item about the same customer: this server's tenant cannot see it.
    const other = await createTenant(env.DB, TEST_SECRETS.encryptionKey, { name: "Elsewhere" });
    const theirs = `rl_other${Date.now().toString(36)}`;
    await createRelay(env.DB, {
      id: theirs,
      tenantId: other.id,
      accountId: c.accountId,
      channel: "whatsapp",
      customerId: c.customer,
      threadKey: `${tenantId}/${c.accountId}/${c.customer}`,
      kind: "message",
      approvalId: null,
      providerMessageId: null,
      guildId: "900000000000000009",
      channelId: "900000000000000010",
    });
    expect(await (await post(button(theirs, "pause", false, true))).json()).toEqual({
      type: 4,
      data: { content: "This item is no longer in the inbox.", flags: 64 },
    });
    expect(
      await env.PIPELINE.relayAction(tenantId, theirs, { kind: "take_over" }, STAFF_ACTOR),
    ).toMatchObject({
      ok: false,
      error: { code: "not_found" },
    });
    await c.send("Hello?");
    await vi.waitUntil(async () => (await sentTo(env.SANDBOX_URL, c.customer)).length === 2, {
      timeout: 8000,
    });
  });
});
