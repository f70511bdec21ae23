import { env, exports } from "cloudflare:workers";
import { saveReplyConfig } from "@concierge/storage";
import {
  igAttachment,
  igDeleted,
  igEcho,
  igReaction,
  igRead,
  igReel,
  igShare,
  igStoryMention,
  igStoryReply,
  igText,
  instagramEntry,
  instagramPayload,
  uniqueIgsid,
} from "@concierge/testing/instagram-fixtures";
import { signedMetaRequest } from "@concierge/testing/meta";
import { instagramSentTo } from "@concierge/testing/sandbox-client";
import { DEMO } from "@concierge/testing/seed";
import { TEST_SECRETS } from "@concierge/testing/secrets";
import { describe, expect, it, vi } from "vitest";

const URL_ = "https://meta-webhooks.test/webhook/instagram";
const HOURS = "We're open 7am–7pm.";
const DEFAULT = "Thanks for your message!";

/** The page tokens of each connected account, by its Instagram id. */
const pageTokens = new Map<string, string>();

/**
 * A connected Instagram account of the demo tenant, connected as the dashboard does it (the
 * tenant API's connectInstagram, with a page and token the sandbox's Graph API knows): keyword
 * "hours" answers canned.
 */
async function igAccount() {
  const externalId = uniqueIgsid();
  const pageId = uniqueIgsid();
  await fetch(`${env.SANDBOX_URL}/__sandbox/pages`, {
    method: "POST",
    body: JSON.stringify({ id: pageId, instagram: { id: externalId, username: "chai_and_co" } }),
  });
  const tokens = (await (
    await fetch(`${env.SANDBOX_URL}/__sandbox/pages/tokens`, {
      method: "POST",
      body: JSON.stringify({ pageId }),
    })
  ).json()) as { pageToken: string };
  const connected = await env.PIPELINE_TENANT.connectInstagram(DEMO.tenantId, {
    pageId,
    instagramId: externalId,
    username: "chai_and_co",
    pageToken: tokens.pageToken,
  });
  if (!connected.ok) throw new Error(`connectInstagram: ${connected.error.code}`);
  pageTokens.set(externalId, tokens.pageToken);
  await saveReplyConfig(env.DB, DEMO.tenantId, connected.accountId, {
    wait_seconds: 0,
    rules: [
      {
        id: "hours",
        matcher: { kind: "static_text", keywords: ["hours", "open"] },
        response: { kind: "canned", text: HOURS },
      },
    ],
    default_rule: { response: { kind: "canned", text: DEFAULT } },
  });
  return externalId;
}

async function postSigned(payload: unknown) {
  const signed = await signedMetaRequest(TEST_SECRETS.metaAppSecret, payload);
  return exports.default.fetch(
    new Request(URL_, { method: "POST", body: signed.body, headers: signed.headers }),
  );
}

const one = (account: string, ...events: unknown[]) => instagramPayload(instagramEntry(account, ...events));

async function repliesTo(customer: string) {
  await vi.waitUntil(async () => (await instagramSentTo(env.SANDBOX_URL, customer)).sent.length > 0, {
    timeout: 8000,
    interval: 50,
  });
  return (await instagramSentTo(env.SANDBOX_URL, customer)).sent;
}

function inboundRow(mid: string) {
  return vi.waitUntil(
    () =>
      env.DB.prepare(
        "SELECT channel, kind, has_attachment, action FROM messages WHERE direction = 'inbound' AND provider_message_id = ?",
      )
        .bind(mid)
        .first<{ channel: string; kind: string; has_attachment: number; action: string }>(),
    { timeout: 8000, interval: 50 },
  );
}

async function rowsFrom(customer: string) {
  const r = await env.DB.prepare("SELECT COUNT(*) AS n FROM messages WHERE sender_id = ? OR recipient_id = ?")
    .bind(customer, customer)
    .first<{ n: number }>();
  return r!.n;
}

const settle = () => new Promise((r) => setTimeout(r, 400));

