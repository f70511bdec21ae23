// Issue 18 items 2 and 3 through the dashboard's HTTP routes: the record keeping setting (saved,
// refused out of range with nothing changed), the insights saying what window they cover, and the
// deletion status pages telling the truth while rows remain (Meta's /data-deletion status, the
// operator's tenant page and health page).
import { env } from "cloudflare:workers";
import { createChannelAccount, insertDataDeletion } from "@concierge/storage";
import { beforeAll, describe, expect, it } from "vitest";
import { app, get, post, signIn } from "./helpers.ts";
import { asOperator, postAsOperator, signInOperator, type TestOperator } from "./operator-helpers.ts";

const retentionOf = async (tenantId: string) =>
  (await env.DB.prepare("SELECT retention_days AS d FROM tenants WHERE id = ?")
    .bind(tenantId)
    .first<{ d: number }>())!.d;

/** `n` message rows of the account over `customers` customers (a recursive CTE). */
function seedMessages(tenantId: string, accountId: string, n: number, customers = 7) {
  return env.DB.prepare(
    `WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < ?1 - 1)
     INSERT INTO messages (tenant_id, account_id, channel, direction, provider_message_id, sender_id, recipient_id, created_at)
     SELECT ?2, ?3, 'instagram', 'inbound', 'st_' || ?3 || '_' || i, 'c' || (i % ?5), 'biz', ?4 FROM s`,
  )
    .bind(n, tenantId, accountId, Date.now(), customers)
    .run();
}

const tenantNameOf = async (tenantId: string) =>
  (await env.DB.prepare("SELECT name FROM tenants WHERE id = ?").bind(tenantId).first<{ name: string }>())!
    .name;

