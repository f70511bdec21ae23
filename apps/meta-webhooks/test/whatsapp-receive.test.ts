import { env, exports } from "cloudflare:workers";
import { newWamid, signedMetaRequest } from "@concierge/testing/meta";
import { type SentRecord, sentTo, uniqueCustomer } from "@concierge/testing/sandbox-client";
import { DEMO } from "@concierge/testing/seed";
import { TEST_SECRETS } from "@concierge/testing/secrets";
import {
  waAudio,
  waButtonReply,
  waContacts,
  waDocument,
  waImage,
  waListReply,
  waLocation,
  waReaction,
  waStatusDelivered,
  waStatusFailed,
  waStatusRead,
  waStatusSent,
  waSticker,
  waTemplateButton,
  waText,
  waUnsupported,
  waVideo,
  whatsappChange,
  whatsappPayload,
  whatsappSingle,
} from "@concierge/testing/whatsapp-fixtures";
import { recordMessages } from "@concierge/storage";
import { describe, expect, it, vi } from "vitest";

const URL_ = "https://meta-webhooks.test/webhook/whatsapp";
const PHONE = DEMO.whatsapp.phoneNumberId;
const [HOURS, MENU] = DEMO.replyConfig.rules;
const DEFAULT_REPLY = DEMO.replyConfig.default_rule.response.text;

async function postSigned(payload: unknown) {
  const signed = await signedMetaRequest(TEST_SECRETS.metaAppSecret, payload);
  return exports.default.fetch(
    new Request(URL_, { method: "POST", body: signed.body, headers: signed.headers }),
  );
}

/** One customer's messages in the usual one-entry, one-change body. */
function from(customer: string, ...messages: unknown[]) {
  return whatsappSingle({
    phoneNumberId: PHONE,
    profiles: [{ waId: customer, name: "Ravi Kumar" }],
    messages,
  });
}

/** Only text replies: read receipts and typing indicators are not answers. */
async function textsTo(customer: string): Promise<SentRecord[]> {
  return (await sentTo(env.SANDBOX_URL, customer)).filter((s) => s.type === "text");
}

async function repliesTo(customer: string, atLeast = 1) {
  await vi.waitUntil(async () => (await textsTo(customer)).length >= atLeast, {
    timeout: 8000,
    interval: 50,
  });
  return textsTo(customer);
}

/** Long enough for a wrongly accepted message to have produced a reply (wait_seconds is 0 here). */
const settle = () => new Promise((r) => setTimeout(r, 400));

type Row = {
  kind: string | null;
  has_attachment: number | null;
  action: string | null;
  rule_id: string | null;
  status: string | null;
  status_at: number | null;
  status_error_code: number | null;
  status_error_title: string | null;
};

function row(direction: "inbound" | "outbound", id: string) {
  return env.DB.prepare(
    `SELECT kind, has_attachment, action, rule_id, status, status_at, status_error_code, status_error_title
       FROM messages WHERE channel = 'whatsapp' AND direction = ? AND provider_message_id = ?`,
  )
    .bind(direction, id)
    .first<Row>();
}

/** The inbound metadata row, once the turn has written it. */
async function inboundRow(id: string): Promise<Row> {
  await vi.waitUntil(async () => (await row("inbound", id)) !== null, { timeout: 8000, interval: 50 });
  return (await row("inbound", id))!;
}

async function rowsFrom(customer: string): Promise<number> {
  const r = await env.DB.prepare("SELECT COUNT(*) AS n FROM messages WHERE sender_id = ?")
    .bind(customer)
    .first<{ n: number }>();
  return r!.n;
}

/** Sends a keyword message and returns the id Meta gave our reply, once its outbound row exists. */
async function outboundReply(customer: string): Promise<string> {
  expect((await postSigned(from(customer, waText({ from: customer, body: "hours?" })))).status).toBe(200);
  const [reply] = await repliesTo(customer);
  await vi.waitUntil(async () => (await row("outbound", reply!.id)) !== null, {
    timeout: 8000,
    interval: 50,
  });
  return reply!.id;
}

