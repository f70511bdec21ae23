// Channel health in the dashboard (issue 19 item 9): the channels page says when each account last
// received a customer message, and the settings page sets after how many hours of silence a
// channel that gets daily messages alerts the tenant (0: never). Through the HTTP routes.
import { env } from "cloudflare:workers";
import { createChannelAccount } from "@concierge/storage";
import { describe, expect, it } from "vitest";
import { get, post, signIn } from "./helpers.ts";

const hoursOf = async (tenantId: string) =>
  (await env.DB.prepare("SELECT silence_alert_hours AS h FROM tenants WHERE id = ?")
    .bind(tenantId)
    .first<{ h: number }>())!.h;

/** The hidden settings version on the page as it is now. */
async function version(s: Awaited<ReturnType<typeof signIn>>): Promise<string> {
  const m = /name="version" value="([^"]+)"/.exec(await (await get(s, "/admin/settings")).text());
  if (!m) throw new Error("no version field");
  return m[1]!;
}

describe("the quiet channel alert setting", () => {
  it("shows 24 hours for a new tenant, saves a new value and 0 (off)", async () => {
    const s = await signIn();
    const page = await (await get(s, "/admin/settings")).text();
    expect(page).toContain('id="quiet-channels"');
    expect(page).toContain('name="hours" type="number" value="24"');
    for (const hours of ["6", "0"]) {
      const res = await post(s, "/admin/settings/silence", { hours, version: await version(s) });
      expect(res.status).toBe(303);
      expect(res.headers.get("location")).toBe("/admin/settings?saved=1");
      expect(await hoursOf(s.tenantId)).toBe(Number(hours));
    }
    expect(await (await get(s, "/admin/settings")).text()).toContain('name="hours" type="number" value="0"');
  });

  it("refuses a value outside 0 to 168 next to the field, a stale form with the stale message, and changes nothing", async () => {
    const s = await signIn();
    for (const hours of ["169", "-1", "2.5", "soon", ""]) {
      const res = await post(s, "/admin/settings/silence", { hours });
      expect(res.status, hours).toBe(422);
      const html = await res.text();
      expect(html, hours).toContain("Enter a whole number of hours from 0 to 168.");
      expect(html, hours).toContain('aria-invalid="true"');
    }
    const shown = await version(s);
    await post(s, "/admin/settings/retention", { days: "30", version: shown });
    const stale = await post(s, "/admin/settings/silence", { hours: "6", version: shown });
    expect(stale.status).toBe(409);
    expect(await stale.text()).toContain("changed somewhere else");
    expect(await hoursOf(s.tenantId)).toBe(24);
    expect((await post(s, "/admin/settings/silence", { hours: "6" }, { csrf: false })).status).toBe(403);
    expect(await hoursOf(s.tenantId)).toBe(24);
  });
});

describe("the channels page", () => {
  it("shows when each account last received a customer message, or that none has yet", async () => {
    const s = await signIn();
    const [talking, silent] = await Promise.all(
      ["one", "two"].map((n) =>
        createChannelAccount(env.DB, {
          tenantId: s.tenantId,
          channel: "whatsapp",
          externalId: `93${Date.now() % 1e9}${n === "one" ? 1 : 2}`,
          displayName: `Desk ${n}`,
        }),
      ),
    );
    const at = Date.UTC(2026, 10, 30, 9, 15);
    await env.DB.prepare(
      `INSERT INTO messages (tenant_id, account_id, channel, direction, provider_message_id, sender_id, recipient_id, created_at)
       VALUES (?1, ?2, 'whatsapp', 'inbound', ?3, 'c1', 'biz', ?4)`,
    )
      .bind(s.tenantId, talking!.id, `health_${talking!.id}`, at)
      .run();
    const page = await (await get(s, "/admin/channels")).text();
    expect(page).toContain("Last customer message");
    const row = (id: string) =>
      page.slice(
        page.indexOf(`id="account-${id}"`),
        page.indexOf("</tr>", page.indexOf(`id="account-${id}"`)),
      );
    expect(row(talking!.id)).toContain(`<time datetime="${new Date(at).toISOString()}">`);
    expect(row(silent!.id)).toContain("None yet");
  });
});
