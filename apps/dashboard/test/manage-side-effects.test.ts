// Issue 17 item 14: the operator sees a tenant's effects at Meta, Discord and Cloudflare (pending
// with their next attempt, given up with the error code), a deletion that has not finished, and
// the platform's pending / given-up counts (deleted tenants included) on /manage.
import { env } from "cloudflare:workers";
import {
  failSideEffect,
  getPendingSideEffect,
  markTenantDeletingStatement,
  recordSideEffectStatement,
} from "@concierge/storage";
import { describe, expect, it } from "vitest";
import { signIn } from "./helpers.ts";
import { asOperator, signInOperator } from "./operator-helpers.ts";

describe("effects at providers, for the operator", () => {
  it("the tenant page lists them with state, attempts and error; /manage counts pending and given up", async () => {
    const s = await signIn();
    const op = await signInOperator();
    const now = Date.now();
    const leave = { kind: "discord_leave" as const, target: { guild_id: "1300000000000000001" } };
    const rule = { kind: "email_routes_remove" as const, target: { rule_id: "rule-abc" } };
    await env.DB.batch([
      recordSideEffectStatement(env.DB, { tenantId: s.tenantId, ...leave, now }),
      recordSideEffectStatement(env.DB, { tenantId: s.tenantId, ...rule, now }),
      markTenantDeletingStatement(env.DB, s.tenantId, now),
    ]);
    const pending = (await getPendingSideEffect(env.DB, leave.kind, leave.target))!;
    await failSideEffect(env.DB, pending, "http_502", now);
    const gaveUp = (await getPendingSideEffect(env.DB, rule.kind, rule.target))!;
    await failSideEffect(env.DB, gaveUp, "http_403", now, true);

    const page = await asOperator(op, `/manage/tenants/${s.tenantId}`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("Deletion started");
    expect(html).toContain("the 15-minute cron resumes the deletion");
    expect(html).toMatch(
      /data-effect="discord_leave" data-status="pending">[\s\S]*?Bot leaves the Discord server[\s\S]*?Pending \(retried by the cron\)[\s\S]*?<td>1<\/td>[\s\S]*?<code>http_502<\/code>/,
    );
    expect(html).toMatch(
      /data-effect="email_routes_remove" data-status="failed">[\s\S]*?Gave up[\s\S]*?<code>http_403<\/code>/,
    );
    // Ids stay in D1; the page shows none of the targets.
    expect(html).not.toContain("rule-abc");

    const list = await (await asOperator(op, "/manage")).text();
    expect(list).toMatch(/id="effects-summary">[^<]*\d+ pending[^<]*\d+ gave up/);
    // The health page counts them too, with an alert for those that gave up.
    const health = await (await asOperator(op, "/manage/health")).text();
    expect(health).toMatch(/id="effects-pending">[1-9]\d*</);
    expect(health).toMatch(/id="effects-failed">[1-9]\d*</);
    expect(health).toContain('id="effects-failed-alert"');
  });
});
