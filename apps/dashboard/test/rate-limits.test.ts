// Issue 17, item 7: the dashboard's rate limits through HTTP. For each limited action, the
// requests up to the limit go through and the next one inside the same window gets the 429 page
// (Retry-After, Fluent text, a plain page) with nothing done; another key is not held back.
// vitest.config.ts sets small limits over 10 s (test/rate-limits.ts).
import { env } from "cloudflare:workers";
import { createChannelAccount, creditBalance, saveReplyConfig } from "@concierge/storage";
import { sentEmails } from "@concierge/testing/sandbox-client";
import { describe, expect, it } from "vitest";
import { app, get, post, signIn } from "./helpers.ts";
import { atWindowStart, expectLimited, PERIOD_MS } from "./rate-limit-helpers.ts";
import { TEST_RATE_LIMITS } from "./rate-limits.ts";

const newIp = () => `2001:db8:${crypto.randomUUID().slice(0, 4)}:${crypto.randomUUID().slice(0, 4)}::1`;

describe("rate limits", () => {
  it(
    "limits sign-in starts and callbacks per visitor network",
    async () => {
      const { limit } = TEST_RATE_LIMITS.SIGN_IN_RATE_LIMIT.simple;
      const ip = newIp();
      const from = (addr: string) => ({ headers: { "cf-connecting-ip": addr } });
      const window = await atWindowStart();
      for (let i = 0; i < limit; i++) {
        const path = i % 2 === 0 ? "/auth/google/start" : "/auth/facebook/start";
        const res = await app(path, from(ip));
        expect(res.status, `start ${i + 1}`).toBe(302);
      }
      const kvBefore = (await env.KV.list()).keys.length;
      // The N+1th: refused, no sign-in state written, no cookie set.
      await expectLimited(await app("/auth/google/start", from(ip)), "/sign-in");
      await expectLimited(await app("/auth/facebook/start", from(ip)), "/sign-in");
      // So do the signed-in area's OAuth starts (Instagram, Discord) from the same network.
      const signedIn = await signIn();
      for (const path of ["/admin/instagram/start", "/admin/discord/install"]) {
        await expectLimited(
          await app(path, { headers: { cookie: signedIn.cookie, "cf-connecting-ip": ip } }),
          "/admin",
        );
      }
      // The callback (where a sign-up happens) counts under the same limit.
      await expectLimited(await app("/auth/google/callback?state=x&code=y", from(ip)), "/sign-in");
      // Another address of the same /64 is the same visitor.
      await expectLimited(await app("/auth/google/start", from(ip.replace(/::1$/, ":1:2:3:4"))), "/sign-in");
      expect((await env.KV.list()).keys.length).toBe(kvBefore);
      expect(window()).toBe(0);
      // Another visitor is not held back.
      expect((await app("/auth/google/start", from(newIp()))).status).toBe(302);
    },
    3 * PERIOD_MS,
  );

  it(
    "limits verification mails per tenant: forward addresses, resends and the notification email",
    async () => {
      const { limit } = TEST_RATE_LIMITS.VERIFY_MAIL_RATE_LIMIT.simple;
      const s = await signIn();
      const other = await signIn();
      const address = (i: number) => `limit-${i}-${crypto.randomUUID().slice(0, 8)}@example.com`;
      const window = await atWindowStart();
      const sent: string[] = [];
      for (let i = 0; i < limit; i++) {
        const a = address(i);
        const res = await post(s, "/admin/email/addresses", { address: a });
        expect(res.status, `address ${i + 1}`).toBe(303);
        sent.push(a);
      }
      const over = address(99);
      await expectLimited(await post(s, "/admin/email/addresses", { address: over }), "/admin");
      const first = await env.DB.prepare(
        "SELECT id, token_hash AS tokenHash FROM email_forward_addresses WHERE address = ?",
      )
        .bind(sent[0])
        .first<{ id: string; tokenHash: string }>();
      await expectLimited(await post(s, `/admin/email/addresses/${first!.id}/resend`), "/admin");
      const notify = address(98);
      await expectLimited(
        await post(s, "/admin/settings/notifications/verify", { email: notify, notifyEmail: notify }),
        "/admin",
      );
      await expectLimited(
        await post(s, "/dashboard/wizard/notifications/verify", { email: notify, notifyEmail: notify }),
        "/admin",
      );
      expect(window()).toBe(0);
      // Nothing done: no new address, no new token, no mail to the refused addresses.
      const rows = await env.DB.prepare(
        "SELECT COUNT(*) AS n FROM email_forward_addresses WHERE tenant_id = ?",
      )
        .bind(s.tenantId)
        .first<{ n: number }>();
      expect(rows!.n).toBe(limit);
      const after = await env.DB.prepare(
        "SELECT token_hash AS tokenHash FROM email_forward_addresses WHERE id = ?",
      )
        .bind(first!.id)
        .first<{ tokenHash: string }>();
      expect(after!.tokenHash).toBe(first!.tokenHash);
      expect(await sentEmails(env.SANDBOX_URL, over)).toEqual([]);
      expect(await sentEmails(env.SANDBOX_URL, notify)).toEqual([]);
      expect(await sentEmails(env.SANDBOX_URL, sent[0])).toHaveLength(1);
      // Another tenant is not held back.
      expect((await post(other, "/admin/email/addresses", { address: address(97) })).status).toBe(303);
    },
    3 * PERIOD_MS,
  );

  it(
    "limits WhatsApp self-test reruns per tenant",
    async () => {
      const { limit } = TEST_RATE_LIMITS.SELF_TEST_RATE_LIMIT.simple;
      const s = await signIn();
      const account = await createChannelAccount(env.DB, {
        tenantId: s.tenantId,
        channel: "whatsapp",
        externalId: `1555${String(Date.now() % 1e8).padStart(8, "0")}`,
        displayName: "+1 555 0100",
      });
      const selfTestAt = async () =>
        (await env.DB.prepare("SELECT self_test_at AS at FROM channel_accounts WHERE id = ?")
          .bind(account.id)
          .first<{ at: number | null }>())!.at;
      const window = await atWindowStart();
      for (let i = 0; i < limit; i++) {
        const res = await post(s, `/admin/channels/${account.id}/self-test`);
        expect(res.status, `rerun ${i + 1}`).toBe(303);
      }
      const before = await selfTestAt();
      expect(before).not.toBeNull();
      await expectLimited(await post(s, `/admin/channels/${account.id}/self-test`), "/admin");
      expect(window()).toBe(0);
      // No new attempt was started.
      expect(await selfTestAt()).toBe(before);
    },
    4 * PERIOD_MS,
  );

  it(
    "limits the rules test panel per tenant, its previews included, spending nothing past the limit",
    async () => {
      const { limit } = TEST_RATE_LIMITS.TEST_PANEL_RATE_LIMIT.simple;
      const s = await signIn();
      const account = await createChannelAccount(env.DB, {
        tenantId: s.tenantId,
        channel: "whatsapp",
        externalId: `1556${String(Date.now() % 1e8).padStart(8, "0")}`,
        displayName: "+1 556 0100",
      });
      await saveReplyConfig(env.DB, s.tenantId, account.id, {
        rules: [
          {
            id: "hours",
            matcher: { kind: "static_text", keywords: ["hours"] },
            response: { kind: "canned", text: "Open 7 to 7." },
          },
        ],
        default_rule: { response: { kind: "canned", text: "Thanks!" } },
      });
      const path = `/admin/rules/whatsapp/${account.id}`;
      const balance = await creditBalance(env.DB, s.tenantId);
      const window = await atWindowStart();
      for (let i = 0; i < limit; i++) {
        const res = await post(s, `${path}/test`, { text: `what are your hours ${i}` });
        expect(res.status, `test ${i + 1}`).toBe(200);
      }
      await expectLimited(await post(s, `${path}/test`, { text: "what are your hours?" }), "/admin");
      // app.js's partial request gets the same answer (it then falls back to the plain form post).
      await expectLimited(
        await post(s, `${path}/test`, { text: "hours?" }, { headers: { "x-partial": "1" } }),
        "/admin",
      );
      await expectLimited(
        await post(s, `${path}/preview`, { text: "hours?", previewId: crypto.randomUUID() }),
        "/admin",
      );
      expect(window()).toBe(0);
      expect(await creditBalance(env.DB, s.tenantId)).toBe(balance);
      // Another tenant's panel is not held back.
      const other = await signIn();
      const page = await get(other, "/admin/rules");
      expect(page.status).toBe(200);
    },
    3 * PERIOD_MS,
  );

  it(
    "limits persona saves per tenant (each queues a safety check), saving nothing past the limit",
    async () => {
      const { limit } = TEST_RATE_LIMITS.PERSONA_SAVE_RATE_LIMIT.simple;
      const s = await signIn();
      const persona = (i: number) => ({
        kind: "builder",
        voice: "friendly",
        businessName: `Limit Cafe ${i}`,
        businessType: "cafe",
      });
      const savedName = async () =>
        (
          await env.DB.prepare("SELECT persona_json AS p FROM personas WHERE tenant_id = ?")
            .bind(s.tenantId)
            .first<{ p: string }>()
        )?.p;
      const window = await atWindowStart();
      for (let i = 0; i < limit; i++) {
        const res = await post(s, "/admin/persona", persona(i));
        expect(res.status, `save ${i + 1}`).toBe(303);
      }
      const before = await savedName();
      expect(before).toContain(`Limit Cafe ${limit - 1}`);
      await expectLimited(await post(s, "/admin/persona", persona(99)), "/admin");
      expect(window()).toBe(0);
      expect(await savedName()).toBe(before);
    },
    3 * PERIOD_MS,
  );
});