describe("WhatsApp message types, through the webhook", () => {
  it("matches an image's caption like text and records the inbound row as media with an attachment", async () => {
    const customer = uniqueCustomer();
    const msg = waImage({ from: customer, caption: "What's the price of this one? ☕" });
    const res = await postSigned(from(customer, msg));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, accepted: 1 });
    const [reply] = await repliesTo(customer);
    expect(reply!.text).toBe(MENU.response.text);
    expect(await inboundRow(msg.id)).toMatchObject({
      kind: "media",
      has_attachment: 1,
      action: "canned_reply",
      rule_id: MENU.id,
    });
  });

  it("matches a document's and a video's caption too", async () => {
    for (const build of [waDocument, waVideo]) {
      const customer = uniqueCustomer();
      const msg = build({ from: customer, caption: "Are you open tomorrow?" });
      expect((await postSigned(from(customer, msg))).status).toBe(200);
      expect((await repliesTo(customer))[0]!.text).toBe(HOURS.response.text);
      expect(await inboundRow(msg.id)).toMatchObject({ kind: "media", has_attachment: 1, rule_id: HOURS.id });
    }
  });

  const uncaptioned: [string, (c: { from: string }) => { id: string }][] = [
    ["an image", waImage],
    ["a voice note", waAudio],
    ["a video", waVideo],
    ["a document", waDocument],
    ["a sticker", waSticker],
  ];
  for (const [what, build] of uncaptioned) {
    it(`answers ${what} without a caption with the default rule, never downloading it`, async () => {
      const customer = uniqueCustomer();
      const msg = build({ from: customer });
      const res = await postSigned(from(customer, msg));
      expect(await res.json()).toEqual({ ok: true, accepted: 1 });
      const sent = await repliesTo(customer);
      expect(sent[0]!.text).toBe(DEFAULT_REPLY);
      expect(await inboundRow(msg.id)).toMatchObject({
        kind: "media",
        has_attachment: 1,
        action: "canned_reply",
        rule_id: "default",
      });
      await settle();
      expect(await textsTo(customer)).toHaveLength(1);
    });
  }

  it("summarizes a shared location as text the rules can match", async () => {
    const customer = uniqueCustomer();
    const msg = waLocation({
      from: customer,
      latitude: 12.975_599_3,
      longitude: 77.606_503,
      name: "Open Kitchen, Café Coffee Day",
      address: "12 MG Road, Bengaluru",
    });
    expect((await postSigned(from(customer, msg))).status).toBe(200);
    expect((await repliesTo(customer))[0]!.text).toBe(HOURS.response.text);
    expect(await inboundRow(msg.id)).toMatchObject({
      kind: "location",
      has_attachment: 0,
      rule_id: HOURS.id,
    });
  });

  it("accepts a location with coordinates only and answers it with the default rule", async () => {
    const customer = uniqueCustomer();
    const msg = waLocation({ from: customer, latitude: -33.8688, longitude: 151.2093 });
    expect((await postSigned(from(customer, msg))).status).toBe(200);
    expect((await repliesTo(customer))[0]!.text).toBe(DEFAULT_REPLY);
    expect(await inboundRow(msg.id)).toMatchObject({ kind: "location", rule_id: "default" });
  });

  it("summarizes shared contact cards by name and phone", async () => {
    const customer = uniqueCustomer();
    const msg = waContacts({
      from: customer,
      cards: [
        { formattedName: "Priya (menu orders)", firstName: "Priya", phones: ["+91 98450 12345"] },
        { formattedName: "Arjun", phones: ["+91 98450 54321", "+91 80 2222 3333"] },
      ],
    });
    expect((await postSigned(from(customer, msg))).status).toBe(200);
    expect((await repliesTo(customer))[0]!.text).toBe(MENU.response.text);
    expect(await inboundRow(msg.id)).toMatchObject({ kind: "contacts", has_attachment: 0, rule_id: MENU.id });
  });

  it("matches the title of a tapped reply button, list row or template quick reply", async () => {
    const cases: [(c: string) => { id: string }, string][] = [
      [(c) => waButtonReply({ from: c, replyId: "opt_hours", title: "Opening hours" }), HOURS.response.text],
      [
        (c) =>
          waListReply({
            from: c,
            replyId: "row_menu",
            title: "See the menu",
            description: "Chai, coffee, snacks",
          }),
        MENU.response.text,
      ],
      [(c) => waTemplateButton({ from: c, payload: "PRICE_LIST", text: "Price list" }), MENU.response.text],
    ];
    for (const [build, expected] of cases) {
      const customer = uniqueCustomer();
      const msg = build(customer);
      expect((await postSigned(from(customer, msg))).status).toBe(200);
      expect((await repliesTo(customer))[0]!.text).toBe(expected);
      expect(await inboundRow(msg.id)).toMatchObject({ kind: "interactive", has_attachment: 0 });
    }
  });

  it("ignores a reaction: nothing accepted, no reply, no row", async () => {
    const customer = uniqueCustomer();
    const res = await postSigned(
      from(
        customer,
        waReaction({ from: customer, messageId: newWamid(), emoji: "\u{1F44D}" }),
        waReaction({ from: customer, messageId: newWamid() }),
      ),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, accepted: 0 });
    await settle();
    expect(await textsTo(customer)).toHaveLength(0);
    expect(await rowsFrom(customer)).toBe(0);
  });

  it("accepts an unsupported message for a person to see, without an automatic reply", async () => {
    const customer = uniqueCustomer();
    const msg = waUnsupported({ from: customer, unsupportedType: "poll_creation" });
    const res = await postSigned(from(customer, msg));
    expect(await res.json()).toEqual({ ok: true, accepted: 1 });
    expect(await inboundRow(msg.id)).toMatchObject({
      kind: "unsupported",
      has_attachment: 0,
      action: "unsupported",
      rule_id: null,
    });
    await settle();
    expect(await textsTo(customer)).toHaveLength(0);
  });

  it("accepts a message type nobody has documented yet as unsupported instead of failing", async () => {
    const customer = uniqueCustomer();
    const id = newWamid();
    const res = await postSigned(
      from(customer, {
        from: customer,
        id,
        timestamp: String(Math.floor(Date.now() / 1000)),
        type: "hologram",
        hologram: { frames: 3 },
      }),
    );
    expect(await res.json()).toEqual({ ok: true, accepted: 1 });
    expect(await inboundRow(id)).toMatchObject({ kind: "unsupported", action: "unsupported" });
  });

  it("tolerates unknown fields everywhere and errors inside a message", async () => {
    const customer = uniqueCustomer();
    const msg = {
      ...waText({ from: customer, body: "menu please" }),
      errors: [{ code: 131060, title: "This message is currently unavailable." }],
      referral: { source_type: "ad", headline: "Chai Sundays", ctwa_clid: "ARAkLkA8rmlFeiCktEJQ" },
      some_future_field: { nested: [1, 2, 3] },
    };
    const change = whatsappChange({ phoneNumberId: PHONE, messages: [msg] });
    const payload = whatsappPayload([
      {
        changes: [
          { ...change, value: { ...change.value, future_value_field: true }, future_change_field: 1 },
        ],
      },
    ]);
    const res = await postSigned({ ...payload, some_envelope_field: "x" });
    expect(await res.json()).toEqual({ ok: true, accepted: 1 });
    expect((await repliesTo(customer))[0]!.text).toBe(MENU.response.text);
    expect(await inboundRow(msg.id)).toMatchObject({ kind: "text", has_attachment: 0 });
  });

  it("accepts every message of several entries and changes in one payload, statuses and other fields mixed in", async () => {
    const [a, b, c] = [uniqueCustomer(), uniqueCustomer(), uniqueCustomer()];
    const replied = await outboundReply(c);
    const payload = whatsappPayload([
      {
        changes: [
          whatsappChange({
            phoneNumberId: PHONE,
            profiles: [{ waId: a, name: "Asha" }],
            messages: [waImage({ from: a, caption: "hours on Sunday?" })],
            statuses: [waStatusDelivered({ id: replied, recipientId: c })],
          }),
          { field: "account_update", value: { phone_number: "15550783881", event: "VERIFIED_ACCOUNT" } },
          whatsappChange({ phoneNumberId: "555000111222", messages: [waText({ from: a, body: "hours?" })] }),
        ],
      },
      {
        wabaId: "102290129340399",
        changes: [
          whatsappChange({
            phoneNumberId: PHONE,
            profiles: [{ waId: b, name: "Bilal" }],
            messages: [
              waText({ from: b, body: "what's on the menu?" }),
              waReaction({ from: b, messageId: replied, emoji: "\u2764\ufe0f" }),
            ],
          }),
        ],
      },
    ]);
    const res = await postSigned(payload);
    expect(res.status).toBe(200);
    // The number no tenant owns is acknowledged but not accepted; the reaction is dropped.
    expect(await res.json()).toEqual({ ok: true, accepted: 2 });
    expect((await repliesTo(a))[0]!.text).toBe(HOURS.response.text);
    expect((await repliesTo(b))[0]!.text).toBe(MENU.response.text);
    expect((await row("outbound", replied))!.status).toBe("delivered");
    await settle();
    expect(await textsTo(a)).toHaveLength(1);
    expect(await textsTo(b)).toHaveLength(1);
  });

  it("keeps captions, summaries, tapped ids and media ids out of D1", async () => {
    const customer = uniqueCustomer();
    const canary = `canary${crypto.randomUUID().replace(/-/g, "")}`;
    const mediaId = `9${Date.now()}${canary.length}`;
    const messages = [
      waImage({ from: customer, caption: `hours ${canary}`, mediaId }),
      waLocation({ from: customer, latitude: 1, longitude: 2, name: canary }),
      waContacts({ from: customer, cards: [{ formattedName: canary, phones: ["+91 98450 00000"] }] }),
      waButtonReply({ from: customer, replyId: canary, title: `Opening ${canary}` }),
    ];
    expect(await (await postSigned(from(customer, ...messages))).json()).toEqual({ ok: true, accepted: 4 });
    await repliesTo(customer);
    for (const m of messages) await inboundRow(m.id);
    const { results } = await env.DB.prepare("SELECT * FROM messages WHERE sender_id = ? OR recipient_id = ?")
      .bind(customer, customer)
      .all();
    expect(results.length).toBeGreaterThanOrEqual(5);
    expect(JSON.stringify(results)).not.toContain(canary);
    expect(JSON.stringify(results)).not.toContain(mediaId);
  });

  it("still refuses an unsigned media payload and stores nothing", async () => {
    const customer = uniqueCustomer();
    const signed = await signedMetaRequest(
      TEST_SECRETS.metaAppSecret,
      from(customer, waImage({ from: customer })),
    );
    const res = await exports.default.fetch(
      new Request(URL_, {
        method: "POST",
        body: signed.body,
        headers: { "content-type": "application/json" },
      }),
    );
    expect(res.status).toBe(401);
    await settle();
    expect(await rowsFrom(customer)).toBe(0);
  });
});

