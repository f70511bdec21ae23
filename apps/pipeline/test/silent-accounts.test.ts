// Channel health (issue 19 item 9): an account that got customer messages every day and has had
// none for the tenant's hours alerts the tenant once, through the real 15-minute cron (hourly).
import { env } from "cloudflare:workers";
import { recordMessages, saveSilenceAlertHours } from "@concierge/storage";
import { afterEach, describe, expect, it } from "vitest";
import { newBareAccount, quarterHourCron, tenantApi, tenantId } from "./helpers.ts";
import { discordMessages, failNextDiscordPost, uniqueChannel } from "./notify-helpers.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The start of the current hour: a run that does the hourly check. */
const hourStart = (t = Date.now()) => t - (t % HOUR);

/** Metadata rows of customer messages to the account at these times (never text). */
async function customerWrote(acc: { id: string; externalId: string }, times: number[], tag: string) {
  await recordMessages(
    env.DB,
    times.map((at, i) => ({
      tenantId,
      accountId: acc.id,
      channel: "whatsapp" as const,
      conversationId: null,
      ruleId: null,
      direction: "inbound" as const,
      providerMessageId: `wamid.silent.${acc.id}.${tag}.${i}`,
      senderId: "919800000001",
      recipientId: acc.externalId,
      action: "canned_reply",
      at,
    })),
  );
}

/** A WhatsApp number of the demo tenant whose customers wrote at these ages (ms before `now`). */
async function accountWith(now: number, ...ages: number[]) {
  const acc = await newBareAccount();
  await customerWrote(
    acc,
    ages.map((age) => now - age),
    "first",
  );
  return acc;
}

const DAILY = [25 * HOUR, 25 * HOUR + DAY, 25 * HOUR + 2 * DAY, 25 * HOUR + 3 * DAY];

afterEach(async () => {
  await tenantApi.setNotifications(tenantId, { discordChannelId: null, cadence: "instant" });
  await saveSilenceAlertHours(env.DB, tenantId, 24);
});

describe("a channel gone quiet", () => {
  it("alerts once, not every cron run, and again only after messages resume and stop again", async () => {
    const channel = await uniqueChannel(tenantId);
    await tenantApi.setNotifications(tenantId, { discordChannelId: channel, cadence: "instant" });
    const now = hourStart();
    const acc = await accountWith(now, ...DAILY);
    // Silent 25 hours, but messages came sporadically: no alert for this one.
    await accountWith(now, 25 * HOUR, 25 * HOUR + 3 * DAY);

    await quarterHourCron(now);
    const posts = await discordMessages(channel);
    expect(posts).toHaveLength(1);
    expect(posts[0]!.content).toContain(acc.externalId);
    expect(posts[0]!.content).toContain("none has arrived for 25 hours");
    await quarterHourCron(now + HOUR);
    await quarterHourCron(now + 2 * HOUR);
    expect(await discordMessages(channel)).toHaveLength(1);

    // Messages resume after the alert, daily again for three days, then stop for longer than the
    // tenant's 12 hours: a new silence, a new alert.
    await saveSilenceAlertHours(env.DB, tenantId, 12);
    const resumed = [0, 1, 2, 3].map((d) => now + 2 * HOUR + d * DAY);
    await customerWrote(acc, resumed, "again");
    await quarterHourCron(now + 3 * DAY + 3 * HOUR);
    expect(await discordMessages(channel)).toHaveLength(1);
    await quarterHourCron(now + 3 * DAY + 15 * HOUR);
    expect(await discordMessages(channel)).toHaveLength(2);
    expect((await discordMessages(channel))[1]!.content).toContain("none has arrived for 13 hours");
  });

  it("checks hourly only, tries an undelivered alert again next hour, and is off at 0", async () => {
    const channel = await uniqueChannel(tenantId);
    await tenantApi.setNotifications(tenantId, { discordChannelId: channel, cadence: "instant" });
    const now = hourStart();
    await accountWith(now, ...DAILY);
    // Not the hour's first run: nothing is checked.
    await quarterHourCron(now + 30 * 60_000);
    expect(await discordMessages(channel)).toHaveLength(0);
    // Discord is down: the alert is given back, and the next hour's run delivers it.
    await failNextDiscordPost(channel);
    await quarterHourCron(now + HOUR);
    expect(await discordMessages(channel)).toHaveLength(0);
    await quarterHourCron(now + 2 * HOUR);
    expect(await discordMessages(channel)).toHaveLength(1);

    await saveSilenceAlertHours(env.DB, tenantId, 0);
    await accountWith(now, ...DAILY);
    await quarterHourCron(now + 3 * HOUR);
    expect(await discordMessages(channel)).toHaveLength(1);
  });
});
