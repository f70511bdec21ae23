import { env } from "cloudflare:workers";
import { createChannelAccount, getReplyConfig, getTenantSettings, saveReplyConfig } from "@concierge/storage";
import { describe, expect, it } from "vitest";
import { get, post, signIn, type TestSession } from "./helpers.ts";

// Business hours (issue 19 item 3) through the dashboard: the schedule page, each channel's choice
// outside hours in its reply rules' settings, and the test panel saying which applies when.

const WEEK = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;

/** The form as a person fills it: 09:00–13:00 and 14:00–18:00 on weekdays, weekends closed. */
function schedule(version: string, extra: Record<string, string> = {}): Record<string, string> {
  const f: Record<string, string> = { version, enabled: "on", holidays: "2026-12-25\n2026-12-26" };
  for (const d of WEEK) {
    const weekend = d === "sat" || d === "sun";
    f[`${d}-0-open`] = weekend ? "" : "09:00";
    f[`${d}-0-close`] = weekend ? "" : "13:00";
    f[`${d}-1-open`] = weekend ? "" : "14:00";
    f[`${d}-1-close`] = weekend ? "" : "18:00";
  }
  return { ...f, ...extra };
}

async function versionOf(s: TestSession, path: string): Promise<string> {
  return /name="version" value="(\d+)"/.exec(await (await get(s, path)).text())![1]!;
}

