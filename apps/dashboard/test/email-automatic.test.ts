// Issue 17, item 1, through HTTP: the tenant's email page shows today's automatic mail against the
// daily limit and when the limit paused it; the operator sets the limit on /manage/email (audited).
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { get, post, signIn } from "./helpers.ts";
import { asOperator, postAsOperator, signInOperator } from "./operator-helpers.ts";

const today = () => new Date().toISOString().slice(0, 10);

async function withSubdomain() {
  const s = await signIn();
  const name = `cap${crypto.randomUUID().slice(0, 8)}`;
  expect((await post(s, "/admin/email", { name })).status).toBe(303);
  return s;
}

describe("the tenant's email page: automatic mail today", () => {
  it("shows how many automatic emails went out of the limit", async () => {
    const s = await withSubdomain();
    await env.DB.prepare("INSERT INTO email_automatic_days (tenant_id, day, sent) VALUES (?, ?, 37)")
      .bind(s.tenantId, today())
      .run();
    const page = await (await get(s, "/admin/email")).text();
    expect(page).toContain('id="automatic-mail"');
    expect(page).toContain("37 of 200 automatic emails (auto-replies and forwards) sent today.");
    expect(page).not.toContain('id="automatic-mail-paused"');
  });

  it("shows the cap hit: paused until the next UTC midnight, mail still reaches the inbox", async () => {
    const s = await withSubdomain();
    const hitAt = Date.now() - 60_000;
    await env.DB.prepare(
      "INSERT INTO email_automatic_days (tenant_id, day, sent, limited_at) VALUES (?, ?, 200, ?)",
    )
      .bind(s.tenantId, today(), hitAt)
      .run();
    const page = await (await get(s, "/admin/email")).text();
    expect(page).toContain("200 of 200 automatic emails");
    const paused = /<p class="notice error" role="status" id="automatic-mail-paused">([^<]*)<\/p>/.exec(page);
    expect(paused?.[1]).toMatch(
      /^Today(&#39;|')s limit was reached at .+: auto-replies and forwards are paused until .+UTC\. New mail still reaches your inbox\.$/,
    );
    // Another tenant is not affected.
    const other = await withSubdomain();
    expect(await (await get(other, "/admin/email")).text()).not.toContain('id="automatic-mail-paused"');
  });
});

describe("the operator's limit", () => {
  it("saves the daily limit with one audit row, refuses a bad value, and the tenant's page shows it", async () => {
    const op = await signInOperator();
    const page = await (await asOperator(op, "/manage/email")).text();
    expect(page).toContain('name="dailyLimit"');
    expect(page).toContain('value="200"');

    const bad = await postAsOperator(op, "/manage/email", { dailyLimit: "-3" });
    expect(bad.status).toBe(422);
    // The operator's locale writes the range its own way (en-IN: 1,00,000).
    expect(await bad.text()).toMatch(/Enter a whole number from 0 to (100,000|1,00,000)\./);

    const before = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'email.automatic_limit'",
    ).first<{
      n: number;
    }>();
    const saved = await postAsOperator(op, "/manage/email", { dailyLimit: "150" });
    expect(saved.status).toBe(303);
    expect(saved.headers.get("location")).toBe("/manage/email?done=saved");
    const rows = await env.DB.prepare(
      "SELECT operator_email AS email, summary FROM audit_log WHERE action = 'email.automatic_limit' ORDER BY id DESC",
    ).all<{ email: string; summary: string }>();
    expect(rows.results.length).toBe((before?.n ?? 0) + 1);
    expect(rows.results[0]).toMatchObject({ email: op.email });
    expect(JSON.parse(rows.results[0]!.summary)).toEqual({ dailyLimit: 150 });
    expect(await (await asOperator(op, "/manage/email?done=saved")).text()).toContain('value="150"');

    const s = await withSubdomain();
    expect(await (await get(s, "/admin/email")).text()).toContain("0 of 150 automatic emails");
    // Back to the default for the other tests.
    expect((await postAsOperator(op, "/manage/email", { dailyLimit: "200" })).status).toBe(303);
  });

  it("refuses a form without the operator's CSRF token and changes nothing", async () => {
    const op = await signInOperator();
    const res = await postAsOperator(op, "/manage/email", { dailyLimit: "5" }, { csrf: null });
    expect(res.status).toBe(403);
    const row = await env.DB.prepare(
      "SELECT daily_limit AS n FROM email_automatic_settings WHERE id = 1",
    ).first<{
      n: number;
    }>();
    expect(row?.n).toBe(200);
  });
});

describe("confirmation links past the day's limit", () => {
  it("the addresses page and the notification email field say so, and nothing is added or sent", async () => {
    const s = await signIn();
    await env.DB.prepare("INSERT INTO email_automatic_days (tenant_id, day, verify_sent) VALUES (?, ?, 20)")
      .bind(s.tenantId, today())
      .run();
    const address = `cap-${crypto.randomUUID().slice(0, 8)}@example.com`;
    const res = await post(s, "/admin/email/addresses", { address });
    expect(res.status).toBe(422);
    const page = await res.text();
    expect(page).toContain("At most 20 confirmation links can be sent in a day.");
    expect(page).toMatch(/name="address"[^>]*aria-invalid="true"/);
    const verify = await post(s, "/admin/settings/notifications/verify", { email: address });
    expect(verify.status).toBe(422);
    expect(await verify.text()).toContain("At most 20 confirmation links can be sent in a day.");
    const listed = await env.DB.prepare(
      "SELECT COUNT(*) AS n FROM email_forward_addresses WHERE tenant_id = ?",
    )
      .bind(s.tenantId)
      .first<{ n: number }>();
    expect(listed?.n).toBe(0);
  });
});
