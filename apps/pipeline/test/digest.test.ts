// The summary digest through the pipeline's real entry points: tenants set up over RPC, a real
// inbound turn, and the 15-minute cron's scheduled handler run at chosen instants (period
// boundaries in each tenant's own time zone). Mail and Discord posts are read from the sandbox.
import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { nextPeriodBoundary } from "@concierge/core/periods";
import { createChannelAccount, saveReplyConfig } from "@concierge/storage";
import { type SentEmailRecord, sentEmails, sentTo, uniqueCustomer } from "@concierge/testing/sandbox-client";
import { describe, expect, it, vi } from "vitest";
import { APPROVALS_CRON } from "../src/crons.ts";
import worker from "../src/index.ts";
import { ingestApi, inboundText, tenantApi } from "./helpers.ts";
import {
  type DiscordMessage,
  discordMessages,
  failNextDiscordPost,
  mailText,
  uniqueChannel,
  verifiedAddress,
} from "./notify-helpers.ts";

const cron = (scheduledTime: number, mailFails = false) =>
  worker.scheduled(
    createScheduledController({ cron: APPROVALS_CRON, scheduledTime }),
    // An outbox that refuses every mail: a send worth retrying.
    mailFails ? { ...env, EMAIL_OUTBOX_URL: `${env.SANDBOX_URL}/__sandbox/no-such-outbox` } : env,
  );

const MIN = 60_000;

let seq = 0;
/** A new tenant in `timeZone` with a digest, a verified notification email and a notify channel. */
async function digestTenant(
  timeZone: string,
  locale: "en-IN" | "en-US",
  digest: "daily" | "weekly" | "off" = "daily",
) {
  seq += 1;
  const created = await tenantApi.createTenant({ name: `Digest ${seq}`, locale, timeZone });
  if (!created.ok) throw new Error(created.error.message);
  const id = created.tenantId;
  const email = `digest-${seq}-${Date.now()}@owner.example`;
  const channel = await uniqueChannel(id);
  await verifiedAddress(id, email);
  expect(await tenantApi.setNotifications(id, { email, discordChannelId: channel, digest })).toEqual({
    ok: true,
  });
  const mails = async (): Promise<SentEmailRecord[]> =>
    (await sentEmails(env.SANDBOX_URL, email)).filter((m) => !mailText(m.raw).includes("verify?token"));
  const posts = (): Promise<DiscordMessage[]> => discordMessages(channel);
  const nextAt = async () =>
    (
      await env.DB.prepare("SELECT digest_next_at AS at FROM tenants WHERE id = ?")
        .bind(id)
        .first<{ at: number | null }>()
    )?.at ?? null;
  return { id, email, channel, timeZone, mails, posts, nextAt };
}

/** A WhatsApp number of the tenant that answers "hours" with a canned reply; `send` is a real inbound turn. */
async function cannedAccount(tenantId: string) {
  const externalId = `92${String(Date.now() % 1e9).padStart(9, "0")}${seq}`;
  const account = await createChannelAccount(env.DB, { tenantId, channel: "whatsapp", externalId });
  await saveReplyConfig(env.DB, tenantId, account.id, {
    wait_seconds: 0,
    rules: [
      {
        id: "hours",
        matcher: { kind: "static_text", keywords: ["hours"] },
        response: { kind: "canned", text: "7 to 7" },
      },
    ],
    default_rule: { response: { kind: "canned", text: "We will get back to you." } },
  });
  return {
    send: async (customerId: string, text: string) => {
      await ingestApi.ingest([inboundText(externalId, customerId, text)]);
      await vi.waitUntil(async () => (await sentTo(env.SANDBOX_URL, customerId)).length >= 1, {
        timeout: 8000,
      });
    },
  };
}

