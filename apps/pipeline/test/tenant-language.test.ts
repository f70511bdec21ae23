// Issue 19 item 11: what the platform itself writes to a tenant (the confirmation link's email,
// notices, the sender name of forwarded mail, why an item is in the Discord inbox) is Fluent's
// text in the tenant's own locale, never English written into the code. Each is checked for an
// en-IN and an en-US tenant against that locale's messages; where the locales write a number
// differently (2,50,000 and 250,000) the text must differ too.
import { env, exports } from "cloudflare:workers";
import { parseEmail } from "@concierge/channels";
import { conversationKey } from "@concierge/core";
import { hasMessage, translator } from "@concierge/i18n";
import { RISK_REASONS } from "@concierge/rules";
import { createChannelAccount, updateDiscordSettings } from "@concierge/storage";
import { discordRecords } from "@concierge/testing/discord-sandbox";
import { sentEmails, uniqueCustomer } from "@concierge/testing/sandbox-client";
import { describe, expect, it } from "vitest";
import { relayItem } from "../src/channels/discord/relay.ts";
import { notifyTenant } from "../src/tenants/notify.ts";
import { tenantApi } from "./helpers.ts";
import { discordMessages, uniqueChannel, verifiedAddress } from "./notify-helpers.ts";

const LOCALES = ["en-IN", "en-US"] as const;

async function tenantIn(locale: (typeof LOCALES)[number], name: string): Promise<string> {
  const r = await tenantApi.createTenant({ name, locale, currency: locale === "en-US" ? "USD" : "INR" });
  if (!r.ok) throw new Error(r.error.message);
  return r.tenantId;
}

const uniqueAddress = (who: string) => `${who}-${crypto.randomUUID().slice(0, 8)}@lingua.example`;

/** The mails sent to `address`, parsed as a mail client reads them. */
async function mailsTo(address: string) {
  return Promise.all((await sentEmails(env.SANDBOX_URL, address)).map((m) => parseEmail(m.raw)));
}

it("has every message these texts use in both locales", () => {
  for (const id of [
    "notify-verify-subject",
    "notify-verify-intro",
    "notify-verify-confirm",
    "notify-verify-ignore",
    "notify-low-balance-subject",
    "notify-low-balance",
    "notify-handoff-subject",
    "notify-handoff",
    "email-forward-from",
    "relay-field-reason",
    "relay-reason-approval_always",
    ...RISK_REASONS.map((r) => `relay-reason-${r}`),
    "relay-reason-other",
  ])
    expect(hasMessage(id), id).toBe(true);
});