describe("POST /webhook/instagram", () => {
  it("refuses a forged signature with 401 and hands nothing on", async () => {
    const account = await igAccount();
    const customer = uniqueIgsid();
    const signed = await signedMetaRequest(
      "not-the-app-secret",
      one(account, igText({ from: customer, to: account, text: "hours?" })),
    );
    const res = await exports.default.fetch(
      new Request(URL_, { method: "POST", body: signed.body, headers: signed.headers }),
    );
    expect(res.status).toBe(401);
    await settle();
    expect(await rowsFrom(customer)).toBe(0);
  });

  it("answers the subscription handshake with the verify token", async () => {
    const ok = await exports.default.fetch(
      `${URL_}?hub.mode=subscribe&hub.verify_token=${TEST_SECRETS.whatsappVerifyToken}&hub.challenge=42`,
    );
    expect(await ok.text()).toBe("42");
    const bad = await exports.default.fetch(
      `${URL_}?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=42`,
    );
    expect(bad.status).toBe(403);
  });

  it("matches a text DM and replies through the page; the row is channel instagram", async () => {
    const account = await igAccount();
    const customer = uniqueIgsid();
    const dm = igText({ from: customer, to: account, text: "What are your hours? ☕" });
    const res = await postSigned(one(account, dm));
    expect(await res.json()).toEqual({ ok: true, accepted: 1 });
    const [reply] = await repliesTo(customer);
    expect(reply).toMatchObject({ text: HOURS, pageToken: pageTokens.get(account) });
    expect(await inboundRow(dm.message.mid)).toMatchObject({
      channel: "instagram",
      kind: "text",
      has_attachment: 0,
    });
  });

  it("passes attachments on as media with an attachment, and their text to the rules", async () => {
    const account = await igAccount();
    for (const type of ["image", "video", "audio", "file"] as const) {
      const customer = uniqueIgsid();
      const dm = igAttachment({ from: customer, to: account, type });
      expect((await postSigned(one(account, dm))).status).toBe(200);
      expect((await repliesTo(customer))[0]!.text).toBe(DEFAULT);
      expect(await inboundRow(dm.message.mid)).toMatchObject({ kind: "media", has_attachment: 1 });
    }
  });

  it("summarizes story replies, story mentions, shared posts and reels", async () => {
    const account = await igAccount();
    const cases = [
      igStoryReply({ from: uniqueIgsid(), to: account, text: "are you open sunday?" }),
      igStoryMention({ from: uniqueIgsid(), to: account }),
      igShare({ from: uniqueIgsid(), to: account }),
      igReel({ from: uniqueIgsid(), to: account }),
    ];
    for (const dm of cases) expect((await postSigned(one(account, dm))).status).toBe(200);
    // The story reply's own words still match a rule; the others get the default answer.
    expect((await repliesTo(cases[0]!.sender.id))[0]!.text).toBe(HOURS);
    expect(await inboundRow(cases[0]!.message.mid)).toMatchObject({ kind: "text", has_attachment: 0 });
    for (const dm of cases.slice(1)) {
      expect((await repliesTo(dm.sender.id))[0]!.text).toBe(DEFAULT);
      expect(await inboundRow(dm.message.mid)).toMatchObject({ kind: "media", has_attachment: 1 });
    }
  });

  it("ignores echoes of our own sends, reactions, reads and deletions", async () => {
    const account = await igAccount();
    const customer = uniqueIgsid();
    const earlier = igText({ from: customer, to: account, text: "hours?" });
    const res = await postSigned(
      one(
        account,
        igEcho({ from: account, to: customer, text: "We're open." }),
        igReaction({ from: customer, to: account, reactedMid: earlier.message.mid }),
        igRead({ from: customer, to: account, readMid: earlier.message.mid }),
        igDeleted({ from: customer, to: account }),
        {
          sender: { id: customer },
          recipient: { id: account },
          timestamp: Date.now(),
          some_future_event: {},
        },
      ),
    );
    expect(await res.json()).toEqual({ ok: true, accepted: 0 });
    await settle();
    expect((await instagramSentTo(env.SANDBOX_URL, customer)).attempts).toBe(0);
    expect(await rowsFrom(customer)).toBe(0);
  });

  it("reads several entries and events in one body, and de-duplicates a redelivery", async () => {
    const [a, b] = [await igAccount(), await igAccount()];
    const [c1, c2] = [uniqueIgsid(), uniqueIgsid()];
    const m1 = igText({ from: c1, to: a, text: "hours?" });
    const m2 = igText({ from: c2, to: b, text: "hello" });
    const body = instagramPayload(instagramEntry(a, m1), instagramEntry(b, m2));
    expect(await (await postSigned(body)).json()).toEqual({ ok: true, accepted: 2 });
    expect((await repliesTo(c1))[0]!.text).toBe(HOURS);
    expect((await repliesTo(c2))[0]!.text).toBe(DEFAULT);
    expect(await (await postSigned(body)).json()).toEqual({ ok: true, accepted: 0 });
  });

  it("answers 200 for an account no tenant owns and does nothing", async () => {
    const stranger = uniqueIgsid();
    const customer = uniqueIgsid();
    const res = await postSigned(one(stranger, igText({ from: customer, to: stranger, text: "hours?" })));
    expect(await res.json()).toEqual({ ok: true, accepted: 0 });
    await settle();
    expect((await instagramSentTo(env.SANDBOX_URL, customer)).attempts).toBe(0);
    expect(await rowsFrom(customer)).toBe(0);
  });

  it("refuses a body that is not an Instagram webhook with 400", async () => {
    const res = await postSigned({ object: "page", entry: [] });
    expect(res.status).toBe(400);
  });
});