describe("summary digest", () => {
  it("a cron run on a period boundary sends exactly one digest per tenant in its own time zone, once per period, with counts and never the text", async () => {
    const kolkata = await digestTenant("Asia/Kolkata", "en-IN");
    const newYork = await digestTenant("America/New_York", "en-US");
    const off = await digestTenant("Asia/Kolkata", "en-IN", "off");
    const canary = `canary-digest-${crypto.randomUUID()}`;
    for (const t of [kolkata, newYork]) {
      const acc = await cannedAccount(t.id);
      await acc.send(uniqueCustomer(), `what are your hours? ${canary}`);
    }

    // A digest just chosen: the first run only works out each tenant's next local midnight.
    const now = Date.now();
    await cron(now);
    for (const t of [kolkata, newYork]) {
      expect(await t.nextAt()).toBe(nextPeriodBoundary("daily", t.timeZone, now));
      expect(await t.mails()).toEqual([]);
      expect(await t.posts()).toEqual([]);
    }
    expect(await off.nextAt()).toBeNull();

    // Whichever local midnight comes first: only that tenant gets its digest, once.
    const [first, second] = [kolkata, newYork].sort(
      (a, b) => nextPeriodBoundary("daily", a.timeZone, now) - nextPeriodBoundary("daily", b.timeZone, now),
    ) as [typeof kolkata, typeof kolkata];
    const firstAt = nextPeriodBoundary("daily", first.timeZone, now);
    const secondAt = nextPeriodBoundary("daily", second.timeZone, now);
    expect(secondAt).toBeGreaterThan(firstAt); // +05:30 and -05:00/-04:00 never share a midnight
    await cron(firstAt - 1);
    expect(await first.mails()).toEqual([]);
    await cron(firstAt);
    expect(await first.mails()).toHaveLength(1);
    expect(await first.posts()).toHaveLength(1);
    expect(await second.mails()).toEqual([]);
    expect(await second.posts()).toEqual([]);
    // The same period again (a second run, a retried run): nothing more.
    await cron(firstAt);
    await cron(firstAt + 15 * MIN);
    expect(await first.mails()).toHaveLength(1);
    expect(await first.posts()).toHaveLength(1);
    expect(await first.nextAt()).toBe(nextPeriodBoundary("daily", first.timeZone, firstAt));

    await cron(secondAt);
    await cron(secondAt);
    for (const t of [first, second]) {
      expect(await t.mails()).toHaveLength(1);
      expect(await t.posts()).toHaveLength(1);
    }
    // Digest off: nothing, ever.
    expect(await off.mails()).toEqual([]);
    expect(await off.posts()).toEqual([]);

    // Counts of the day the message came in, in the tenant's locale; the customer's words nowhere.
    for (const t of [kolkata, newYork]) {
      const mail = mailText((await t.mails())[0]!.raw);
      const post = (await t.posts())[0]!.content;
      for (const text of [mail, post]) {
        expect(text).toContain("Your day with Concierge");
        expect(text).toContain("WhatsApp: 1 in, 1 out");
        expect(text).toContain("AI replies: 0");
        expect(text).toContain("Handoffs to a person: 0");
        expect(text).toContain("Replies waiting for your approval now: 0");
        expect(text).toMatch(/Balance now: [\d,]+ AI repl/);
        expect(text).not.toContain(canary);
        expect(text).not.toContain("hours");
        expect(text).not.toContain("7 to 7");
      }
    }
    // The day's date, written the tenant's way (en-IN: day first; en-US: month first).
    const day = (t: typeof kolkata, locale: string) =>
      new Intl.DateTimeFormat(locale, { timeZone: t.timeZone, dateStyle: "medium" }).format(now);
    expect((await kolkata.posts())[0]!.content).toContain(day(kolkata, "en-IN"));
    expect((await newYork.posts())[0]!.content).toContain(day(newYork, "en-US"));
  });

  it("weekly: due at local Monday 00:00; a period whose every send failed is retried by the next run", async () => {
    const t = await digestTenant("Asia/Kolkata", "en-IN", "weekly");
    const now = Date.now();
    await cron(now);
    const monday = nextPeriodBoundary("weekly", t.timeZone, now);
    expect(await t.nextAt()).toBe(monday);
    expect(
      new Intl.DateTimeFormat("en-IN", {
        timeZone: t.timeZone,
        weekday: "long",
        hour: "2-digit",
        hourCycle: "h23",
      }).format(monday),
    ).toMatch(/Monday.*00/);
    // Discord fails (worth retrying) and the mail has no confirmed address any more: every target failed.
    await tenantApi.setNotifications(t.id, { email: null });
    await failNextDiscordPost(t.channel);
    await cron(monday);
    expect(await t.posts()).toEqual([]);
    expect(await t.nextAt()).toBe(monday);
    await cron(monday + 15 * MIN);
    const posts = await t.posts();
    expect(posts).toHaveLength(1);
    expect(posts[0]!.content).toContain("Your week with Concierge");
    expect(await t.nextAt()).toBe(nextPeriodBoundary("weekly", t.timeZone, monday));
  });

  it("a period that kept failing is given up when the next one ends: the latest complete period is sent, not the old one", async () => {
    const t = await digestTenant("Asia/Kolkata", "en-IN", "daily");
    const now = Date.now();
    await cron(now);
    const b1 = nextPeriodBoundary("daily", t.timeZone, now);
    const b2 = nextPeriodBoundary("daily", t.timeZone, b1);
    const b3 = nextPeriodBoundary("daily", t.timeZone, b2);
    await failNextDiscordPost(t.channel);
    await cron(b1, true);
    expect(await t.nextAt()).toBe(b1); // given back: retried within its window
    await cron(b3 + 5 * MIN);
    const posts = await t.posts();
    expect(posts).toHaveLength(1);
    expect(await t.mails()).toHaveLength(1);
    const day = (at: number) =>
      new Intl.DateTimeFormat("en-IN", { timeZone: t.timeZone, dateStyle: "medium" }).format(at);
    expect(posts[0]!.content).toContain(day(b2)); // the day [b2, b3)
    expect(posts[0]!.content).not.toContain(day(b1 - 1)); // not the failed day [b0, b1)
    expect(await t.nextAt()).toBe(nextPeriodBoundary("daily", t.timeZone, b3 + 5 * MIN));
  });

  it("a digest with nowhere to go is not sent: the period still moves on (nothing to retry)", async () => {
    const t = await digestTenant("America/New_York", "en-US", "daily");
    const now = Date.now();
    await cron(now);
    const b1 = nextPeriodBoundary("daily", t.timeZone, now);
    // The targets went by another way (a Discord uninstall, a deleted address).
    await env.DB.prepare(
      "UPDATE tenants SET notify_email = NULL, notify_discord_channel_id = NULL WHERE id = ?",
    )
      .bind(t.id)
      .run();
    await cron(b1);
    expect(await t.nextAt()).toBe(nextPeriodBoundary("daily", t.timeZone, b1));
    await cron(b1 + 15 * MIN);
    expect(await t.mails()).toEqual([]);
    expect(await t.posts()).toEqual([]);
  });

  it("changing the digest starts over: the boundary is worked out again, nothing is sent for it", async () => {
    const t = await digestTenant("America/New_York", "en-US", "weekly");
    await cron(Date.now());
    expect(await t.nextAt()).not.toBeNull();
    expect(await tenantApi.setNotifications(t.id, { digest: "daily" })).toEqual({ ok: true });
    expect(await t.nextAt()).toBeNull();
    const later = Date.now() + 3 * 24 * 60 * MIN;
    await cron(later);
    expect(await t.posts()).toEqual([]);
    expect(await t.nextAt()).toBe(nextPeriodBoundary("daily", t.timeZone, later));
  });
});