describe("business hours", () => {
  it("saves a weekly schedule with a lunch break and holidays, and shows it again", async () => {
    const s = await signIn();
    const page = await (await get(s, "/admin/hours")).text();
    expect(page).toContain("Times are in your time zone, Asia/Kolkata.");
    const res = await post(s, "/admin/hours", schedule(await versionOf(s, "/admin/hours")));
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/admin/hours?saved=1");
    const settings = await getTenantSettings(env.DB, s.tenantId);
    expect(settings?.businessHours).toEqual({
      enabled: true,
      week: {
        mon: [
          { open: "09:00", close: "13:00" },
          { open: "14:00", close: "18:00" },
        ],
        tue: [
          { open: "09:00", close: "13:00" },
          { open: "14:00", close: "18:00" },
        ],
        wed: [
          { open: "09:00", close: "13:00" },
          { open: "14:00", close: "18:00" },
        ],
        thu: [
          { open: "09:00", close: "13:00" },
          { open: "14:00", close: "18:00" },
        ],
        fri: [
          { open: "09:00", close: "13:00" },
          { open: "14:00", close: "18:00" },
        ],
        sat: [],
        sun: [],
      },
      holidays: ["2026-12-25", "2026-12-26"],
    });
    const again = await (await get(s, "/admin/hours?saved=1")).text();
    expect(again).toContain('name="wed-1-open" value="14:00"');
    expect(again).toContain("2026-12-25\n2026-12-26</textarea>");
  });

  it("refuses a closing time before its opening, a half-filled time and a bad holiday, next to the field, saving nothing", async () => {
    const s = await signIn();
    const version = await versionOf(s, "/admin/hours");
    const res = await post(
      s,
      "/admin/hours",
      schedule(version, { "mon-0-close": "08:00", "tue-1-close": "", holidays: "25/12/2026" }),
    );
    expect(res.status).toBe(422);
    const body = await res.text();
    expect(body).toContain('id="hours-mon-err"');
    expect(body).toContain("Give both an opening and a closing time.");
    expect(body).toContain("Write each holiday as a date like 2026-12-25.");
    expect(body).toContain('name="mon-0-close" value="08:00"');
    expect((await getTenantSettings(env.DB, s.tenantId))?.businessHours).toBeNull();
    const overlap = await post(s, "/admin/hours", schedule(version, { "mon-1-open": "12:00", holidays: "" }));
    expect(overlap.status).toBe(422);
    expect(await overlap.text()).toContain("must not overlap");
  });

  it("takes a closing time of 00:00 as midnight, and shows it as 00:00 again", async () => {
    const s = await signIn();
    const res = await post(
      s,
      "/admin/hours",
      schedule(await versionOf(s, "/admin/hours"), { "fri-1-close": "00:00" }),
    );
    expect(res.status).toBe(303);
    const hours = (await getTenantSettings(env.DB, s.tenantId))?.businessHours;
    expect(hours?.week.fri).toEqual([
      { open: "09:00", close: "13:00" },
      { open: "14:00", close: "24:00" },
    ]);
    expect(await (await get(s, "/admin/hours")).text()).toContain('name="fri-1-close" value="00:00"');
  });

  it("of two saves from pages shown at one version, one lands and the other is told it is stale", async () => {
    const s = await signIn();
    const version = await versionOf(s, "/admin/hours");
    const [a, b] = await Promise.all([
      post(s, "/admin/hours", schedule(version)),
      post(s, "/admin/hours", schedule(version, { "sat-0-open": "10:00", "sat-0-close": "14:00" })),
    ]);
    expect([a.status, b.status].sort()).toEqual([303, 409]);
    const loser = a.status === 409 ? a : b;
    expect(await loser.text()).toContain("changed somewhere else after you opened this page");
  });

  it("a channel chooses an away reply outside hours; the test panel says what applies at a chosen time", async () => {
    const s = await signIn();
    await post(s, "/admin/hours", schedule(await versionOf(s, "/admin/hours")));
    const account = await createChannelAccount(env.DB, {
      tenantId: s.tenantId,
      channel: "whatsapp",
      externalId: `1556${String(Date.now() % 1e7).padStart(7, "0")}`,
    });
    await saveReplyConfig(env.DB, s.tenantId, account.id, {
      rules: [],
      default_rule: { response: { kind: "canned", text: "Thanks!" } },
    });
    const path = `/admin/rules/whatsapp/${account.id}`;
    const settings = { version: await versionOf(s, path), enabled: "on", waitSeconds: "2" };
    // An away reply needs its text.
    const empty = await post(s, `${path}/settings`, { ...settings, outsideMode: "away", awayText: " " });
    expect(empty.status).toBe(422);
    expect(await empty.text()).toContain("Write the away reply.");
    const saved = await post(s, `${path}/settings`, {
      ...settings,
      outsideMode: "away",
      awayText: "We're closed, back at 9.",
    });
    expect(saved.status).toBe(303);
    expect((await getReplyConfig(env.DB, account.id))?.config.outside_hours).toEqual({
      mode: "away",
      text: "We're closed, back at 9.",
    });
    // Monday 7 December 2026, 13:30 (lunch): closed, the away reply; 10:00: open.
    const lunch = await (await post(s, `${path}/test`, { text: "hello", at: "2026-12-07T13:30" })).text();
    expect(lunch).toContain("At 2026-12-07 13:30 you are closed: this channel sends its away reply");
    expect(lunch).toContain("<blockquote>We&#39;re closed, back at 9.</blockquote>");
    expect(lunch).toContain('name="at" step="60" value="2026-12-07T13:30"');
    const morning = await (await post(s, `${path}/test`, { text: "hello", at: "2026-12-07T10:00" })).text();
    expect(morning).toContain("At 2026-12-07 10:00 you are open: the reply rules answer.");
    // Not a day of the calendar: the panel answers for now instead of rolling into March.
    const bogus = await (await post(s, `${path}/test`, { text: "hello", at: "2026-02-30T10:00" })).text();
    expect(bogus).not.toContain("At 2026-03-02");
    expect(bogus).toMatch(/At \d{4}-\d{2}-\d{2} \d{2}:\d{2} you are/);
    // Christmas is a holiday.
    const christmas = await (await post(s, `${path}/test`, { text: "hello", at: "2026-12-25T10:00" })).text();
    expect(christmas).toContain("you are closed");
  });
});