describe.each(LOCALES)("a tenant in %s", (locale) => {
  const t = translator(locale);

  it("gets the confirmation link's email in its locale, naming the business", async () => {
    const business = `Lingua ${locale}`;
    const tenantId = await tenantIn(locale, business);
    const address = uniqueAddress("confirm");
    expect(await tenantApi.addForwardAddress(tenantId, address)).toMatchObject({ ok: true, sent: true });
    const [mail] = await mailsTo(address);
    expect(mail!.subject).toBe(t("notify-verify-subject", { business }));
    const link = /^https:\/\/\S+\/email\/verify\?token=\S+$/m.exec(mail!.text)?.[0];
    expect(link).toBeDefined();
    expect(mail!.text).toBe(
      [
        t("notify-verify-intro", { business, address }),
        "",
        t("notify-verify-confirm"),
        link,
        "",
        t("notify-verify-ignore"),
      ].join("\n"),
    );
  });

  it("gets notices in its locale, in Discord and by email, numbers written its way", async () => {
    const tenantId = await tenantIn(locale, `Notices ${locale}`);
    const channel = await uniqueChannel(tenantId);
    const email = uniqueAddress("owner");
    await verifiedAddress(tenantId, email);
    expect(
      await tenantApi.setNotifications(tenantId, { discordChannelId: channel, email, cadence: "instant" }),
    ).toMatchObject({ ok: true });

    expect(await notifyTenant(env, tenantId, { kind: "low_balance", balance: 250_000 })).toBe(true);
    const low = t("notify-low-balance", { balance: 250_000 });
    expect(low).toContain(locale === "en-IN" ? "2,50,000" : "250,000");
    const customer = "+91 98•••• 10";
    expect(
      await notifyTenant(env, tenantId, {
        kind: "handoff",
        channel: "whatsapp",
        customer,
        conversation: "c1",
      }),
    ).toBe(true);
    const handoff = t("notify-handoff", { channel: t("channel-whatsapp"), customer, conversation: "c1" });

    expect((await discordMessages(channel)).map((m) => m.content)).toEqual([low, handoff]);
    const notices = (await mailsTo(email)).filter((m) => !m.text.includes("verify?token"));
    expect(notices.map((m) => [m.subject, m.text])).toEqual([
      [t("notify-low-balance-subject"), low],
      [t("notify-handoff-subject"), handoff],
    ]);
  });

  it("gets a customer's forwarded mail under a sender name worded in its locale", async () => {
    const tenantId = await tenantIn(locale, `Forwards ${locale}`);
    const staff = uniqueAddress("staff");
    await verifiedAddress(tenantId, staff);
    const target = (await tenantApi.listForwardAddresses(tenantId)).find((a) => a.address === staff)!;
    const created = await tenantApi.createEmailSubdomain(
      tenantId,
      `lingua${crypto.randomUUID().slice(0, 8)}`,
    );
    if (!created.ok) throw new Error(created.error.message);
    const domain = created.subdomain.domain;
    expect(
      await exports.EmailIngestEntrypoint.forwardEmail({
        domain,
        addressId: target.id,
        ruleId: null,
        providerMessageId: `<${crypto.randomUUID()}@customer.example>`,
        envelopeFrom: "li.wei@customer.example",
        envelopeTo: `orders@${domain}`,
        fromName: "Li Wei",
        subject: "Order 12",
        text: "Where is my order?",
        html: null,
        attachments: [],
        references: [],
        sentAt: Date.now(),
      }),
    ).toEqual({ ok: true, forwarded: true });
    const forwarded = (await mailsTo(staff)).find((m) => m.subject === "Order 12")!;
    expect(forwarded.fromName).toBe(t("email-forward-from", { sender: "Li Wei", domain }));
  });

  it("says in its locale why a held draft is in the Discord inbox, for every reason the risk check gives", async () => {
    const tenantId = await tenantIn(locale, `Relay ${locale}`);
    const inbox = await uniqueChannel(tenantId);
    await updateDiscordSettings(env.DB, tenantId, {
      inboxChannelId: inbox,
      staffRoleId: null,
      relayMode: "needs_human",
      afterHumanReply: "silent",
    });
    const account = await createChannelAccount(env.DB, {
      tenantId,
      channel: "whatsapp",
      externalId: `77${String(Date.now() % 1e9).padStart(9, "0")}`,
    });
    const customerId = uniqueCustomer();
    // As the turn joins a held draft's reasons, with one code only a newer version would know.
    const codes = ["approval_always", ...RISK_REASONS];
    const r = await relayItem(env, {
      kind: "approval",
      thread: {
        key: conversationKey(tenantId, account.id, customerId),
        tenantId,
        accountId: account.id,
        channel: "whatsapp",
        accountExternalId: account.externalId,
        customerId,
      },
      providerMessageId: null,
      approvalId: `apr_${crypto.randomUUID()}`,
      customerName: null,
      subject: null,
      preview: "Any offers today?",
      reason: [...codes, "from_a_newer_version"].join(","),
      draft: "We guarantee 10% off.",
    });
    expect(r).toMatchObject({ ok: true, relayed: true });
    const [item] = (await discordRecords(env.SANDBOX_URL, inbox)).messages;
    const why = item!.embeds[0]!.fields!.find((f) => f.name === t("relay-field-reason"))!.value.split("\n");
    expect(why).toEqual([...codes.map((c) => t(`relay-reason-${c}`)), t("relay-reason-other")]);
    // No code is shown as it is.
    expect(why.filter((line) => line.includes("_") || /^[a-z]+$/.test(line))).toEqual([]);
  });
});
