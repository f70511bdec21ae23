// The insights' local days (issue 19 item 6): the hourly run of the quarter-hour cron keeps each
// tenant's UTC offset as its zone has it now: a zone not known yet gets one, and a daylight-saving
// change moves it, so new messages count on the right local day.
import { env, exports } from "cloudflare:workers";
import { recordMessages, tenantInsights } from "@concierge/storage";
import { describe, expect, it } from "vitest";
import { quarterHourCron } from "./helpers.ts";

const offsetOf = async (tenantId: string) =>
  (await env.DB.prepare("SELECT utc_offset_minutes AS o FROM tenants WHERE id = ?")
    .bind(tenantId)
    .first<{ o: number | null }>())!.o;

/** A tenant in New York whose offset is not known yet (as after migration 0036). */
async function newYorkTenantNotKnownYet(name: string): Promise<string> {
  const created = await exports.TenantEntrypoint.createTenant({ name, locale: "en-US" });
  if (!created.ok) throw new Error(created.error.message);
  await env.DB.prepare(
    "UPDATE tenants SET time_zone = 'America/New_York', utc_offset_minutes = NULL WHERE id = ?",
  )
    .bind(created.tenantId)
    .run();
  return created.tenantId;
}

describe("each tenant's UTC offset", () => {
  it("is set when unknown and follows New York across daylight saving, hour by hour", async () => {
    const t = await newYorkTenantNotKnownYet("Bagels");
    // Sunday 8 March 2026 06:00 UTC: 01:00 EST, before the change.
    await quarterHourCron(Date.UTC(2026, 2, 8, 6, 0));
    expect(await offsetOf(t)).toBe(-300);
    // 07:00 UTC is 03:00 EDT: the next hourly run moves it.
    await quarterHourCron(Date.UTC(2026, 2, 8, 7, 0));
    expect(await offsetOf(t)).toBe(-240);
    // Only the first run of an hour looks.
    await env.DB.prepare("UPDATE tenants SET utc_offset_minutes = NULL WHERE id = ?").bind(t).run();
    await quarterHourCron(Date.UTC(2026, 2, 8, 7, 15));
    expect(await offsetOf(t)).toBeNull();
  });

  it("new messages then count on the tenant's local day", async () => {
    const t = await newYorkTenantNotKnownYet("Late night");
    await quarterHourCron(Date.UTC(2026, 11, 7, 12, 0));
    const account = await env.DB.prepare(
      "INSERT INTO channel_accounts (id, tenant_id, channel, external_id, status, created_at) VALUES (?, ?, 'whatsapp', ?, 'active', ?) RETURNING id",
    )
      .bind(`acc_off_${crypto.randomUUID().slice(0, 8)}`, t, `97${Date.now()}`, Date.now())
      .first<{ id: string }>();
    // Monday 7 December, 02:00 UTC: still Sunday the 6th, 21:00, in New York.
    await recordMessages(env.DB, [
      {
        tenantId: t,
        accountId: account!.id,
        channel: "whatsapp",
        direction: "inbound",
        providerMessageId: `wamid.off${crypto.randomUUID()}`,
        conversationId: null,
        senderId: "c",
        recipientId: "b",
        action: null,
        ruleId: null,
        at: Date.UTC(2026, 11, 7, 2, 0),
      },
    ]);
    const insights = await tenantInsights(env.DB, t, Date.UTC(2026, 11, 7, 12, 0));
    expect(insights.days.find((d) => d.received.whatsapp > 0)?.date).toBe("2026-12-06");
  });
});