describe("record keeping (retention) setting", () => {
  it("shows 90 days for a new tenant and saves a new value", async () => {
    const s = await signIn();
    const page = await (await get(s, "/admin/settings")).text();
    expect(page).toContain('id="retention"');
    expect(page).toContain('name="days" type="number" value="90"');
    expect(page).toContain("From 7 to 730 days.");
    const res = await post(s, "/admin/settings/retention", { days: "30" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/admin/settings?saved=1");
    expect(await retentionOf(s.tenantId)).toBe(30);
    expect(await (await get(s, "/admin/settings")).text()).toContain('name="days" type="number" value="30"');
  });

  it("refuses a value outside 7 to 730, or not a whole number, next to the field, and changes nothing", async () => {
    const s = await signIn();
    for (const days of ["6", "731", "0", "-10", "12.5", "ninety", ""]) {
      const res = await post(s, "/admin/settings/retention", { days });
      expect(res.status, days).toBe(422);
      const html = await res.text();
      expect(html, days).toContain("Enter a whole number of days from 7 to 730.");
      expect(html, days).toContain('aria-invalid="true"');
      expect(await retentionOf(s.tenantId), days).toBe(90);
    }
  });

  it("refuses the form without the session's CSRF token", async () => {
    const s = await signIn();
    const res = await post(s, "/admin/settings/retention", { days: "30" }, { csrf: false });
    expect(res.status).toBe(403);
    expect(await retentionOf(s.tenantId)).toBe(90);
  });

  it("the insights say their window, and that older days were purged when retention is shorter", async () => {
    const s = await signIn();
    const before = await (await get(s, "/admin")).text();
    expect(before).toContain("Covers the last 30 days, in your time zone.");
    expect(before).not.toContain("are deleted under your record keeping setting");
    await post(s, "/admin/settings/retention", { days: "7" });
    const after = await (await get(s, "/admin")).text();
    expect(after).toContain("Covers the last 30 days, in your time zone.");
    expect(after).toContain(
      "Message records older than 7 days are deleted under your record keeping setting.",
    );
  });
});

describe("deletion status while rows remain", () => {
  let op: TestOperator;
  beforeAll(async () => {
    op = await signInOperator();
  });

  it("Meta's status page says how many records are left, not done", async () => {
    const s = await signIn({ business: "new" });
    const account = await createChannelAccount(env.DB, {
      tenantId: s.tenantId,
      channel: "instagram",
      externalId: `1784${Date.now()}`,
    });
    await seedMessages(s.tenantId, account.id, 734);
    const code = `st${crypto.randomUUID().replace(/-/g, "").slice(0, 20)}`;
    await insertDataDeletion(env.DB, {
      code,
      status: "pending",
      requestedAt: Date.now(),
      targets: { accounts: [{ tenantId: s.tenantId, accountId: account.id, pageId: "55" }], users: [] },
    });
    const page = await (await app(`/data-deletion/status?code=${code}`)).text();
    expect(page).toContain("Received: your data is queued for deletion");
    expect(page).toContain("734 records still to delete.");
    expect(page).not.toContain("Done:");
    // The page is public: past 1,000 it counts no further.
    await env.DB.prepare(
      `WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < 499)
       INSERT INTO messages (tenant_id, account_id, channel, direction, provider_message_id, sender_id, recipient_id, created_at)
       SELECT ?1, ?2, 'instagram', 'inbound', 'more_' || i, 'c1', 'biz', ?3 FROM s`,
    )
      .bind(s.tenantId, account.id, Date.now())
      .run();
    expect(await (await app(`/data-deletion/status?code=${code}`)).text()).toContain(
      "At least 1,000 records still to delete.",
    );

    // Once the rows are gone and the request finished, it says done and counts nothing.
    await env.DB.prepare("DELETE FROM messages WHERE account_id = ?").bind(account.id).run();
    await env.DB.prepare("UPDATE data_deletions SET status = 'completed', completed_at = ? WHERE code = ?")
      .bind(Date.now(), code)
      .run();
    const done = await (await app(`/data-deletion/status?code=${code}`)).text();
    expect(done).toContain("Done: everything we held for your account was deleted.");
    expect(done).not.toContain("still to delete");
  });

  it("the operator's tenant and health pages show a deletion under way: key destroyed, rows left, stuck after an hour", async () => {
    const s = await signIn({ business: "new" });
    const account = await createChannelAccount(env.DB, {
      tenantId: s.tenantId,
      channel: "instagram",
      externalId: `1785${Date.now()}`,
    });
    await seedMessages(s.tenantId, account.id, 321);
    // A deletion that began two hours ago: its key went first, its rows are still there.
    await env.DB.batch([
      env.DB.prepare("UPDATE tenants SET deleting_at = ? WHERE id = ?").bind(
        Date.now() - 25 * 3600_000,
        s.tenantId,
      ),
      env.DB.prepare("DELETE FROM tenant_keys WHERE tenant_id = ?").bind(s.tenantId),
    ]);
    const tenant = await (await asOperator(op, `/manage/tenants/${s.tenantId}`)).text();
    expect(tenant).toMatch(/id="deleting-key">Destroyed: nothing sealed for this tenant can be read\./);
    expect(tenant).toMatch(/id="deleting-left">321 message records, 0 approvals, \d+ other rows/);

    const health = await (await asOperator(op, "/manage/health")).text();
    const row =
      new RegExp(`<li data-deleting-tenant="${s.tenantId}">[\\s\\S]*?</li>`).exec(health)?.[0] ?? "";
    expect(row).toContain(`/manage/tenants/${s.tenantId}`);
    expect(row).toContain("Stuck: started more than a day ago.");
  });

  it("a deletion too large for its first pass says so: the operator lands on the tenant's page, the owner on 'being removed'", async () => {
    // 31 chunks of 1,000 rows (one customer): one more than the first pass runs.
    for (const who of ["operator", "owner"] as const) {
      const s = await signIn({ business: "new" });
      const account = await createChannelAccount(env.DB, {
        tenantId: s.tenantId,
        channel: "instagram",
        externalId: `1786${Date.now()}`,
      });
      await seedMessages(s.tenantId, account.id, 31_500, 1);
      const name = await tenantNameOf(s.tenantId);
      if (who === "operator") {
        const res = await postAsOperator(op, `/manage/tenants/${s.tenantId}/delete`, { confirmName: name });
        expect(res.status).toBe(303);
        expect(res.headers.get("location")).toBe(`/manage/tenants/${s.tenantId}`);
        const tenant = await (await asOperator(op, `/manage/tenants/${s.tenantId}`)).text();
        expect(tenant).toContain("Destroyed: nothing sealed for this tenant can be read.");
        expect(tenant).toMatch(/id="deleting-left">[\d,]+ message records/);
      } else {
        const res = await post(s, "/admin/settings/delete", { confirmName: name });
        expect(res.status).toBe(303);
        expect(res.headers.get("location")).toBe("/account-deleted?finishing=1");
        const page = await (await app("/account-deleted?finishing=1")).text();
        expect(page).toContain("Your data can no longer be read: its key was destroyed first.");
        // Its session went with the key.
        expect((await get(s, "/admin")).status).not.toBe(200);
      }
      const left = (await env.DB.prepare("SELECT COUNT(*) AS n FROM messages WHERE tenant_id = ?")
        .bind(s.tenantId)
        .first<{ n: number }>())!.n;
      expect(left).toBeGreaterThan(0);
      expect(left).toBeLessThan(31_500);
    }
  }, 120_000);
});