describe("WhatsApp statuses, through the webhook", () => {
  const statuses = (...s: unknown[]) => whatsappSingle({ phoneNumberId: PHONE, statuses: s });

  it("moves our reply's row from sent to delivered to read, with Meta's timestamps", async () => {
    const customer = uniqueCustomer();
    const id = await outboundReply(customer);
    const t = Math.floor(Date.now() / 1000);
    for (const [fixture, at] of [
      [waStatusSent, t],
      [waStatusDelivered, t + 2],
      [waStatusRead, t + 30],
    ] as const) {
      const res = await postSigned(statuses(fixture({ id, recipientId: customer, timestamp: at })));
      expect(await res.json()).toEqual({ ok: true, accepted: 0 });
      const r = await row("outbound", id);
      expect(r).toMatchObject({
        status: fixture({ id, recipientId: customer }).status,
        status_at: at * 1000,
      });
    }
    await settle();
    expect(await textsTo(customer)).toHaveLength(1);
  });

  it("never moves backwards: read then a late delivered and sent stays read", async () => {
    const customer = uniqueCustomer();
    const id = await outboundReply(customer);
    const t = Math.floor(Date.now() / 1000);
    await postSigned(statuses(waStatusRead({ id, recipientId: customer, timestamp: t + 5 })));
    const res = await postSigned(
      statuses(
        waStatusDelivered({ id, recipientId: customer, timestamp: t + 1 }),
        waStatusSent({ id, recipientId: customer, timestamp: t }),
      ),
    );
    expect(res.status).toBe(200);
    expect(await row("outbound", id)).toMatchObject({ status: "read", status_at: (t + 5) * 1000 });
  });

  it("records failed with Meta's error code and short title only, and failed is terminal", async () => {
    const customer = uniqueCustomer();
    const id = await outboundReply(customer);
    const t = Math.floor(Date.now() / 1000);
    await postSigned(statuses(waStatusSent({ id, recipientId: customer, timestamp: t })));
    await postSigned(
      statuses(
        waStatusFailed({
          id,
          recipientId: customer,
          timestamp: t + 1,
          code: 131026,
          title: "Message undeliverable",
          message: "Message undeliverable",
          details: "Message Undeliverable.",
        }),
      ),
    );
    await postSigned(statuses(waStatusRead({ id, recipientId: customer, timestamp: t + 9 })));
    const r = await row("outbound", id);
    expect(r).toMatchObject({
      status: "failed",
      status_at: (t + 1) * 1000,
      status_error_code: 131026,
      status_error_title: "Message undeliverable",
    });
    const all = await env.DB.prepare("SELECT * FROM messages WHERE provider_message_id = ?").bind(id).first();
    expect(JSON.stringify(all)).not.toContain("Undeliverable.");
  });

  it("keeps a status that beats its reply's row and applies it when the row is written (issue 19 item 6)", async () => {
    const customer = uniqueCustomer();
    const id = newWamid();
    const t = Math.floor(Date.now() / 1000);
    // Meta's webhook for our send arrives before the pipeline's write that follows the send.
    const res = await postSigned(
      statuses(
        waStatusDelivered({ id, recipientId: customer, timestamp: t + 2 }),
        waStatusSent({ id, recipientId: customer, timestamp: t }),
      ),
    );
    expect(res.status).toBe(200);
    expect(await row("outbound", id)).toBeNull();
    const account = await env.DB.prepare("SELECT id, tenant_id FROM channel_accounts WHERE external_id = ?")
      .bind(PHONE)
      .first<{ id: string; tenant_id: string }>();
    // The pipeline's own write of the reply's row (conversation/turn.ts records it this way).
    await recordMessages(env.DB, [
      {
        tenantId: account!.tenant_id,
        accountId: account!.id,
        channel: "whatsapp",
        direction: "outbound",
        providerMessageId: id,
        conversationId: null,
        senderId: PHONE,
        recipientId: customer,
        action: "canned_reply",
        ruleId: null,
        at: Date.now(),
      },
    ]);
    expect(await row("outbound", id)).toMatchObject({ status: "delivered", status_at: (t + 2) * 1000 });
    const left = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM early_statuses WHERE provider_message_id = ?",
    )
      .bind(id)
      .first<{ n: number }>();
    expect(left!.n).toBe(0);
  });

  it("writes no row for a status of a message we never sent, and ignores a status type we do not track", async () => {
    const unknown = newWamid();
    const res = await postSigned(
      statuses(waStatusDelivered({ id: unknown, recipientId: uniqueCustomer() }), {
        ...waStatusRead({ id: newWamid(), recipientId: uniqueCustomer() }),
        status: "deleted",
      }),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, accepted: 0 });
    expect(await row("outbound", unknown)).toBeNull();
  });

  it("ignores statuses for a number no tenant owns", async () => {
    const res = await postSigned(
      whatsappSingle({
        phoneNumberId: "555000111222",
        statuses: [waStatusFailed({ id: newWamid(), recipientId: uniqueCustomer() })],
      }),
    );
    expect(res.status).toBe(200);
  });
});
