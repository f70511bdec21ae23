// Business hours and away replies (issue 19 item 3) through the real ingest path and conversation
// object, for a tenant in New York across the daylight-saving change of 8 March 2026. The clock is
// set for each message (only Date is faked: timers, alarms and the sandbox run as usual).
import { env, exports } from "cloudflare:workers";
import { createChannelAccount, saveBusinessHours, saveReplyConfig } from "@concierge/storage";
import { sentTo, uniqueCustomer } from "@concierge/testing/sandbox-client";
import { inboundText } from "@concierge/testing/tenant-fixtures";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ingestApi } from "./helpers.ts";

const AWAY = "We are closed now and back at 9.";
const OPEN = "Open 9 to 5, ask away!";
const day = [{ open: "09:00", close: "17:00" }];
const HOURS = {
  enabled: true,
  week: { mon: day, tue: day, wed: day, thu: day, fri: day, sat: day, sun: day },
  holidays: ["2026-03-10"],
};

afterEach(() => vi.useRealTimers());

async function newYorkTenant(outside: unknown) {
  const created = await exports.TenantEntrypoint.createTenant({ name: "Bagels NYC" });
  if (!created.ok) throw new Error(created.error.message);
  const tenantId = created.tenantId;
  await env.DB.prepare("UPDATE tenants SET time_zone = 'America/New_York' WHERE id = ?").bind(tenantId).run();
  expect(await saveBusinessHours(env.DB, tenantId, HOURS)).toBe("saved");
  const account = await createChannelAccount(env.DB, {
    tenantId,
    channel: "whatsapp",
    externalId: `95${String(Date.now() % 1e9).padStart(9, "0")}${Math.floor(Math.random() * 1000)}`,
  });
  await saveReplyConfig(env.DB, tenantId, account.id, {
    wait_seconds: 0,
    rules: [],
    default_rule: { response: { kind: "canned", text: OPEN } },
    outside_hours: outside,
  });
  return { tenantId, account };
}

async function actions(customer: string) {
  const { results } = await env.DB.prepare(
    "SELECT action FROM messages WHERE sender_id = ? AND direction = 'inbound' ORDER BY id",
  )
    .bind(customer)
    .all<{ action: string }>();
  return results.map((r) => r.action);
}

/** The customer writes at `at` (UTC), by the clock of everything in this isolate; waits for the turn. */
async function writeAt(externalId: string, customer: string, at: number, text: string) {
  vi.useFakeTimers({ toFake: ["Date"], now: at });
  const before = (await actions(customer)).length;
  const r = await ingestApi.ingest([{ ...inboundText(externalId, customer, text), sentAt: at }]);
  expect(r).toMatchObject({ ok: true, results: [{ status: "accepted" }] });
  await vi.waitUntil(async () => (await actions(customer)).length > before, { timeout: 8000, interval: 50 });
  return (await actions(customer)).at(-1);
}

const texts = async (customer: string) => (await sentTo(env.SANDBOX_URL, customer)).map((m) => m.text);

describe("business hours across a daylight-saving change (America/New_York)", () => {
  it("answers in hours, sends the away reply once per closed period, and reads 09:00 as 09:00 on both sides", async () => {
    const { account } = await newYorkTenant({ mode: "away", text: AWAY });
    const c = uniqueCustomer();
    const w = (at: number, text: string) => writeAt(account.externalId, c, at, text);
    // Saturday 7 March, EST: 08:30 is before opening → the away reply.
    expect(await w(Date.UTC(2026, 2, 7, 13, 30), "hello?")).toBe("away_reply");
    // 08:45, same closed period, same conversation → nothing more.
    expect(await w(Date.UTC(2026, 2, 7, 13, 45), "anyone?")).toBe("outside_hours");
    // 09:30 EST → the rules answer.
    expect(await w(Date.UTC(2026, 2, 7, 14, 30), "do you have sesame?")).toBe("canned_reply");
    // 16:55 → still open; 17:10 → closed: a new period, so the away reply again.
    expect(await w(Date.UTC(2026, 2, 7, 21, 55), "and tomorrow?")).toBe("canned_reply");
    expect(await w(Date.UTC(2026, 2, 7, 22, 10), "one more thing")).toBe("away_reply");
    // Through the night, within the idle gap (one conversation), across the jump at 02:00 EST:
    // the same closed period → nothing more.
    expect(await w(Date.UTC(2026, 2, 8, 2, 30), "hello again")).toBe("outside_hours");
    expect(await w(Date.UTC(2026, 2, 8, 6, 30), "01:30 EST")).toBe("outside_hours");
    expect(await w(Date.UTC(2026, 2, 8, 7, 30), "03:30 EDT")).toBe("outside_hours");
    // Monday 9 March, EDT: 13:30Z is 09:30 local → open (under EST it would be 08:30, closed).
    expect(await w(Date.UTC(2026, 2, 9, 13, 30), "morning!")).toBe("canned_reply");
    // Tuesday 10 March is a holiday: closed all day → the away reply.
    expect(await w(Date.UTC(2026, 2, 10, 15, 0), "open today?")).toBe("away_reply");
    expect(await texts(c)).toEqual([AWAY, OPEN, OPEN, AWAY, OPEN, AWAY]);
  });

  it("stays silent outside hours when the channel says so, and answers with the rules when it says that", async () => {
    const silent = await newYorkTenant({ mode: "silence" });
    const c1 = uniqueCustomer();
    expect(await writeAt(silent.account.externalId, c1, Date.UTC(2026, 2, 9, 3, 0), "late night")).toBe(
      "outside_hours",
    );
    expect(await writeAt(silent.account.externalId, c1, Date.UTC(2026, 2, 9, 14, 0), "morning")).toBe(
      "canned_reply",
    );
    expect(await texts(c1)).toEqual([OPEN]);
    const rules = await newYorkTenant({ mode: "rules" });
    const c2 = uniqueCustomer();
    expect(await writeAt(rules.account.externalId, c2, Date.UTC(2026, 2, 9, 3, 0), "late night")).toBe(
      "canned_reply",
    );
  });
});
